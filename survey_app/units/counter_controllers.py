"""Counters: list per unit, add, deactivate, rotate the signing key of their QR posters, download posters, open a
counter's form in kiosk mode on the counter's tablet.

Posters come from `survey_app.units.posters.build`, the same code as `survey qr`. A unit manager may list and print
the posters of their own unit's counters; another unit's gives 403, written to the audit log.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from survey_app.accounts import audit
from survey_app.core import db
from survey_app.accounts.admin_forms import (
    FieldErrors,
    FormRefused,
    clean_code,
    clean_text,
    refuse_outside_scope,
    staff_page,
)
from survey_app.accounts import access
from survey_app.core.confirmations import Confirmation, confirmation_page, confirmed_reason, with_reason
from survey_app.core.wording import search_key
from survey_app.units.posters import QrCommandError, build, poster_entries
from survey_app.core.tables import Campaign, Counter, Unit
from survey_app.core.tokens import accepted_key_ids, newest_key_id

POSTER_TYPES = {"pdf": "application/pdf", "png": "image/png", "svg": "image/svg+xml"}


PAGE_SIZE = 25


async def counters_of(unit_code: str | None, search: str = "", page: int | None = None) -> list[dict]:
    """Counters (of one unit when given) whose code, name or unit name holds `search`; one page of PAGE_SIZE when
    `page` is given. Searching is done here, not in SQL, so it ignores case and Vietnamese accents alike."""
    query = Counter.select(Counter.code, Counter.name, Counter.active, Counter.signing_key_id,
                           Counter.unit.code.as_alias("unit_code"), Counter.unit.name.as_alias("unit_name"))
    if unit_code:
        query = query.where(Counter.unit.code == unit_code)
    rows = await query.order_by(Counter.code)
    if search:
        wanted = search_key(search)
        rows = [row for row in rows if wanted in search_key(f"{row['code']} {row['name']} {row['unit_name']}")]
    return rows if page is None else rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE + 1]  # one more: is there a next?


async def poster_campaigns() -> list[dict]:
    """Campaigns a poster makes sense for: collecting at counters (officials answer with a code) now or soon."""
    return await Campaign.select(Campaign.code, Campaign.name).where(
        Campaign.status.is_in(["open", "draft", "paused"]) & (Campaign.mode == "open_qr")).order_by(Campaign.code)


async def counter_row(counter_code: str) -> dict:
    row = await Counter.select(Counter.id, Counter.code, Counter.name, Counter.active, Counter.signing_key_id,
                               Counter.unit, Counter.unit.code.as_alias("unit_code")).where(
        Counter.code == counter_code).first()
    if row is None:
        raise NotFoundException(f"Không có quầy mã “{counter_code[:40]}”.")
    return row


def counter_record(row: dict) -> dict:
    """What the audit log keeps of a counter."""
    return {key: row[key] for key in ("code", "name", "active", "signing_key_id", "unit_code") if key in row}


async def add_counter(form, username: str, keys: dict) -> str:
    errors = FieldErrors()
    code = clean_code(errors, "code", "Mã quầy", form.get("code"))
    name = clean_text(errors, "name", "Tên quầy", form.get("name"))
    unit_code = clean_code(errors, "unit_code", "Mã đơn vị", form.get("unit_code"))
    unit = await Unit.select(Unit.id).where(Unit.code == unit_code).first() if unit_code else None
    if unit_code and "unit_code" not in errors.messages and unit is None:
        errors.add("unit_code", f"Không có đơn vị mã “{unit_code}”.")
    if code and await Counter.exists().where(Counter.code == code):
        errors.add("code", f"Mã quầy “{code}” đã có.")
    if errors:
        raise FormRefused(errors)
    # A new counter has no old posters: it starts on the newest key.
    record = {"code": code, "name": name, "active": True, "signing_key_id": newest_key_id(keys), "unit_code": unit_code}
    async with db.write_transaction():
        await Counter.insert(Counter(code=code, name=name, unit=unit["id"], signing_key_id=record["signing_key_id"]))
        await audit.record(username, "counter_created", f"counter:{code}", after=record)
    return code


def deactivation_confirmation(row: dict) -> Confirmation:
    return Confirmation(
        title=f"Ngừng hoạt động quầy {row['code']}?",
        consequence=f"Mã QR và áp phích của quầy {row['code']} ({row['name']}) thôi nhận phiếu ngay; người dân quét "
                    "mã sẽ được báo quầy không còn khảo sát. Phiếu đã nhận vẫn được giữ.",
        action=f"/admin/counters/{row['code']}/deactivate", button="Ngừng hoạt động quầy",
        back=f"/admin/counters?unit={row['unit_code']}")


def rotation_confirmation(row: dict) -> Confirmation:
    return Confirmation(
        title=f"Xoay khóa ký của quầy {row['code']}?",
        consequence=f"Mọi áp phích QR đang dán tại quầy {row['code']} ({row['name']}) thôi hoạt động ngay; phải in "
                    "và dán áp phích mới. Không hoàn tác được.",
        action=f"/admin/counters/{row['code']}/rotate", button="Xoay khóa ký",
        back=f"/admin/counters?unit={row['unit_code']}")


async def deactivate_counter(counter_code: str, username: str, reason: str) -> None:
    async with db.write_transaction():
        row = await counter_row(counter_code)
        if not row["active"]:
            raise FormRefused({"confirm": f"Quầy {counter_code} đã ngừng hoạt động từ trước."})
        await Counter.update({Counter.active: False}).where(Counter.id == row["id"])
        await audit.record(username, "counter_deactivated", f"counter:{counter_code}", before=counter_record(row),
                           after={**counter_record(row), "active": False}, detail=with_reason(reason))


async def rotate_counter(counter_code: str, username: str, keys: dict, reason: str) -> dict:
    """Move the counter to the newest signing key: its posters signed with older keys stop working.
    Returns the key ids refused from now on and the key new posters carry."""
    newest = newest_key_id(keys)
    async with db.write_transaction():
        row = await counter_row(counter_code)
        before = accepted_key_ids(keys, row["signing_key_id"])
        if before == [newest]:
            raise FormRefused({"confirm": (
                f"Quầy {counter_code} đã dùng khóa mới nhất “{newest}”. Muốn thu hồi áp phích cũ, hãy thêm một khóa "
                f"mới vào đầu biến SIGNING_KEYS (ví dụ k{len(keys) + 1}:bí-mật-mới,{newest}:…), khởi động lại "
                "máy chủ rồi xoay khóa lại.")})
        await Counter.update({Counter.signing_key_id: newest}).where(Counter.id == row["id"])
        await audit.record(username, "counter_key_rotated", f"counter:{counter_code}", before=counter_record(row),
                           after={**counter_record(row), "signing_key_id": newest},
                           detail=with_reason(reason, "refused from now on: posters signed with " + ", ".join(
                               key for key in before if key != newest)))
    return {"revoked": [key for key in before if key != newest], "newest": newest}


class CounterAdminController(Controller):
    path = "/admin/counters"
    opt = access("admin")

    @get()
    async def index(self, request: Request, unit: FromQuery[str | None] = None, q: FromQuery[str] = "",
                    page: FromQuery[int] = 1) -> Template:
        return await self.page(request, unit, search=q[:100], page_number=max(page, 1))

    @staticmethod
    async def page(request: Request, unit_code: str | None, errors: dict | None = None, notice: str | None = None,
                   rotation: dict | None = None, form: dict | None = None, search: str = "",
                   page_number: int = 1) -> Template:
        unit_code = (unit_code or "")[:32]
        found = await counters_of(unit_code, search, page_number)
        return staff_page(request, "admin_counters.html", bool(errors), unit_code=unit_code,
                          counters=found[:PAGE_SIZE], has_next=len(found) > PAGE_SIZE, page_number=page_number,
                          search=search, campaigns=await poster_campaigns(),
                          errors=errors or {}, notice=notice, rotation=rotation, form=form or {"unit_code": unit_code})

    @post(status_code=200)
    async def add(self, request: Request, state: State) -> Template:
        form = await request.form()
        try:
            code = await add_counter(form, request.user.username, state.settings.signing_keys)
        except FormRefused as refused:
            return await self.page(request, form.get("unit_code"), refused.errors, form=dict(form))
        return await self.page(request, form.get("unit_code"), notice=f"Đã thêm quầy {code}.")

    @post("/{counter_code:str}/deactivate", status_code=200)
    async def deactivate(self, request: Request, counter_code: FromPath[str]) -> Template:
        row = await counter_row(counter_code)
        form = await request.form()
        if (reason := confirmed_reason(form)) is None:
            return confirmation_page(request, deactivation_confirmation(row), form)
        try:
            await deactivate_counter(counter_code, request.user.username, reason)
        except FormRefused as refused:
            return await self.page(request, row["unit_code"], refused.errors)
        return await self.page(request, row["unit_code"], notice=f"Quầy {counter_code} đã ngừng hoạt động; mã QR "
                                                                 "của quầy không còn nhận trả lời.")

    @post("/{counter_code:str}/rotate", status_code=200)
    async def rotate(self, request: Request, state: State, counter_code: FromPath[str]) -> Template:
        row = await counter_row(counter_code)
        form = await request.form()
        if (reason := confirmed_reason(form)) is None:
            return confirmation_page(request, rotation_confirmation(row), form)
        try:
            rotation = await rotate_counter(counter_code, request.user.username, state.settings.signing_keys, reason)
        except FormRefused as refused:
            return await self.page(request, row["unit_code"], refused.errors)
        return await self.page(request, row["unit_code"], rotation={**rotation, "counter_code": counter_code})


class UnitCountersController(Controller):
    """A unit's counters and their posters, for its unit manager (and administrators and analysts)."""

    path = "/staff/units"
    opt = access("admin", "analyst", "unit_manager")  # the analyst who opens a campaign prints its posters

    @get("/{unit_code:str}/counters")
    async def index(self, request: Request, unit_code: FromPath[str]) -> Template:
        unit = await scoped_unit(request, unit_code)
        return staff_page(request, "unit_counters.html", unit=unit, counters=await counters_of(unit_code),
                          campaigns=await poster_campaigns())

    @get("/{unit_code:str}/counters/{counter_code:str}/poster")
    async def poster(self, request: Request, state: State, unit_code: FromPath[str], counter_code: FromPath[str],
                     campaign: FromQuery[str] = "", format: FromQuery[str] = "pdf",
                     size: FromQuery[str] = "A4") -> Response:
        """A counter's poster (pdf or png) or bare code (svg) for one campaign, signed with the newest key."""
        await scoped_unit(request, unit_code)
        row = await counter_row(counter_code)
        if row["unit_code"] != unit_code:
            raise NotFoundException(f"Quầy {counter_code[:40]} không thuộc đơn vị {unit_code[:40]}.")
        try:
            output = await build(state.settings, campaign[:32], counter_code=counter_code,
                                 format=format if format in POSTER_TYPES else "invalid", size=size[:4])
        except QrCommandError as error:
            return Template(template_name="message.html", status_code=422, context={
                "title": "Không tạo được áp phích", "title_en": "No poster", "detail": str(error)})
        filename = f"poster-{counter_code}-{campaign}.{output.format}"
        return Response(output.data, media_type=POSTER_TYPES[output.format],
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @get("/{unit_code:str}/counters/{counter_code:str}/kiosk")
    async def kiosk(self, request: Request, state: State, unit_code: FromPath[str], counter_code: FromPath[str],
                    campaign: FromQuery[str] = "") -> Response | Redirect:
        """The counter's form in kiosk mode, for the tablet at the counter (the poster's address, ?kiosk=1)."""
        await scoped_unit(request, unit_code)
        row = await counter_row(counter_code)
        if row["unit_code"] != unit_code:
            raise NotFoundException(f"Quầy {counter_code[:40]} không thuộc đơn vị {unit_code[:40]}.")
        try:
            _, entries = await poster_entries(state.settings, campaign[:32], counter_code=counter_code)
        except QrCommandError as error:
            return Template(template_name="message.html", status_code=422, context={
                "title": "Không mở được chế độ máy tính bảng", "title_en": "No kiosk form", "detail": str(error)})
        # the path only: the tablet stays on the origin it reached, which its service worker belongs to
        return Redirect(path=urlsplit(entries[0].url).path + "?kiosk=1", status_code=303)


async def scoped_unit(request: Request, unit_code: str) -> dict:
    unit = await Unit.select(Unit.id, Unit.code, Unit.name).where(Unit.code == unit_code).first()
    if unit is None:
        raise NotFoundException(f"Không có đơn vị mã “{unit_code[:40]}”.")
    if not request.user.sees(unit["id"]):
        await refuse_outside_scope(request.user, request.method, request.url.path, unit_code)
    return unit
