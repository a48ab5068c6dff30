"""Webhooks out (issue #21): URL checks, the staff page and API, the outbox written with the response, signed
deliveries verified by the reference library, retries with backoff, failure and re-sending by hand."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from survey_app.core import jobs
from survey_app.core.tables import Campaign, Response
from survey_app.core.webhook_tables import WebhookDelivery, WebhookSubscription
from survey_app.webhooks import addresses, delivery, subscriptions
from tests.app.helpers import counter_definition, filled_form, post_form
from tests.app.webhook_receiver import Receiver


@pytest.fixture
def fast(settings, monkeypatch):
    """The running engine's settings with the loopback receiver allowed and retries in tenths of a second."""
    quick = dataclasses.replace(settings, webhook_allow_hosts="127.0.0.1", webhook_timeout_seconds=1.0,
                                webhook_retry_seconds=0.1, webhook_retry_max_seconds=0.4, webhook_max_attempts=3)
    monkeypatch.setattr(jobs.current(), "settings", quick)
    return quick


@pytest.fixture(autouse=True)
def leave_the_form_limits_as_found(app):
    """These tests post many answers from the one test client: the per-client limit's counts are put back after
    each, so the tests that run later in the session are not refused with 429."""
    counter = app.state.form_posts.counter
    saved = dict(getattr(counter, "_windows", {}))
    yield
    if hasattr(counter, "_windows"):
        counter._windows = saved


@pytest.fixture
async def clean_webhooks(app):
    await WebhookSubscription.delete(force=True)
    yield
    await WebhookSubscription.delete(force=True)


async def quay_campaign() -> dict:
    return await Campaign.select().where(Campaign.code == "QUAY-2026").first()


async def subscribe(receiver: Receiver, settings, events=("response.stored",), campaign=None) -> dict:
    receiver.secret = subscriptions.new_secret()
    return await subscriptions.add(campaign or await quay_campaign(), {
        "url": receiver.url, "events": list(events), "secret": receiver.secret}, settings, "analyst")


async def submit(client, counter_form, count: int) -> list[str]:
    keys = []
    for _ in range(count):
        form = filled_form(counter_definition())
        answer = await client.post(counter_form, data=form)
        assert answer.status_code in (200, 303), answer.text[:300]
        keys.append(form["_key"])
    return keys


