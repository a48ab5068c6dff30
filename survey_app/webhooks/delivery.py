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
BATCH = 50  # deliveries sent side by side by one worker
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
            await send_batch(client, settings, claimed)
    await plan_next_retry()


async def send_batch(client: httpx.AsyncClient, settings, claimed: list[dict]) -> None:
    """One read of the subscriptions and of the answers, the posts side by side, one write of the outcomes."""
    targets = await targets_of({row["subscription"] for row in claimed}, settings)
    bodies = await bodies_of(claimed)
    outcomes = await asyncio.gather(*(attempt(client, settings, row, targets, bodies) for row in claimed),
                                    return_exceptions=True)
    done = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    for failure in (outcome for outcome in outcomes if isinstance(outcome, BaseException)):  # its lease ends:
        logger.error("webhook delivery not sent: %r", failure)  # it is sent again (same event id)
    await record_outcomes(done, settings)


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


async def targets_of(subscription_ids: set[int], settings) -> dict[int, tuple[dict | None, str]]:
    """Each subscription with why it cannot be sent to now ("" when it can): switched off, deleted, or its URL
    refused (checked again at each send: a name may resolve elsewhere by now)."""
    rows = await WebhookSubscription.select().where(WebhookSubscription.id.is_in(list(subscription_ids)))
    found = {row["id"]: row for row in rows}
    targets = {}
    for subscription_id in subscription_ids:
        subscription = found.get(subscription_id)
        if subscription is None or not subscription["active"]:
            targets[subscription_id] = (None, "Đăng ký webhook đã tắt hoặc đã bị xóa.")
            continue
        try:
            await check_url(subscription["url"], settings)
            targets[subscription_id] = (subscription, "")
        except AddressRefused as refused:
            targets[subscription_id] = (subscription, refused.message_vi)
    return targets


async def attempt(client: httpx.AsyncClient, settings, row: dict, targets: dict, bodies: dict) -> tuple:
    """(row, new status, the receiver's status or None, the error, the body) of one attempt."""
    subscription, refusal = targets[row["subscription"]]
    body = row["payload"] or bodies.get(row["subject"])
    if subscription is None or body is None:
        return row, "failed", None, refusal or "Phiếu trả lời không còn trong cơ sở dữ liệu.", body
    status, error = (None, refusal) if refusal else await post(client, settings, subscription, row["event_id"], body)
    if status is not None and 200 <= status < 300:
        return row, "delivered", status, "", body
    final = row["attempts"] + 1 >= settings.webhook_max_attempts
    return row, "failed" if final else "pending", status, error, body


async def post(client: httpx.AsyncClient, settings, subscription: dict, event_id: str,
               body: str) -> tuple[int | None, str]:
    """(the receiver's status or None, what went wrong in Vietnamese or "")."""
    content = body.encode()
    try:
        answer = await client.post(subscription["url"], content=content,
                                   headers=signed_headers(subscription["secret"], event_id, content))
    except httpx.TimeoutException:
        return None, f"Quá thời gian chờ ({settings.webhook_timeout_seconds:g} giây) mà bên nhận chưa trả lời."
    except httpx.HTTPError as error:
        return None, f"Không kết nối được tới bên nhận ({type(error).__name__})."
    if 200 <= answer.status_code < 300:
        return answer.status_code, ""
    return answer.status_code, f"Bên nhận trả lời HTTP {answer.status_code}: {answer.text[:200]}"


async def record_outcomes(outcomes: list[tuple], settings) -> None:
    """Every attempt's outcome in one write (the body is kept, so a later attempt sends the very same bytes)."""
    now, rows = time.time(), []
    for row, status, http_status, error, body in outcomes:
        next_attempt = now + next_wait(row["attempts"] + 1, settings) if status == "pending" else now
        rows.append((status, http_status, error[:1000], next_attempt, body, now if status == "delivered" else None,
                     row["id"]))
        if status == "failed":
            logger.warning("webhook delivery %s (%s) failed for good: %s", row["id"], row["event_type"], error)
    if rows:
        await db.write_many(OUTCOME_SQL, rows)


async def bodies_of(claimed: list[dict]) -> dict[str, str]:
    """The bodies of the response.stored deliveries that have none yet, by response id: one read for the batch."""
    wanted = [int(row["subject"]) for row in claimed if row["payload"] is None
              and row["event_type"] == "response.stored" and row["subject"].isdecimal()]
    if not wanted:
        return {}
    found = await Response.select(
        Response.id, Response.campaign.code.as_alias("campaign"), Response.unit.code.as_alias("unit"),
        Response.counter.code.as_alias("counter"), Response.domain.code.as_alias("domain"),
        Response.questionnaire.key.as_alias("questionnaire"),
        Response.questionnaire.version.as_alias("questionnaire_version"), Response.channel, Response.answers,
        Response.answers_digest, Response.submitted_at).where(Response.id.is_in(wanted))
    return {str(row["id"]): response_body(row) for row in found}


def response_body(found: dict) -> str:
    """The body of a response.stored delivery, from the stored row: the answers exactly as recorded, with their
    digest. Built the same way at every attempt until it is kept."""
    found = dict(found)
    answers, response_id = found.pop("answers"), found.pop("id")
    data = {**found, "response_id": response_id, "submitted_at": found["submitted_at"].isoformat(),
            "answers": json.loads(answers) if isinstance(answers, str) else answers}
    return envelope("response.stored", data, at=found["submitted_at"])
