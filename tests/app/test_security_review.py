"""Findings of the security review (issue #17): each test fails without its fix."""

from __future__ import annotations

import dataclasses
import logging

import httpx

from survey_app.officials.services import COOKIE_NAME
from tests.app.helpers import counter_definition, filled_form, form_path, started_app


def forged(token_path: str) -> str:
    """The same counter and campaign with a wrong signature."""
    return token_path[:-4] + ("AAAA" if not token_path.endswith("AAAA") else "BBBB")


async def test_forged_tokens_do_not_spend_a_real_counters_limit(app, settings, counter_form):
    async with started_app(app, dataclasses.replace(settings, rate_limit_per_counter=2,
                                                    rate_limit_per_client=100)) as strict:
        statuses = []
        for number in range(1, 6):  # forged posts from five addresses, all naming the real counter SO01-Q1
            transport = httpx.ASGITransport(app=strict, client=(f"203.0.113.{number}", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                statuses.append((await client.post(forged(counter_form), data={"_key": "x"})).status_code)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://t") as citizen:
            real = await citizen.post(counter_form, data=filled_form(counter_definition()))
    assert statuses == [403] * 5
    assert real.status_code == 303  # the counter's own limit (2) is untouched by the forgeries


async def test_a_non_ascii_qr_signature_is_refused_not_a_500(client, counter_form):
    path = counter_form[:-2] + "ÿé"
    shown, posted = await client.get(path), await client.post(path, data={"_key": "x"})
    assert (shown.status_code, posted.status_code) == (403, 403)
    assert "Mã QR không hợp lệ" in shown.text


async def test_a_non_ascii_official_cookie_is_refused_not_a_500(client):
    for value in ("1.9999999999.é" + "a" * 31, "².9999999999." + "a" * 32):
        page = await client.get("/o/0", headers={"cookie": f"{COOKIE_NAME}={value}".encode()})
        assert page.status_code == 403 and "Phiên làm việc đã hết hạn" in page.text


async def test_an_unexpected_failure_is_logged_once_with_request_id_and_traceback(client, monkeypatch, caplog):
    from survey_app import health

    async def broken(engine):
        raise RuntimeError("boom in ping")

    monkeypatch.setattr(health.db, "ping", broken)
    with caplog.at_level(logging.ERROR, logger="survey_app"):
        answer = await client.get("/readyz?code=ABCD-EFGH-JK")
    records = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert answer.status_code == 500
    request_id = answer.headers["x-request-id"]
    assert len(records) == 1 and request_id in records[0].getMessage()
    assert records[0].exc_info and "boom in ping" in caplog.text and "Traceback" in caplog.text
    assert "ABCD-EFGH-JK" not in caplog.text  # no query string: it may carry an invitation code


async def test_a_url_cannot_forge_a_log_line(client, counter_form, caplog):
    with caplog.at_level(logging.WARNING, logger="survey_app"):
        await client.get(counter_form[:-4] + "%0AINJECTED%00line")
    messages = [record.getMessage() for record in caplog.records if "QR token refused" in record.getMessage()]
    assert messages and all("\n" not in message and "\x00" not in message for message in messages)
    assert "\\x0aINJECTED\\x00line" in messages[-1]
