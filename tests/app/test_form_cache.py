"""FORM_CACHE_SECONDS: a worker reuses a counter's form for that long, then sees a closed campaign."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx

from survey_app.core.tables import Campaign
from tests.app.helpers import started_app


async def test_a_closed_campaign_is_refused_once_the_cached_form_expires(app, settings, counter_form):
    try:
        async with started_app(app, dataclasses.replace(settings, form_cache_seconds=0.5)) as cached, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=cached), base_url="http://t") as client:
            assert (await client.get(counter_form)).status_code == 200
            await Campaign.update({Campaign.status: "closed"}).where(Campaign.code == "QUAY-2026")
            within = await client.get(counter_form)
            await asyncio.sleep(0.6)
            after = await client.get(counter_form)
    finally:
        await Campaign.update({Campaign.status: "open"}).where(Campaign.code == "QUAY-2026")
    assert within.status_code == 200  # served from the worker's memory, no database read
    assert after.status_code == 410 and "kết thúc" in after.text


async def test_the_form_lookup_gives_the_rows_as_they_are_stored(app):
    from survey_app.public.services import load_counter_form
    from survey_app.core.tables import Counter, Questionnaire, Unit

    form = await load_counter_form("QUAY-2026", "SO01-Q1", "token")
    counter = await Counter.select().where(Counter.code == "SO01-Q1").first()
    assert form.campaign == await Campaign.select().where(Campaign.code == "QUAY-2026").first()
    assert form.counter == counter
    assert form.unit == await Unit.select().where(Unit.id == counter["unit"]).first()
    assert form.questionnaire == await Questionnaire.select().where(
        Questionnaire.id == form.campaign["questionnaire"]).first()
    assert form.definition.key == "counter_rating" and form.domain_ids


async def test_a_cached_form_is_served_and_an_unknown_counter_is_not_remembered(app, settings, counter_form):
    from tests.app.helpers import form_path

    async with started_app(app, dataclasses.replace(settings, form_cache_seconds=60)) as cached, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=cached), base_url="http://t") as client:
        pages = [await client.get(counter_form) for _ in range(3)]
        unknown = [(await client.get(form_path(settings, "NO-SUCH-COUNTER"))).status_code for _ in range(2)]
        assert form_path(settings, "NO-SUCH-COUNTER").removeprefix("/q/") not in cached.state.form_cache
    assert [page.status_code for page in pages] == [200, 200, 200] and "Sở Nội vụ" in pages[-1].text
    assert unknown == [404, 404]
