"""The analyst's invitations page: send invitations or reminders by e-mail, or download the message file for
Zalo or SMS, from an address file uploaded for that one use (survey_app/officials/invitations.py)."""

from __future__ import annotations

import asyncio

from litestar import Controller, Request, get, post
from litestar.datastructures import State, UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from survey_app.accounts import access
from survey_app.accounts.audit import record
from survey_app.core.tables import Campaign
from survey_app.core.wording import role_name
from survey_app.officials import invitations

KIND_NAMES = {"invitation": "Thư mời", "reminder": "Nhắc nhở"}
STATE_NAMES = {"queued": "đang chờ gửi", "sending": "đang gửi", "done": "đã gửi xong",
               "interrupted": "bị dừng (máy chủ khởi động lại): hãy tải tệp lên và gửi lại"}
UPLOAD_LIMIT = 1024 * 1024  # the address file (at most invitations.MAX_FILE_BYTES) and the form's other fields


async def invitation_campaign(code: str) -> dict:
    campaign = await Campaign.select().where((Campaign.code == code) & (Campaign.mode == "invitation")).first()
    if campaign is None:
        raise NotFoundException(f"Không có đợt khảo sát theo thư mời mã {code[:32]!r}.")
    return campaign


async def invitations_page(request: Request, state: State, code: str, problems: list[str] | None = None,
                           form: dict | None = None, sent: int | None = None) -> Template:
    campaign = await invitation_campaign(code)
    rows = await invitations.sendings(campaign["id"])
    for failure in (failure for row in rows for failure in row["failures"]):
        failure["role"] = role_name(failure["role"])
    return Template(template_name="analyst_invitations.html", status_code=422 if problems else 200, context={
        "user": request.user, "campaign": campaign, "sendings": rows, "smtp_enabled": state.settings.smtp.enabled,
        "kind_names": KIND_NAMES, "state_names": STATE_NAMES, "problems": problems or [], "form": form or {},
        "sent": sent, "busy": any(row["state"] in ("queued", "sending") for row in rows)})


async def read_upload(state: State, upload) -> invitations.AddressFile:
    if not isinstance(upload, UploadFile):
        raise invitations.InvitationRefused(["Hãy chọn tệp địa chỉ (.csv hoặc .xlsx)."])
    data = await upload.read()
    # reading a spreadsheet and hashing every staff id is CPU work: off the event loop
    return await asyncio.to_thread(invitations.read_address_file, state.settings.secret_key, upload.filename, data)


class InvitationController(Controller):
    path = "/analyst/sampling/{code:str}/invitations"
    opt = access("analyst")

    @get()
    async def show(self, request: Request, state: State, code: FromPath[str],
                   sent: FromQuery[int | None] = None) -> Template:
        return await invitations_page(request, state, code, sent=sent)

    @post(status_code=200, request_max_body_size=UPLOAD_LIMIT)
    async def send(self, request: Request, state: State, code: FromPath[str]) -> Template | Redirect | Response:
        form = await request.form()
        kind = "reminder" if form.get("kind") == "reminder" else "invitation"
        by_email = form.get("action") != "file"
        choices = {"kind": kind, "action": "email" if by_email else "file"}
        try:
            if by_email and not state.settings.smtp.enabled:
                raise invitations.InvitationRefused(["Chưa cấu hình máy chủ thư (SMTP_HOST, SMTP_FROM): chưa gửi "
                                                     "e-mail được; hãy dùng tệp tin nhắn."])
            address_file = await read_upload(state, form.get("file"))
            planned = await invitations.plan(code, address_file, need_email=by_email)
        except invitations.InvitationRefused as refused:
            return await invitations_page(request, state, code, problems=refused.messages, form=choices)
        username = request.user.username
        if not by_email:
            content = await invitations.message_file(state.settings, kind, planned)
            await record(username, "invitations.message_file", code, detail=f"{KIND_NAMES[kind]}: {planned.summary()}")
            return Response(content, media_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": f'attachment; filename="tin-nhan-{code}.csv"', "Cache-Control": "no-store"})
        try:
            send_id = await invitations.queue_sending(state.settings, kind, planned, username)
        except invitations.InvitationRefused as refused:
            return await invitations_page(request, state, code, problems=refused.messages, form=choices)
        await record(username, "invitations.email", code, detail=f"{KIND_NAMES[kind]} #{send_id}: {planned.summary()}")
        return Redirect(path=f"/analyst/sampling/{code}/invitations?sent={send_id}", status_code=303)
