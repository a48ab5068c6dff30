"""Sending the outbox: the job worker claims due deliveries, signs them (Standard Webhooks) and posts them.

A delivery is claimed for a lease (UPDATE … RETURNING, SKIP LOCKED on PostgreSQL): a worker killed while sending
lets it go when the lease ends and the next sweep sends it again, with the same event id and body (at least once).
A receiver that fails, times out or answers non-2xx gets the delivery again after WEBHOOK_RETRY_SECONDS, doubled
at each attempt with jitter, up to WEBHOOK_RETRY_MAX_SECONDS; after WEBHOOK_MAX_ATTEMPTS it is marked failed and
waits for a person to re-send it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import random
import time

import httpx

from survey_app.core import db, jobs
from survey_app.core.tables import Response
from survey_app.core.webhook_tables import WebhookDelivery, WebhookSubscription
from survey_app.webhooks.addresses import AddressRefused, check_url
from survey_app.webhooks.outbox import RELAY_TASK, envelope

SWEEP_SECONDS = 5  # each worker looks for due deliveries this often (retries, and rows a dead worker left)
BATCH = 20  # deliveries sent side by side by one worker
USER_AGENT = "SIPAS-survey-webhooks/1"
logger = logging.getLogger("survey_app.webhooks")

CLAIM_SQL = """UPDATE "webhook_delivery" SET "locked_until" = $1 WHERE "id" IN (
    SELECT "id" FROM "webhook_delivery" WHERE "status" = 'pending' AND "next_attempt_at" <= $2
    AND "locked_until" <= $2 ORDER BY "next_attempt_at", "id" LIMIT $3 {skip_locked})
    RETURNING "id", "event_id", "subscription", "event_type", "subject", "payload", "attempts\""""
OUTCOME_SQL = """UPDATE "webhook_delivery" SET "status" = $1, "attempts" = "attempts" + 1, "last_status" = $2,
    "last_error" = $3, "next_attempt_at" = $4, "locked_until" = 0, "payload" = $5, "delivered_at" = $6
    WHERE "id" = $7"""


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks: base64 HMAC-SHA256 of "id.timestamp.body" with the secret's key (after whsec_)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, event_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"content-type": "application/json", "user-agent": USER_AGENT, "webhook-id": event_id,
            "webhook-timestamp": str(timestamp), "webhook-signature": signature(secret, event_id, timestamp, body)}


def next_wait(attempts: int, settings) -> float:
    """Seconds before the next attempt after `attempts` failed ones: doubling, capped, times a random 0.5–1
    (full doubling for everyone would bring every waiting delivery back at the same moment)."""
    doubled = settings.webhook_retry_seconds * 2 ** min(attempts - 1, 30)
    return min(settings.webhook_retry_max_seconds, doubled) * random.uniform(0.5, 1.0)


@jobs.task(RELAY_TASK)
async def relay() -> None:
    """Send every due delivery (the worker runs this on a nudge, on the sweep, and at the next retry's time)."""
    settings = jobs.settings()
    timeout = httpx.Timeout(settings.webhook_timeout_seconds)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        while claimed := await claim(settings):
            outcomes = await asyncio.gather(*(deliver(client, settings, row) for row in claimed), return_exceptions=True)
            for failure in (outcome for outcome in outcomes if isinstance(outcome, Exception)):  # its lease ends:
                logger.error("webhook delivery not recorded: %r", failure)  # it is sent again (same event id)
    await plan_next_retry()


jobs.every(RELAY_TASK, SWEEP_SECONDS)


async def claim(settings) -> list[dict]:
    """Up to BATCH due deliveries, held for this worker for a lease longer than one attempt can take."""
    now = time.time()
    if not await WebhookDelivery.exists().where(
            (WebhookDelivery.status == "pending") & (WebhookDelivery.next_attempt_at <= now)
            & (WebhookDelivery.locked_until <= now)):
        return []  # a read, not a write: an idle sweep never takes SQLite's write lock
    lease = now + 2 * settings.webhook_timeout_seconds + 5
    skip_locked = "" if db.on_sqlite() else "FOR UPDATE SKIP LOCKED"
    return await db.write_returning(CLAIM_SQL.format(skip_locked=skip_locked), lease, now, BATCH)


