"""A campaign's webhooks: the staff page (analyst, admin) and the JSON API for machine clients (token scope
"webhooks"). Both call survey_app.webhooks.subscriptions."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, Request, delete, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from survey_app.accounts import access
from survey_app.core.errors import error_body
from survey_app.core.tables import Campaign
from survey_app.webhooks import subscriptions
from survey_app.webhooks.outbox import EVENTS

NO_STORE = {"Cache-Control": "no-store"}
NOT_JSON = {415: ResponseSpec(data_container=None, description="the body is not sent as application/json",
                              generate_examples=False)}  # the page that shows a new secret must not stay in any cache


async def found_campaign(code: str) -> dict:
    campaign = await Campaign.select(Campaign.id, Campaign.code, Campaign.name, Campaign.status).where(
        Campaign.code == code).first()
    if campaign is None:
        raise NotFoundException(f"Không có đợt khảo sát với mã {code[:40]!r}.")
    return campaign


def as_time(seconds: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc) if seconds else None


def shown_deliveries(rows: list[dict]) -> list[dict]:
    return [{**row, "created": as_time(row["created_at"]), "delivered": as_time(row["delivered_at"]),
             "next_attempt": as_time(row["next_attempt_at"]) if row["status"] == "pending" else None} for row in rows]


class WebhookPageController(Controller):
    path = "/analyst/campaigns/{code:str}/webhooks"
    opt = access("analyst", "admin")

    @get()
    async def index(self, request: Request, code: FromPath[str], status: FromQuery[str] = "") -> Template:
        return await self.page(request, await found_campaign(code), status=status[:12])

    @staticmethod
    async def page(request: Request, campaign: dict, errors: dict | None = None, form: dict | None = None,
                   notice: str = "", new_secret: str = "", status: str = "") -> Template:
        page = Template(template_name="analyst_webhooks.html", status_code=422 if errors else 200, context={
            "user": request.user, "campaign": campaign, "subscriptions": await subscriptions.listed(campaign),
            "deliveries": shown_deliveries(await subscriptions.deliveries(campaign, status)), "events": EVENTS,
            "statuses": subscriptions.DELIVERY_STATUSES, "chosen_status": status, "errors": errors or {},
            "form": form or {}, "notice": notice, "new_secret": new_secret})
        page.headers.update(NO_STORE)
        return page

    @post(status_code=200)
    async def add(self, request: Request, code: FromPath[str]) -> Template:
        campaign = await found_campaign(code)
        form = await request.form()
        values = {"url": form.get("url", ""), "events": form.getall("events", []), "secret": form.get("secret", "")}
        try:
            added = await subscriptions.add(campaign, values, request.app.state.settings, request.user.username)
        except subscriptions.SubscriptionProblems as refused:
            errors = {field: vi for field, (vi, _) in refused.problems.items()}
            return await self.page(request, campaign, errors, form=values)
        return await self.page(request, campaign, notice="Đã thêm đăng ký webhook. Hãy chép khóa bí mật vào hệ "
                               "thống nhận ngay: khóa chỉ hiện một lần này.", new_secret=added["secret"])

    @post("/{subscription_id:int}/active", status_code=303)
    async def switch(self, request: Request, code: FromPath[str], subscription_id: FromPath[int]) -> Redirect:
        active = (await request.form()).get("active") == "1"
        return await changed(code, lambda campaign: subscriptions.set_active(
            campaign, subscription_id, active, request.user.username))

    @post("/{subscription_id:int}/delete", status_code=303)
    async def remove(self, request: Request, code: FromPath[str], subscription_id: FromPath[int]) -> Redirect:
        return await changed(code, lambda campaign: subscriptions.remove(
            campaign, subscription_id, request.user.username))

    @post("/deliveries/{delivery_id:int}/resend", status_code=303)
    async def resend(self, request: Request, code: FromPath[str], delivery_id: FromPath[int]) -> Redirect:
        return await changed(code, lambda campaign: subscriptions.resend(campaign, delivery_id, request.user.username),
                             missing="Không có lần gửi này trong đợt khảo sát.", anchor=f"#d{delivery_id}")


async def changed(code: str, change, missing: str = "Không có đăng ký webhook này trong đợt khảo sát.",
                  anchor: str = "") -> Redirect:
    """Apply a change to one of the campaign's subscriptions or deliveries (False: not in this campaign, a 404),
    then back to the webhooks page."""
    if not await change(await found_campaign(code)):
        raise NotFoundException(missing)
    return Redirect(path=f"/analyst/campaigns/{code}/webhooks{anchor}", status_code=303)


def json_only(request: Request) -> None:
    """A change through the API says it is JSON: the API has no CSRF token (machine clients use a bearer token),
    and a page of another site cannot send a signed-in browser's form with that content type (415 otherwise)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise HTTPException(status_code=415, detail="API webhook nhận dữ liệu JSON (Content-Type: application/json).")