async def wait_until(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not within the time")


@pytest.mark.parametrize("url, fragment", [
    ("", "Nhập địa chỉ URL"),
    ("ftp://example.com/hook", "http:// hoặc https://"),
    ("javascript:alert(1)", "http:// hoặc https://"),
    ("http://user:pw@example.com/", "mật khẩu"),
    ("http://127.0.0.1:9/hook", "mạng nội bộ"),
    ("http://localhost/hook", "mạng nội bộ"),
    ("http://[::1]/hook", "mạng nội bộ"),
    ("http://10.1.2.3/hook", "mạng nội bộ"),
    ("http://192.168.0.10/hook", "mạng nội bộ"),
    ("http://169.254.169.254/latest/meta-data", "mạng nội bộ"),
    ("http://[::ffff:127.0.0.1]/hook", "mạng nội bộ"),
    ("http://127.0.0.1:8000/api/v1/units", "chính máy chủ"),  # BASE_URL: the server itself
    ("http://example.com:99999/", "Cổng"),
])
def test_a_url_that_is_not_http_or_points_inside_is_refused(url, fragment):
    with pytest.raises(addresses.AddressRefused) as refused:
        addresses.check_url_sync(url, "http://127.0.0.1:8000", "")
    assert fragment in refused.value.message_vi


def test_the_allow_list_lets_a_named_network_in():
    assert addresses.check_url_sync("http://127.0.0.1:9/hook", "http://127.0.0.1:8000", "127.0.0.0/8")
    assert addresses.check_url_sync("http://10.1.2.3/hook", "http://127.0.0.1:8000", "10.1.0.0/16")
    with pytest.raises(addresses.AddressRefused):
        addresses.check_url_sync("http://10.2.0.1/hook", "http://127.0.0.1:8000", "10.1.0.0/16")
    with pytest.raises(addresses.AddressRefused):  # the server itself, even on an allowed network
        addresses.check_url_sync("http://127.0.0.1:8000/x", "http://127.0.0.1:8000", "127.0.0.0/8")


def test_signatures_verify_with_the_reference_library():
    from standardwebhooks import Webhook

    secret, body = subscriptions.new_secret(), '{"type": "x", "data": {"tên": "Sở"}}'.encode()
    headers = delivery.signed_headers(secret, "evt_1", body)
    assert Webhook(secret).verify(body, headers)["data"] == {"tên": "Sở"}
    with pytest.raises(Exception):
        Webhook(subscriptions.new_secret()).verify(body, headers)


def test_backoff_doubles_with_jitter_up_to_the_maximum(settings):
    timing = dataclasses.replace(settings, webhook_retry_seconds=10, webhook_retry_max_seconds=300)
    waits = {attempt: [delivery.next_wait(attempt, timing) for _ in range(200)] for attempt in (1, 2, 3, 10)}
    assert 5 <= min(waits[1]) and max(waits[1]) <= 10
    assert 10 <= min(waits[2]) and max(waits[2]) <= 20
    assert 20 <= min(waits[3]) and max(waits[3]) <= 40
    assert 150 <= min(waits[10]) and max(waits[10]) <= 300
    assert len(set(waits[1])) > 100  # jitter: the waiting deliveries do not all come back at once


async def test_the_staff_page_refuses_each_bad_field_and_stores_nothing(analyst, clean_webhooks):
    page = "/analyst/campaigns/QUAY-2026/webhooks"
    answer = await post_form(analyst, page, {"url": "ftp://tinh.gov.vn/x", "events": "no.such", "secret": "abc"},
                             page_path=page)
    assert answer.status_code == 422
    assert "http:// hoặc https://" in answer.text and "Sự kiện không có" in answer.text
    assert "whsec_" in answer.text and 'id="url-error"' in answer.text
    answer = await post_form(analyst, page, {"url": "http://127.0.0.1:5/x"}, page_path=page)
    assert answer.status_code == 422 and "mạng nội bộ" in answer.text and "Chọn ít nhất một sự kiện" in answer.text
    assert await WebhookSubscription.count() == 0


async def test_the_staff_page_adds_lists_and_removes_a_subscription(analyst, clean_webhooks, monkeypatch):
    page = "/analyst/campaigns/QUAY-2026/webhooks"
    monkeypatch.setattr(addresses, "_resolve", lambda host, port: [__import__("ipaddress").ip_address("93.184.215.14")])
    answer = await post_form(analyst, page, {"url": "https://he-thong.tinh.gov.vn/hook", "events": "response.stored"},
                             page_path=page)
    assert answer.status_code == 200 and "chỉ hiện một lần" in answer.text and 'value="whsec_' in answer.text
    stored = await WebhookSubscription.select().first()
    assert stored["url"] == "https://he-thong.tinh.gov.vn/hook" and stored["events"] == ",response.stored,"
    listing = (await analyst.get(page)).text
    assert "he-thong.tinh.gov.vn" in listing and stored["secret"] not in listing  # the secret only once
    answer = await post_form(analyst, f"{page}/{stored['id']}/delete", page_path=page)
    assert answer.status_code == 303 and await WebhookSubscription.count() == 0


async def test_a_stored_answer_is_delivered_once_signed_with_the_answers_as_stored(
        app, client, counter_form, settings, fast, clean_webhooks):
    with Receiver() as receiver:
        await subscribe(receiver, fast)
        keys = await submit(client, counter_form, 3)
        await wait_until(lambda: _true(len(receiver.events("response.stored")) >= 3))
        stored = {row["id"]: row for row in await Response.select(
            Response.id, Response.answers_digest, Response.idempotency_key).where(Response.idempotency_key.is_in(keys))}
        events = receiver.events("response.stored")
        assert {event["data"]["response_id"] for event in events} == set(stored)
        for event in events:
            assert event["data"]["answers_digest"] == stored[event["data"]["response_id"]]["answers_digest"]
            assert event["data"]["campaign"] == "QUAY-2026" and event["data"]["unit"] == "SO01"
        assert receiver.bad_signatures == 0 and set(receiver.copies_per_event().values()) == {1}
        rows = await WebhookDelivery.select().where(WebhookDelivery.subject.is_in([str(i) for i in stored]))
        assert {(row["status"], row["attempts"], row["last_status"]) for row in rows} == {("delivered", 1, 200)}


async def _true(value) -> bool:
    return value


async def test_a_replayed_submission_writes_no_second_delivery(app, client, counter_form, fast, clean_webhooks):
    with Receiver() as receiver:
        await subscribe(receiver, fast)
        form = filled_form(counter_definition())
        for _ in range(3):  # the phone retries the same submission
            assert (await client.post(counter_form, data=form)).status_code in (200, 303)
        response_id = (await Response.select(Response.id).where(Response.idempotency_key == form["_key"]).first())["id"]
        assert await WebhookDelivery.count().where(WebhookDelivery.subject == str(response_id)) == 1


async def test_a_failing_receiver_gets_retries_then_the_delivery_fails_and_is_resent_by_hand(
        app, client, counter_form, fast, clean_webhooks, analyst):
    with Receiver() as receiver:
        receiver.behaviour = "fail"
        await subscribe(receiver, fast)
        await submit(client, counter_form, 1)

        async def failed() -> bool:
            return await WebhookDelivery.count().where(WebhookDelivery.status == "failed") == 1
        await wait_until(failed)
        row = await WebhookDelivery.select().first()
        assert row["attempts"] == 3 and row["last_status"] == 500 and "HTTP 500" in row["last_error"]
        assert receiver.attempts == 3 and receiver.accepted == []
        page = (await analyst.get("/analyst/campaigns/QUAY-2026/webhooks")).text
        assert "Thất bại" in page and "HTTP 500" in page

        receiver.behaviour = "ok"
        answer = await post_form(analyst, f"/analyst/campaigns/QUAY-2026/webhooks/deliveries/{row['id']}/resend",
                                 page_path="/analyst/campaigns/QUAY-2026/webhooks")
        assert answer.status_code == 303
        await wait_until(lambda: _true(len(receiver.accepted) == 1))
        assert receiver.events()[0]["_id"] == row["event_id"]  # the same event id as every attempt before
        await wait_until(lambda: _status_is(row["id"], "delivered"))


async def _status_is(delivery_id: int, status: str) -> bool:
    return (await WebhookDelivery.select(WebhookDelivery.status).where(WebhookDelivery.id == delivery_id).first())[
        "status"] == status


async def test_a_slow_receiver_never_slows_a_submission(app, client, counter_form, fast, clean_webhooks,
                                                        monkeypatch):
    """The receiver takes 5 s (the sender waits up to 10): a submission that waited on it would take 5 s."""
    monkeypatch.setattr(jobs.current(), "settings", dataclasses.replace(fast, webhook_timeout_seconds=10.0))
    with Receiver() as receiver:
        receiver.behaviour, receiver.slow_seconds = "slow", 5.0
        await subscribe(receiver, fast)
        slowest = 0.0
        for _ in range(10):
            started = time.monotonic()
            await submit(client, counter_form, 1)
            slowest = max(slowest, time.monotonic() - started)
            await asyncio.sleep(0.2)  # the worker is sending (and waiting on the receiver) meanwhile
        assert receiver.attempts >= 1  # deliveries were under way
        assert slowest < 2.5  # far below the receiver's 5 s (a loaded test machine answers a post in ~0.1-1 s)


async def test_closing_a_campaign_sends_campaign_closed_and_index_published(
        app, fast, clean_webhooks, analyst):
    from tests.app.analyst_helpers import copy_campaign, delete_campaign
    import datetime as dt

    campaign_id = await copy_campaign("QUAY-2026", "HOOK-CLOSE", dt.date(2026, 1, 1), {"SO01": 2})
    await Campaign.update({Campaign.status: "open"}).where(Campaign.id == campaign_id)
    try:
        with Receiver() as receiver:
            campaign = await Campaign.select().where(Campaign.id == campaign_id).first()
            await subscribe(receiver, fast, events=("campaign.closed", "index.published"), campaign=campaign)
            from survey_app.campaigns.services import change_status
            await change_status(campaign, "close", "analyst", "hết đợt")
            await wait_until(lambda: _true(len(receiver.accepted) == 2))
            closed, published = receiver.events("campaign.closed")[0], receiver.events("index.published")[0]
            assert closed["data"]["campaign"] == "HOOK-CLOSE" and closed["data"]["responses"] == 2
            assert published["data"]["index_api"].endswith("/index?campaign=HOOK-CLOSE")
    finally:
        await WebhookSubscription.delete(force=True)
        await delete_campaign(campaign_id)


async def test_the_api_needs_a_webhooks_token_and_reports_each_bad_field(app, client, settings, clean_webhooks):
    from survey_app.accounts import api_tokens

    token = await api_tokens.issue(settings.secret_key, "analyst", "hệ thống tỉnh", ["webhooks"], "30", actor="admin")
    results_only = await api_tokens.issue(settings.secret_key, "analyst", "đọc", ["results"], "30", actor="admin")
    path = "/api/v1/campaigns/QUAY-2026/webhooks"
    assert (await client.get(path, headers={"Authorization": f"Bearer {results_only}"})).status_code == 403
    bearer = {"Authorization": f"Bearer {token}"}
    refused = await client.post(path, json={"url": "http://10.0.0.1/x", "events": ["nope"]}, headers=bearer)
    assert refused.status_code == 422
    assert {error["field"] for error in refused.json()["errors"]} == {"url", "events"}
    assert await WebhookSubscription.count() == 0
    listed = await client.get(path, headers=bearer)
    assert listed.status_code == 200 and listed.json() == {"subscriptions": []}
    deliveries = await client.get("/api/v1/campaigns/QUAY-2026/webhook-deliveries", headers=bearer)
    assert deliveries.status_code == 200 and deliveries.json() == {"deliveries": []}
    form_post = await client.post(path, data={"url": "https://example.org/x"}, headers=bearer)
    assert form_post.status_code == 415 and await WebhookSubscription.count() == 0


async def test_the_api_adds_a_subscription_and_returns_its_secret_once(app, client, settings, clean_webhooks,
                                                                      monkeypatch):
    from survey_app.accounts import api_tokens

    monkeypatch.setattr(addresses, "_resolve", lambda host, port: [__import__("ipaddress").ip_address("93.184.215.14")])
    bearer = {"Authorization": "Bearer " + await api_tokens.issue(settings.secret_key, "analyst", "tỉnh",
                                                                  ["webhooks"], "30", actor="admin")}
    path = "/api/v1/campaigns/QUAY-2026/webhooks"
    added = await client.post(path, json={"url": "https://hcc.tinh.gov.vn/hook", "events": ["response.stored"]},
                              headers=bearer)
    assert added.status_code == 201 and added.json()["secret"].startswith("whsec_")
    listed = (await client.get(path, headers=bearer)).json()["subscriptions"]
    assert [row["url"] for row in listed] == ["https://hcc.tinh.gov.vn/hook"] and "secret" not in listed[0]
    removed = await client.delete(f"{path}/{added.json()['id']}",
                                  headers={**bearer, "content-type": "application/json"})
    assert removed.status_code == 204 and await WebhookSubscription.count() == 0


async def test_an_answer_stored_by_another_path_gets_its_delivery_in_its_transaction(app, settings, clean_webhooks,
                                                                                    fast):
    """A dossier's rating link stores its answer with Piccolo in a transaction of its own (dossiers/rating.py):
    response.stored is written inside it, for active subscribers only; a rolled-back answer writes none."""
    from survey_app.core.db import write_transaction
    from survey_app.webhooks import outbox

    with Receiver() as receiver:
        subscription = await subscribe(receiver, fast)
        campaign = await quay_campaign()
        async with write_transaction():
            assert await outbox.record_response_event(424242, campaign["id"]) == 1
        with pytest.raises(RuntimeError):
            async with write_transaction():
                await outbox.record_response_event(434343, campaign["id"])
                raise RuntimeError("the answer's transaction fails")
        await subscriptions.set_active(campaign, subscription["id"], False, "analyst")
        async with write_transaction():
            assert await outbox.record_response_event(444444, campaign["id"]) == 0
        subjects = {row["subject"] for row in await WebhookDelivery.select(WebhookDelivery.subject)}
        assert subjects == {"424242"}