async def plan_next_retry() -> None:
    """Run again when the earliest waiting retry is due, if that comes before the next sweep."""
    rows = await WebhookDelivery.raw(
        "SELECT MIN(next_attempt_at) AS due FROM webhook_delivery WHERE status = 'pending'")
    due = rows[0]["due"] if rows else None
    if due is not None and due - time.time() < SWEEP_SECONDS:
        await jobs.defer(RELAY_TASK, dedupe_key=RELAY_TASK + ":retry", delay=max(0.0, due - time.time()))


async def deliver(client: httpx.AsyncClient, settings, row: dict) -> None:
    subscription = await WebhookSubscription.select().where(WebhookSubscription.id == row["subscription"]).first()
    body = row["payload"] or await payload_of(row)
    if subscription is None or not subscription["active"] or body is None:
        why = "Đăng ký webhook đã tắt hoặc đã bị xóa." if body is not None else "Phiếu trả lời không còn trong cơ sở dữ liệu."
        await _record(row, "failed", None, why, body, settings)
        return
    status, error = await post(client, settings, subscription, row["event_id"], body)
    if status is not None and 200 <= status < 300:
        await _record(row, "delivered", status, "", body, settings)
    else:
        final = row["attempts"] + 1 >= settings.webhook_max_attempts
        await _record(row, "failed" if final else "pending", status, error, body, settings)


async def post(client: httpx.AsyncClient, settings, subscription: dict, event_id: str,
               body: str) -> tuple[int | None, str]:
    """(the receiver's status or None, what went wrong in Vietnamese or "")."""
    content = body.encode()
    try:
        url = await check_url(subscription["url"], settings)
        answer = await client.post(url, content=content, headers=signed_headers(subscription["secret"], event_id, content))
    except AddressRefused as refused:
        return None, refused.message_vi
    except httpx.TimeoutException:
        return None, f"Quá thời gian chờ ({settings.webhook_timeout_seconds:g} giây) mà bên nhận chưa trả lời."
    except httpx.HTTPError as error:
        return None, f"Không kết nối được tới bên nhận ({type(error).__name__})."
    if 200 <= answer.status_code < 300:
        return answer.status_code, ""
    return answer.status_code, f"Bên nhận trả lời HTTP {answer.status_code}: {answer.text[:200]}"


async def _record(row: dict, status: str, http_status: int | None, error: str, body: str | None, settings) -> None:
    now = time.time()
    next_attempt = now + next_wait(row["attempts"] + 1, settings) if status == "pending" else now
    await db.write_returning(OUTCOME_SQL, status, http_status, error[:1000], next_attempt, body,
                             now if status == "delivered" else None, row["id"])
    if status == "failed":
        logger.warning("webhook delivery %s (%s) failed for good: %s", row["id"], row["event_type"], error)


async def payload_of(row: dict) -> str | None:
    """The body of a response.stored delivery, built from the stored row at its first attempt (and kept): the
    answers exactly as recorded, with their digest. None when the response is gone."""
    if row["event_type"] != "response.stored" or not row["subject"].isdigit():
        return None
    found = await Response.select(
        Response.id, Response.campaign.code.as_alias("campaign"), Response.unit.code.as_alias("unit"),
        Response.counter.code.as_alias("counter"), Response.domain.code.as_alias("domain"),
        Response.questionnaire.key.as_alias("questionnaire"),
        Response.questionnaire.version.as_alias("questionnaire_version"), Response.channel, Response.answers,
        Response.answers_digest, Response.submitted_at).where(Response.id == int(row["subject"])).first()
    if found is None:
        return None
    answers = found.pop("answers")
    data = {**found, "response_id": found.pop("id"), "answers": json.loads(answers) if isinstance(answers, str) else answers,
            "submitted_at": found["submitted_at"].isoformat()}
    return envelope("response.stored", data, at=found["submitted_at"])
