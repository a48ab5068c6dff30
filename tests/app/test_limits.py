"""Abuse limits: a burst from one client is refused with 429; the client is known only by a daily salted hash."""

from __future__ import annotations

import dataclasses
import datetime as dt

import httpx

from survey_app.core.limits import daily_client_hash
from tests.app.helpers import form_path, started_app


def test_client_hash_hides_the_address_and_changes_daily():
    today = daily_client_hash("secret", "203.0.113.7", dt.date(2026, 11, 23))
    assert "203.0.113.7" not in today and today.startswith("client:")
    assert today != daily_client_hash("secret", "203.0.113.7", dt.date(2026, 11, 24))
    assert today == daily_client_hash("secret", "203.0.113.7", dt.date(2026, 11, 23))


async def test_a_burst_from_one_client_gets_429_in_vietnamese(app, settings, counter_form):
    async with started_app(app, dataclasses.replace(settings, rate_limit_per_client=2)) as strict, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://t") as client:
        statuses = [(await client.post(counter_form, data={"_key": "x"})).status_code for _ in range(3)]
        refused = await client.post(counter_form, data={"_key": "x"})
        page = await client.get(counter_form)  # reading the form is never limited
    assert statuses == [422, 422, 429]
    assert refused.status_code == 429 and "quá nhanh" in refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert page.status_code == 200


async def test_a_counter_is_limited_whatever_the_client(app, settings, counter_form):
    async def post_from(strict, address: str) -> int:
        transport = httpx.ASGITransport(app=strict, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.post(counter_form, data={"_key": "x"})).status_code

    async with started_app(app, dataclasses.replace(settings, rate_limit_per_counter=2)) as strict:
        statuses = [await post_from(strict, f"203.0.113.{n}") for n in range(1, 4)]
    assert statuses == [422, 422, 429]


async def test_each_counter_has_its_own_bucket(app, settings, counter_form):
    async with started_app(app, dataclasses.replace(settings, rate_limit_per_counter=2)) as strict, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://t") as client:
        first = [(await client.post(counter_form, data={"_key": "x"})).status_code for _ in range(3)]
        other = (await client.post(form_path(settings, "SO02-Q1"), data={"_key": "x"})).status_code
    assert first == [422, 422, 429] and other == 422
