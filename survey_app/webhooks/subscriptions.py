"""A campaign's webhook subscriptions and their deliveries: add, switch on/off, remove, list, re-send by hand.

Both doors (the staff page and the API) call these; every change is audit-logged in its own transaction.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time

from survey_app.accounts import audit
from survey_app.core.db import write_transaction
from survey_app.core.webhook_tables import WebhookDelivery, WebhookSubscription
from survey_app.webhooks.addresses import AddressRefused, check_url
from survey_app.webhooks.outbox import EVENTS, nudge

DELIVERY_STATUSES = {"pending": ("Đang chờ gửi", "pending"), "delivered": ("Đã gửi", "delivered"),
                     "failed": ("Thất bại", "failed")}
MAX_SUBSCRIPTIONS = 20  # per campaign: each one multiplies every answer's outbox rows


class SubscriptionProblems(Exception):
    """Every problem of a subscription form: field → (Vietnamese, English). Nothing was stored."""

    def __init__(self, problems: dict[str, tuple[str, str]]):
        super().__init__("; ".join(english for _, english in problems.values()))
        self.problems = problems


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _secret_problem(secret: str) -> tuple[str, str] | None:
    if not secret.startswith("whsec_"):
        return ("Khóa bí mật phải có dạng whsec_… (để trống: hệ thống tự tạo).",
                "the secret must look like whsec_… (leave it empty to have one made)")
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not 24 <= len(key) <= 64:
        return ("Khóa bí mật: sau whsec_ là 24–64 byte mã hóa base64.", "the secret: whsec_ then 24–64 bytes in base64")
    return None


async def check_subscription(form: dict, settings, campaign_id: int) -> dict:
    """The values of a new subscription, or SubscriptionProblems naming each bad field."""
    problems: dict[str, tuple[str, str]] = {}
    url = str(form.get("url") or "")
    try:
        url = await check_url(url, settings)
    except AddressRefused as refused:
        problems["url"] = (refused.message_vi, refused.message_en)
    events = [event for event in form.get("events") or [] if event]
    if not events:
        problems["events"] = ("Chọn ít nhất một sự kiện.", "choose at least one event")
    elif unknown := [event for event in events if event not in EVENTS]:
        problems["events"] = (f"Sự kiện không có: {', '.join(unknown)[:80]}; chọn trong: {', '.join(EVENTS)}.",
                              f"unknown events: {', '.join(unknown)[:80]}")
    secret = str(form.get("secret") or "").strip() or new_secret()
    if problem := _secret_problem(secret):
        problems["secret"] = problem
    if await WebhookSubscription.count().where(WebhookSubscription.campaign == campaign_id) >= MAX_SUBSCRIPTIONS:
        problems["url"] = (f"Mỗi đợt khảo sát có tối đa {MAX_SUBSCRIPTIONS} đăng ký webhook.",
                           f"at most {MAX_SUBSCRIPTIONS} webhook subscriptions per campaign")
    if problems:
        raise SubscriptionProblems(problems)
    return {"url": url, "events": "," + ",".join(event for event in EVENTS if event in events) + ",",
            "secret": secret}


async def add(campaign: dict, form: dict, settings, username: str) -> dict:
    """Store a checked subscription; returns it with its secret (shown once, to be copied into the receiver)."""
    values = await check_subscription(form, settings, campaign["id"])
    async with write_transaction():
        rows = await WebhookSubscription.insert(WebhookSubscription(
            campaign=campaign["id"], created_by=username, created_at=time.time(), active=True, **values)).returning(
            WebhookSubscription.id)
        await audit.record(username, "webhook_add", f"campaign {campaign['code']}",
                           after={"id": rows[0]["id"], "url": values["url"], "events": values["events"].strip(",")})
    return {"id": rows[0]["id"], **values}


async def listed(campaign: dict) -> list[dict]:
    """The campaign's subscriptions (no secrets) with their deliveries counted by status."""
    subscriptions = await WebhookSubscription.select(
        WebhookSubscription.id, WebhookSubscription.url, WebhookSubscription.events, WebhookSubscription.active,
        WebhookSubscription.created_by, WebhookSubscription.created_at).where(
        WebhookSubscription.campaign == campaign["id"]).order_by(WebhookSubscription.id)
    counts = await WebhookDelivery.raw(
        "SELECT d.subscription, d.status, COUNT(*) AS n FROM webhook_delivery d JOIN webhook_subscription s "
        "ON s.id = d.subscription WHERE s.campaign = {} GROUP BY d.subscription, d.status", campaign["id"])
    for subscription in subscriptions:
        subscription["events"] = subscription["events"].strip(",").split(",")
        subscription["deliveries"] = {row["status"]: row["n"] for row in counts
                                      if row["subscription"] == subscription["id"]}
    return subscriptions


