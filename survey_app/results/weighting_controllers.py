"""The analyst's weighting page of a campaign (issue #24): the plan (design → non-response classes → calibration
margins from an uploaded CSV/XLSX of population counts → trimming bounds), a run in the background with its
progress, each version's diagnostics before and after every step, the version in use, and two versions compared.
The work is survey_app.results.weighting's."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from survey_app.accounts import access
from survey_app.results import weighting
from survey_app.results.weighting import Plan, WeightingRefused

MARGIN_CHOICES = ("unit", "domain", "level", "channel", "unit×domain", "level×domain", "unit×channel")
MAX_UPLOAD = 5_000_000  # a province's counts are a few thousand rows


class WeightingController(Controller):
    path = "/analyst/campaigns/{code:str}/weighting"
    opt = access("analyst")

    @get()
    async def show(self, request: Request, code: FromPath[str], version: FromQuery[int | None] = None,
                   first: FromQuery[int | None] = None, second: FromQuery[int | None] = None) -> Template:
        return await self._page(request, code, version=version, first=first, second=second)

    @post("/plan", status_code=200)
    async def save(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        form = await request.form()
        upload = form.get("file")
        data = await upload.read() if upload is not None and hasattr(upload, "read") else b""
        try:
            if len(data) > MAX_UPLOAD:
                raise WeightingRefused([f"tệp quá lớn (tối đa {MAX_UPLOAD // 1_000_000} MB)"])
            plan = _plan_from(form)
            await weighting.save_plan(code, plan, request.user.username, getattr(upload, "filename", "") or "",
                                      data or None)
        except WeightingRefused as refused:
            return await self._page(request, code, problems=refused.messages, form=form)
        return Redirect(path=f"/analyst/campaigns/{code}/weighting?saved=1", status_code=303)

    @post("/run", status_code=200)
    async def run(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        await self._campaign(code)
        try:
            await weighting.start_run(code, request.user.username)
        except WeightingRefused as refused:
            return await self._page(request, code, problems=refused.messages)
        return Redirect(path=f"/analyst/campaigns/{code}/weighting", status_code=303)

    @post("/use", status_code=200)
    async def use(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        form = await request.form()
        try:
            await weighting.use_version(code, int(str(form.get("number", "0")) or 0), request.user.username)
        except (WeightingRefused, ValueError) as refused:
            return await self._page(request, code, problems=getattr(refused, "messages", ["số phiên bản không hợp lệ"]))
        return Redirect(path=f"/analyst/campaigns/{code}/weighting", status_code=303)

    async def _campaign(self, code: str) -> dict:
        try:
            return await weighting.campaign_by_code(code)
        except WeightingRefused:
            raise NotFoundException(f"Không có đợt khảo sát với mã {code[:32]!r}.") from None

    async def _page(self, request: Request, code: str, problems: list[str] | None = None, form=None,
                    version: int | None = None, first: int | None = None, second: int | None = None) -> Template:
        campaign = await self._campaign(code)
        stored = await weighting.stored_plan(campaign["id"])
        listed = await weighting.versions(campaign["id"])
        shown = next((row for row in listed if row["number"] == version), None) or \
            next((row for row in listed if row["in_use"]), None) or (listed[0] if listed else None)
        comparison = None
        if first and second:
            try:
                comparison = await weighting.compare(code, first, second)
            except WeightingRefused as refused:
                problems = (problems or []) + refused.messages
        return Template(template_name="analyst_weighting.html", status_code=422 if problems else 200, context={
            "user": request.user, "campaign": campaign, "plan": stored[0] if stored else Plan(),
            "plan_row": stored[2] if stored else None, "versions": listed, "shown": shown,
            "running": any(row["state"] == "running" for row in listed), "comparison": comparison,
            "problems": problems or [], "margin_choices": MARGIN_CHOICES, "margin_names": weighting.MARGIN_NAMES_VI,
            "calibration_names": weighting.CALIBRATION_NAMES_VI, "step_names": weighting.STEP_NAMES_VI,
            "warning_text": weighting.warning_text, "method": weighting.method_text(shown["plan"], shown["diagnostics"])
            if shown and shown["state"] == "done" else [], "saved": request.query_params.get("saved") == "1"})


def _plan_from(form) -> Plan:
    """The form's fields as a plan; numbers accept a decimal comma."""
    def number(name: str) -> float | None:
        text = str(form.get(name, "")).strip().replace(",", ".")
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise WeightingRefused([f"ô '{name}': '{text}' không phải là số"]) from None

    margins = tuple(value for value in form.getall("margins") if value) if hasattr(form, "getall") else ()
    iterations = number("max_iterations")
    source = str(form.get("population_source", "")) or "file"
    return Plan(str(form.get("nonresponse_cells", "")) or None, str(form.get("calibration", "")) or None, margins,
                number("lower"), number("upper"), int(iterations) if iterations else 100, source,
                weighting.parse_day(str(form.get("dossiers_from", "")), "từ ngày"),
                weighting.parse_day(str(form.get("dossiers_to", "")), "đến ngày"))
