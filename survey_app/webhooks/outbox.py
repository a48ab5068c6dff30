"""The outbox: a delivery row per event and subscriber, written in the transaction that records the event.

A stored response gets its rows in the very statement (PostgreSQL) or write (SQLite's writer thread) that stores
it (RESPONSE_FOLLOW_UP, passed to db.insert_once): an acknowledged answer always has its deliveries, and a crash
before the commit leaves neither. Closing a campaign writes its rows inside the status change's transaction.
The job worker sends them (delivery.py); `nudge` asks it to look soon after new rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import time

from survey_app.core import jobs
from survey_app.core.pg_writer import FollowUp
from survey_app.core.tables import Response, Unit
from survey_app.core.webhook_tables import WebhookDelivery, WebhookSubscription

EVENTS = {
    "response.stored": ("Có phiếu trả lời mới của người dân", "a citizen's response was stored"),
    "campaign.closed": ("Đợt khảo sát đã đóng", "the campaign was closed"),
    "index.published": ("Chỉ số đã công bố (khi đóng đợt)", "the campaign's final index was published (at closing)"),
}
RELAY_TASK = "webhooks.relay"
NUDGE_SECONDS = 0.5  # at most one wake-up of the worker per this many seconds per process, however many answers
_last_nudge = 0.0

_SUBSCRIBERS = """FROM "webhook_subscription" s WHERE s."campaign" = {campaign} AND s."active"
    AND {find}(s."events", ',response.stored,') > 0"""
RESPONSE_FOLLOW_UP = FollowUp(
    sqlite="""INSERT INTO "webhook_delivery" ("event_id", "subscription", "event_type", "subject", "status",
        "next_attempt_at", "created_at")
        SELECT 'evt_' || lower(hex(randomblob(16))), s."id", 'response.stored', CAST(? AS TEXT), 'pending', ?, ?
        """ + _SUBSCRIBERS.format(campaign="?", find="instr"),
    sqlite_arguments=lambda response_id, values: (response_id, time.time(), time.time(), values["campaign"]),
    postgres="""INSERT INTO "webhook_delivery" ("event_id", "subscription", "event_type", "subject", "status",
        "next_attempt_at", "created_at")
        SELECT 'evt_' || md5(random()::text || clock_timestamp()::text || stored."id"::text), s."id",
            'response.stored', stored."id"::text, 'pending', extract(epoch from clock_timestamp()),
            extract(epoch from clock_timestamp())
        FROM stored JOIN "webhook_subscription" s ON s."campaign" = stored."campaign" AND s."active"
            AND strpos(s."events", ',response.stored,') > 0""",
)


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(16)


def envelope(event_type: str, data: dict, at: dt.datetime | None = None) -> str:
    """The JSON body every delivery carries (Standard Webhooks' type, timestamp, data), fixed once written."""
    at = at or dt.datetime.now(dt.timezone.utc)
    return json.dumps({"type": event_type, "timestamp": at.astimezone(dt.timezone.utc).isoformat(), "data": data},
                      ensure_ascii=False, sort_keys=True, default=str)


async def record_campaign_event(campaign: dict, event_type: str, data: dict) -> int:
    """Write a delivery for each active subscriber of this campaign's event; call it inside the transaction that
    makes the event happen (db.write_transaction). Returns how many were written."""
    subscribers = await WebhookSubscription.select(WebhookSubscription.id).where(
        (WebhookSubscription.campaign == campaign["id"]) & (WebhookSubscription.active == True)  # noqa: E712
        & WebhookSubscription.events.like(f"%,{event_type},%"))
    now, body = time.time(), envelope(event_type, data)
    rows = [WebhookDelivery(event_id=new_event_id(), subscription=row["id"], event_type=event_type,
                            subject=campaign["code"], payload=body, status="pending", next_attempt_at=now,
                            created_at=now) for row in subscribers]
    if rows:
        await WebhookDelivery.insert(*rows)
    return len(rows)


async def record_response_event(response_id: int, campaign_id: int) -> int:
    """response.stored for an answer stored by another path than the counter form (a dossier's rating link):
    call it inside that answer's transaction. The body is built from the stored row at the first attempt."""
    subscribers = await WebhookSubscription.select(WebhookSubscription.id).where(
        (WebhookSubscription.campaign == campaign_id) & (WebhookSubscription.active == True)  # noqa: E712
        & WebhookSubscription.events.like("%,response.stored,%"))
    now = time.time()
    rows = [WebhookDelivery(event_id=new_event_id(), subscription=row["id"], event_type="response.stored",
                            subject=str(response_id), status="pending", next_attempt_at=now, created_at=now)
            for row in subscribers]
    if rows:
        await WebhookDelivery.insert(*rows)
    return len(rows)


async def record_closing(campaign: dict) -> int:
    """campaign.closed and index.published (the final figures are public from now on, officials' ones included)
    for a campaign being closed, inside the closing's transaction."""
    responses = await Response.count().where(Response.campaign == campaign["id"])
    province = await Unit.select(Unit.code).where(Unit.level == "province").first()
    data = {"campaign": campaign["code"], "name": campaign["name"], "mode": campaign["mode"],
            "starts_on": str(campaign["starts_on"]), "ends_on": str(campaign["ends_on"]), "responses": responses}
    index_path = f"/api/v1/units/{province['code']}/index?campaign={campaign['code']}" if province else None
    return (await record_campaign_event(campaign, "campaign.closed", data)
            + await record_campaign_event(campaign, "index.published", {**data, "index_api": index_path}))


def nudge() -> None:
    """Ask the worker to send what is due soon (after new outbox rows were committed); never waits, never fails:
    the periodic sweep sends it anyway. At most one wake-up per NUDGE_SECONDS, the last one after the window so
    the answers that came during it are not left for the sweep."""
    global _nudge_planned
    if _nudge_planned or not jobs.is_running():
        return
    _nudge_planned = True
    wait = max(0.0, _last_nudge + NUDGE_SECONDS - time.monotonic())
    asyncio.get_running_loop().call_later(wait, _wake_worker)


_nudge_planned = False
_pending_nudges: set[asyncio.Task] = set()


def _wake_worker() -> None:
    global _nudge_planned, _last_nudge
    _nudge_planned, _last_nudge = False, time.monotonic()
    task = asyncio.get_running_loop().create_task(_defer_relay())
    _pending_nudges.add(task)  # asyncio keeps only weak references to tasks
    task.add_done_callback(_pending_nudges.discard)


async def _defer_relay() -> None:
    try:
        await jobs.defer(RELAY_TASK, dedupe_key=RELAY_TASK)
    except Exception:  # noqa: BLE001 - the sweep sends it within seconds anyway
        pass
