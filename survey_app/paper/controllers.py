"""Paper mode's staff pages: print numbered copies (analyst), key returned copies (any staff, twice by two
people), settle differences (a supervisor: analyst or admin who keyed neither entry)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Stream, Template

from questionnaires.paper import codes_hint, is_coded, item_numbers, keyed_items, skip_instructions
from survey_app.accounts import access
from survey_app.campaigns.catalog import definition_of
from survey_app.core.paper_tables import PaperCopy
from survey_app.core.tables import Campaign, Unit
from survey_app.paper import print_jobs, services
from survey_app.paper.printing import copy_label

KEYING_PAGE = "paper_keying.html"
OUTCOME_NOTICES = {
    "waiting": "Đã lưu lần nhập {round} của phiếu số {label}. Lần nhập thứ hai phải do một người khác làm.",
    "stored": "Phiếu số {label}: các lần nhập khớp nhau, đã lưu một phiếu trả lời (hình thức: giấy).",
    "different": "Phiếu số {label}: các lần nhập khác nhau; giám sát viên sẽ đối chiếu.",
}


NO_RUN = services.PaperRefused("Không có đợt in này, hoặc đợt in chưa xong.", "no such print run, or not done yet",
                               404)


def refusal(request: Request, refused: services.PaperRefused, back: str) -> Template:
    return Template(template_name="analyst_message.html", status_code=refused.status, context={
        "user": request.user, "title": "Không thể thực hiện", "title_en": "Not possible",
        "detail": refused.message_vi, "detail_en": refused.message_en, "back": back})


async def print_page(request: Request, campaign: dict, status: int = 200, **context) -> Template:
    units = await Unit.select(Unit.code, Unit.name).order_by(Unit.code)
    return Template(template_name="paper_campaign.html", status_code=status, context={
        "user": request.user, "campaign": campaign, "units": units, "counts": await services.copy_counts(campaign),
        "to_settle": await services.copies_to_settle(campaign), "max_copies": services.MAX_COPIES,
        "max_run": services.MAX_RUN, "part_copies": print_jobs.PART_COPIES,
        "form": {}, "problem": "", **context})


class PaperController(Controller):
    """The campaign's paper page: print copies, how many came back, which copies wait for a supervisor."""

    path = "/analyst/campaigns/{code:str}/paper"
    opt = access("analyst", "admin")

    @get()
    async def show(self, request: Request, code: FromPath[str]) -> Template:
        try:
            campaign, _ = await services.campaign_with_questionnaire(code)
        except services.PaperRefused as refused:
            return refusal(request, refused, "/analyst/campaigns")
        return await print_page(request, campaign)

    @post("/print", status_code=200)
    async def print_copies(self, request: Request, state: State, code: FromPath[str]) -> Response | Template:
        form = await request.form()
        try:
            if services.parse_copies(form.get("copies", "")) > services.MAX_COPIES:  # a large run: in the background
                job, started = await print_jobs.start(code, form.get("unit", ""), form.get("copies", ""), request.user)
                shown = f"/analyst/campaigns/{job.campaign}/paper/runs/{job.id}"
                return Redirect(path=shown if started else f"{shown}?busy=1", status_code=303)
            run = await services.print_copies(state.settings, code, form.get("unit", ""), form.get("copies", ""),
                                              request.user.username)
        except services.PaperRefused as refused:
            if refused.status == 404:
                return refusal(request, refused, "/analyst/campaigns")
            campaign, _ = await services.campaign_with_questionnaire(code)
            return await print_page(request, campaign, status=refused.status, form=form, problem=refused.message_vi)
        name = f"phieu-giay-{code}-{copy_label(run.first)}-{copy_label(run.last)}.pdf"
        return Response(run.pdf, media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @get("/runs/{job_id:str}")
    async def run_progress(self, request: Request, code: FromPath[str], job_id: FromPath[str],
                           busy: FromQuery[str] = "") -> Template:
        """The run's progress; `busy`: the analyst asked for a new run while this one ran (nothing was numbered)."""
        job = await print_jobs.find(job_id, request.user.id)
        if job is None or job.campaign != code:
            return refusal(request, NO_RUN, f"/analyst/campaigns/{code}/paper")
        return Template(template_name="paper_print_job.html",
                        context={"user": request.user, "job": job, "busy": busy == "1"})

    @get("/runs/{job_id:str}/file")
    async def run_file(self, request: Request, code: FromPath[str], job_id: FromPath[str]) -> Stream | Template:
        job = await print_jobs.find(job_id, request.user.id)
        if job is None or job.campaign != code or job.state != "done":
            return refusal(request, NO_RUN, f"/analyst/campaigns/{code}/paper")
        return Stream(print_jobs.zipped_parts(job), media_type="application/zip",
                      headers={"Content-Disposition": f'attachment; filename="{job.download_name}"'})

    @get("/copies/{serial:str}")
    async def settle_form(self, request: Request, code: FromPath[str], serial: FromPath[str]) -> Template:
        return await self._settle_page(request, code, serial)

    @post("/copies/{serial:str}", status_code=303)
    async def settle(self, request: Request, code: FromPath[str], serial: FromPath[str]) -> Template | Redirect:
        form = await request.form()
        try:
            campaign, questionnaire = await services.campaign_with_questionnaire(code)
            number = services.parse_serial(serial)
            picks = {name.removeprefix("pick_"): form.get(name) for name in form if name.startswith("pick_")}
            await services.settle(campaign, questionnaire, number, picks, request.user.username)
        except services.PaperRefused as refused:
            if refused.status == 422:
                return await self._settle_page(request, code, serial, problem=refused.message_vi, status=422)
            return refusal(request, refused, f"/analyst/campaigns/{code}/paper")
        return Redirect(path=f"/analyst/campaigns/{code}/paper?settled={number}", status_code=303)

    async def _settle_page(self, request: Request, code: str, serial: str, problem: str = "",
                           status: int = 200) -> Template:
        try:
            campaign, questionnaire = await services.campaign_with_questionnaire(code)
            copy, entries, differing = await services.differences(campaign, questionnaire,
                                                                  services.parse_serial(serial))
        except services.PaperRefused as refused:
            return refusal(request, refused, f"/analyst/campaigns/{code}/paper")
        return Template(template_name="paper_settle.html", status_code=status, context={
            "user": request.user, "campaign": campaign, "copy": copy, "label": copy_label(copy["serial"]),
            "entries": entries, "differences": differing, "problem": problem})


class KeyingController(Controller):
    """The keying page: copy number, then each answer as digits; Tab or Enter moves on (Enter with the small
    script; without it Enter sends the form, which the server checks like any other)."""

    path = "/staff/paper"
    opt = access("analyst", "admin", "unit_manager")

    @get()
    async def campaigns(self, request: Request) -> Template:
        rows = await Campaign.select(Campaign.code, Campaign.name, Campaign.status).where(
            Campaign.id.is_in(PaperCopy.select(PaperCopy.campaign).distinct())).order_by(Campaign.code)
        return Template(template_name="paper_campaigns.html", context={"user": request.user, "campaigns": rows})

    @get("/{code:str}")
    async def show(self, request: Request, code: FromPath[str], copy: FromQuery[str] = "",
                   notice: FromQuery[str] = "") -> Template:
        try:
            campaign, questionnaire = await services.campaign_with_questionnaire(code)
        except services.PaperRefused as refused:
            return refusal(request, refused, "/staff/paper")
        if not copy:
            return keying_page(request, campaign, questionnaire, notice=notice[:300])
        try:
            found = await services.copy_for_keying(campaign, copy, request.user)
        except services.PaperRefused as refused:
            return keying_page(request, campaign, questionnaire, copy_problem=refused.message_vi,
                               typed_copy=copy[:12], status=refused.status)
        return keying_page(request, campaign, questionnaire, copy=found)

    @post("/{code:str}", status_code=303)
    async def key(self, request: Request, state: State, code: FromPath[str]) -> Template | Redirect:
        form = await request.form()
        try:
            campaign, questionnaire = await services.campaign_with_questionnaire(code)
        except services.PaperRefused as refused:
            return refusal(request, refused, "/staff/paper")
        keyed = {name: str(form.get(name, ""))[:2000] for name in form if not name.startswith("_")}
        try:
            found = await services.copy_for_keying(campaign, form.get("_copy", ""), request.user)
            result = await services.key_entry(state.settings, campaign, questionnaire, found, request.user, keyed)
        except services.PaperRefused as refused:
            return keying_page(request, campaign, questionnaire, copy_problem=refused.message_vi,
                               typed_copy=str(form.get("_copy", ""))[:12], status=refused.status)
        if result.errors:
            return keying_page(request, campaign, questionnaire, copy=found, values=keyed, errors=result.errors,
                               status=422)
        notice = OUTCOME_NOTICES[result.outcome].format(round=result.round, label=copy_label(found["serial"]))
        return Redirect(path=f"/staff/paper/{code}", query_params={"notice": notice}, status_code=303)


def keying_page(request: Request, campaign: dict, questionnaire: dict, copy: dict | None = None,
                values: dict | None = None, errors: dict | None = None, status: int = 200, **context) -> Template:
    definition = definition_of(questionnaire)
    numbers = item_numbers(definition)
    fields = [{"item": item, "number": numbers[item.key], "coded": is_coded(item),
               "hint": codes_hint(item) if is_coded(item) else _write_in_hint(item)}
              for item in keyed_items(definition)]
    return Template(template_name=KEYING_PAGE, status_code=status, context={
        "user": request.user, "campaign": campaign, "definition": definition, "copy": copy,
        "label": copy_label(copy["serial"]) if copy else "", "fields": fields, "skips": skip_instructions(definition),
        "values": values or {}, "errors": errors or {}, "notice": "", "copy_problem": "", "typed_copy": "", **context})


def _write_in_hint(item) -> str:
    return {"date": "ngày/tháng/năm, ví dụ 25/12/2026", "time": "giờ:phút, ví dụ 14:30",
            "datetime": "ngày/tháng/năm giờ:phút, ví dụ 25/12/2026 14:30", "integer": "một số nguyên", "decimal": "một số, ví dụ 3,5",
            "text": "chép nguyên văn", "dossier_code": "mã hồ sơ như trên phiếu",
            "unit": "mã đơn vị"}.get(item.type, "")
