"""The analyst's view of officials' samples: response tracking per stratum (AAPOR RR1, RR3), the reminders list
(unit, role and staff-reference prefix only, never answers) and the members file without identities.

The same tables as `survey sample show` and `survey sample export` (survey_app/officials/draws.py).
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from sampling.errors import SamplingError
from survey_app.accounts import access
from survey_app.campaigns.services import LEVEL_NAMES, STATUS_NAMES
from survey_app.officials import draws, web_draw
from survey_app.core.sampling_tables import SampleDraw
from survey_app.core.tables import Campaign, Unit
from survey_app.core.wording import MEMBER_STATUS_NAMES, role_name, stratum_label

TRACKING_COLUMNS = {"invited": "Được mời", "not_started": "Chưa bắt đầu", "started": "Đang trả lời",
                    "completed": "Đã gửi", "refused": "Từ chối", "replaced": "Đã thay", "not_reached": "Không liên lạc được",
                    "ineligible": "Không đủ điều kiện", "e": "Tỷ lệ đủ điều kiện (e)", "rr1": "Tỷ lệ phản hồi RR1",
                    "rr3": "Tỷ lệ phản hồi RR3"}


async def draw_page(request: Request, code: str, **context) -> Template:
    """The draw page in whichever step it is: upload, mapping and preview, or drawn (with the slips link)."""
    campaign = await Campaign.select().where((Campaign.code == code) & (Campaign.mode == "invitation")).first()
    if campaign is None:
        raise NotFoundException(f"Không có đợt khảo sát theo thư mời mã {code[:32]!r}.")
    already = await SampleDraw.exists().where(SampleDraw.campaign == campaign["id"])
    problems = context.get("problems") or (context.get("checked").problems if context.get("checked") else [])
    return Template(template_name="analyst_sampling_draw.html", status_code=422 if problems else 200, context={
        "user": request.user, "campaign": campaign, "already": already and not context.get("drawn"),
        "fields": web_draw.FIELDS, "required": web_draw.REQUIRED_FIELDS, "level_names": LEVEL_NAMES,
        "form": {}, **context, "problems": problems})


class SamplingController(Controller):
    path = "/analyst/sampling"
    opt = access("analyst")

    @get()
    async def index(self, request: Request) -> Template:
        drawn = {row["campaign"] for row in await SampleDraw.select(SampleDraw.campaign)}
        campaigns = await Campaign.select().where(Campaign.mode == "invitation").order_by(Campaign.code)
        return Template(template_name="analyst_sampling_list.html", context={
            "user": request.user, "status_names": STATUS_NAMES,
            "campaigns": [{**row, "drawn": row["id"] in drawn} for row in campaigns]})

    @get("/{code:str}")
    async def show(self, request: Request, code: FromPath[str]) -> Template:
        return await self.show_with(request, code)

    async def show_with(self, request: Request, code: str, notice: str = "", problems: list[str] | None = None,
                        slips_token: str = "") -> Template:
        members = await self._members(code)
        tracking = draws.tracking_table(members) if len(members) else None
        names = {row["code"]: row["name"] for row in await Unit.select(Unit.code, Unit.name)}
        reminders = draws.reminders(members).to_dict("records") if len(members) else []
        return Template(template_name="analyst_sampling.html", context={
            "user": request.user, "code": code, "columns": TRACKING_COLUMNS,
            "tracking": [] if tracking is None else [(stratum_label(stratum, names), row)
                                                      for stratum, row in tracking.iterrows()],
            "reminders": [{**row, "unit": names.get(row["unit"], row["unit"]), "role": role_name(row["role"]),
                           "status": MEMBER_STATUS_NAMES.get(row["status"], row["status"])} for row in reminders],
            "notice": notice, "problems": problems or [], "slips_token": slips_token},
            status_code=422 if problems else 200)

    @get("/{code:str}/members.csv", media_type="text/csv")
    async def members_csv(self, code: FromPath[str]) -> Response:
        members = await self._members(code)
        text = draws.export_frame(members).to_csv(index=False) if len(members) else ""
        return Response("\ufeff" + text, media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{code}-members.csv"'})

    @get("/{code:str}/draw")
    async def draw_form(self, request: Request, code: FromPath[str]) -> Template:
        return await draw_page(request, code)

    @post("/{code:str}/frame", status_code=200)
    async def upload_frame(self, request: Request, code: FromPath[str]) -> Template:
        form = await request.form()
        upload = form.get("file")
        try:
            if upload is None or not hasattr(upload, "read"):
                raise web_draw.FrameRefused(["Hãy chọn tệp danh sách cán bộ (.csv hoặc .xlsx)."])
            token = web_draw.save_upload(upload.filename, await upload.read())
            checked = await web_draw.preview(token, None, web_draw.DEFAULT_QUOTAS, "")
        except web_draw.FrameRefused as refused:
            return await draw_page(request, code, problems=refused.messages)
        return await draw_page(request, code, token=token, checked=checked)

    @post("/{code:str}/draw", status_code=200)
    async def draw(self, request: Request, state: State, code: FromPath[str]) -> Template:
        form = await request.form()
        token, level = str(form.get("token", "")), str(form.get("level", ""))[:16]
        mapping = {name: str(form.get(f"map_{name}", "")) for name in web_draw.FIELDS}
        quotas = [text.strip() for text in str(form.get("quotas", "")).replace("\n", ",").split(",") if text.strip()]
        try:
            checked = await web_draw.preview(token, mapping, quotas, level)
            if form.get("action") != "draw" or checked.problems:
                return await draw_page(request, code, token=token, form=form, checked=checked)
            seed = int(form.get("seed", "")) if str(form.get("seed", "")).isdecimal() else 2026
            drawn, slips_token = await web_draw.draw(state.settings.secret_key, state.settings.base_url, code, token,
                                                     checked.mapping, quotas, level, seed)
        except web_draw.FrameRefused as refused:
            return await draw_page(request, code, problems=refused.messages)
        except SamplingError as refused:
            return await draw_page(request, code, token=token, form=form,
                                   problems=[problem.message_vi for problem in refused.problems])
        return await draw_page(request, code, drawn=drawn, slips_token=slips_token)

    @get("/{code:str}/slips/{token:str}")
    async def slips_once(self, code: FromPath[str], token: FromPath[str]) -> Response:
        data = web_draw.take_once(token)
        if data is None:
            raise NotFoundException("Phiếu mời này đã được tải về (mã chỉ in một lần) hoặc không có.")
        return Response(data, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="phieu-moi-{code}.pdf"'})

    @post("/{code:str}/members", status_code=200)
    async def member_action(self, request: Request, state: State, code: FromPath[str]) -> Template:
        """Replace a member by the next reserve, or record them not eligible (reason required)."""
        form = await request.form()
        ref, reason, action = str(form.get("ref", ""))[:16], str(form.get("reason", "")).strip()[:500], form.get("action")
        try:
            if action == "ineligible":
                await draws.mark(code, ref, "ineligible", reason)
                return await self.show_with(request, code, notice=f"Đã ghi {ref}: không đủ điều kiện ({reason}).")
            slips_token = await web_draw.replacement_slip(state.settings.secret_key, state.settings.base_url, code,
                                                          ref, reason, ineligible=action == "replace_ineligible")
        except SamplingError as refused:
            return await self.show_with(request, code, problems=[p.message_vi for p in refused.problems])
        return await self.show_with(request, code, notice=f"Đã thay {ref} bằng người dự phòng kế tiếp.",
                                    slips_token=slips_token)

    async def _members(self, code: str):
        try:
            return await draws.members_frame(code)
        except SamplingError as refused:
            raise NotFoundException(detail="; ".join(problem.message_vi for problem in refused.problems)) from refused