async def _owned(campaign: dict, subscription_id: int) -> dict | None:
    return await WebhookSubscription.select().where(
        (WebhookSubscription.id == subscription_id) & (WebhookSubscription.campaign == campaign["id"])).first()


async def set_active(campaign: dict, subscription_id: int, active: bool, username: str) -> bool:
    """Switch a subscription on or off (off: no new deliveries; waiting ones fail as 'switched off')."""
    if await _owned(campaign, subscription_id) is None:
        return False
    async with write_transaction():
        await WebhookSubscription.update({WebhookSubscription.active: active}).where(
            WebhookSubscription.id == subscription_id)
        await audit.record(username, "webhook_on" if active else "webhook_off", f"campaign {campaign['code']}",
                           after={"id": subscription_id})
    return True


async def remove(campaign: dict, subscription_id: int, username: str) -> bool:
    """Delete a subscription and its deliveries."""
    found = await _owned(campaign, subscription_id)
    if found is None:
        return False
    async with write_transaction():
        await WebhookSubscription.delete().where(WebhookSubscription.id == subscription_id)
        await audit.record(username, "webhook_remove", f"campaign {campaign['code']}",
                           before={"id": subscription_id, "url": found["url"]})
    return True


async def deliveries(campaign: dict, status: str = "", limit: int = 200) -> list[dict]:
    """The campaign's latest deliveries (newest first): event, status, attempts, last answer and error."""
    query = WebhookDelivery.select(
        WebhookDelivery.id, WebhookDelivery.event_id, WebhookDelivery.event_type, WebhookDelivery.subject,
        WebhookDelivery.status, WebhookDelivery.attempts, WebhookDelivery.last_status, WebhookDelivery.last_error,
        WebhookDelivery.next_attempt_at, WebhookDelivery.created_at, WebhookDelivery.delivered_at,
        WebhookDelivery.subscription.url.as_alias("url"), WebhookDelivery.subscription.id.as_alias("subscription_id"),
    ).where(WebhookDelivery.subscription.campaign == campaign["id"])
    if status in DELIVERY_STATUSES:
        query = query.where(WebhookDelivery.status == status)
    return await query.order_by(WebhookDelivery.id, ascending=False).limit(limit)


async def resend(campaign: dict, delivery_id: int, username: str) -> bool:
    """Send a delivery again now (same event id and body), whatever its status; attempts start again."""
    found = await WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.status).where(
        (WebhookDelivery.id == delivery_id) & (WebhookDelivery.subscription.campaign == campaign["id"])).first()
    if found is None:
        return False
    async with write_transaction():
        await WebhookDelivery.update({WebhookDelivery.status: "pending", WebhookDelivery.attempts: 0,
                                      WebhookDelivery.next_attempt_at: time.time(),
                                      WebhookDelivery.locked_until: 0.0}).where(WebhookDelivery.id == delivery_id)
        await audit.record(username, "webhook_resend", f"campaign {campaign['code']}",
                           before={"id": delivery_id, "status": found["status"]})
    nudge()
    return True