def delivery_json(row: dict) -> dict:
    return {"id": row["id"], "event_id": row["event_id"], "event": row["event_type"], "subject": row["subject"],
            "subscription": row["subscription_id"], "status": row["status"], "attempts": row["attempts"],
            "last_status": row["last_status"], "last_error": row["last_error"],
            "next_attempt_at": row["next_attempt_at"] if row["status"] == "pending" else None,
            "created_at": row["created_at"], "delivered_at": row["delivered_at"]}


class WebhookApiController(Controller):
    """/api/v1/campaigns/{code}/webhooks: list, add, remove subscriptions; list and re-send deliveries."""

    path = "/api/v1/campaigns/{code:str}"
    opt = {**access("analyst", "admin"), "exclude_from_csrf": True}
    tags = ["webhooks"]

    @get("/webhooks")
    async def list_subscriptions(self, request: Request, code: FromPath[str]) -> dict:
        """The campaign's subscriptions (never their secrets) with their deliveries counted by status."""
        return {"subscriptions": await subscriptions.listed(await found_campaign(code))}

    @post("/webhooks", status_code=201, responses=NOT_JSON)
    async def add_subscription(self, request: Request, code: FromPath[str]) -> Response:
        """Add a subscription: {"url": …, "events": [...], "secret"?: "whsec_…"}; the answer carries the secret
        (made when none was given) this once. 422 with one entry per bad field; nothing stored."""
        json_only(request)
        campaign = await found_campaign(code)
        try:
            body = await request.json()
        except Exception:  # noqa: BLE001 - any unreadable body is the client's mistake
            body = None
        if not isinstance(body, dict):
            return Response(error_body(422, "Thân yêu cầu phải là một đối tượng JSON."), status_code=422)
        events = body.get("events")
        values = {"url": str(body.get("url") or ""), "events": [str(event) for event in events]
                  if isinstance(events, list) else [], "secret": str(body.get("secret") or "")}
        try:
            added = await subscriptions.add(campaign, values, request.app.state.settings, request.user.username)
        except subscriptions.SubscriptionProblems as refused:
            errors = [{"field": field, "message": vi, "message_en": en} for field, (vi, en) in refused.problems.items()]
            return Response(error_body(422, "Đăng ký webhook chưa hợp lệ.", errors), status_code=422)
        return Response({"id": added["id"], "url": added["url"], "events": added["events"].strip(",").split(","),
                         "secret": added["secret"]}, status_code=201, headers=NO_STORE)

    @delete("/webhooks/{subscription_id:int}", status_code=204, responses=NOT_JSON)
    async def remove_subscription(self, request: Request, code: FromPath[str], subscription_id: FromPath[int]) -> None:
        json_only(request)
        if not await subscriptions.remove(await found_campaign(code), subscription_id, request.user.username):
            raise NotFoundException("Không có đăng ký webhook này trong đợt khảo sát.")

    @get("/webhook-deliveries")
    async def list_deliveries(self, request: Request, code: FromPath[str], status: FromQuery[str] = "") -> dict:
        """The latest 200 deliveries, newest first (status pending, delivered or failed to filter)."""
        rows = await subscriptions.deliveries(await found_campaign(code), status[:12])
        return {"deliveries": [delivery_json(row) for row in rows]}

    @post("/webhook-deliveries/{delivery_id:int}/resend", status_code=202, responses=NOT_JSON)
    async def resend_delivery(self, request: Request, code: FromPath[str], delivery_id: FromPath[int]) -> dict:
        """Send a delivery again (same event id and body); send Content-Type: application/json."""
        json_only(request)
        if not await subscriptions.resend(await found_campaign(code), delivery_id, request.user.username):
            raise NotFoundException("Không có lần gửi này trong đợt khảo sát.")
        return {"ok": True, "id": delivery_id, "status": "pending"}


WEBHOOK_HANDLERS = [WebhookPageController, WebhookApiController]
