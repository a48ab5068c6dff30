"""The analyst's campaign pages and dashboard (access "analyst"), and the unit manager's view ("unit_manager")."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from survey_app.accounts import audit
from survey_app.campaigns import comments, services as campaigns, pages, targets
from survey_app.campaigns.filters import DashboardFilters
from survey_app.results import manager, quality
from survey_app.results.dashboard import campaign_by_code, campaign_figures, domain_names, NotEnoughData
from survey_app.accounts import SignedInUser, access
from survey_app.results.frames import AnalysisCommandError
from survey_app.core.confirmations import confirmation_page, confirmed_reason
from survey_app.core.db import write_transaction


async def found_campaign(code: str) -> dict:
    campaign = await campaign_by_code(code)
    if campaign is None:
        raise NotFoundException(f"Không có đợt khảo sát với mã {code!r}.")
    return campaign


def refusal_page(request: Request, campaign: dict, refused: campaigns.CampaignRefused, status: int = 409) -> Template:
    return Template(template_name="analyst_message.html", status_code=status, context={
        "user": request.user, "title": "Không thể thực hiện", "title_en": "Not possible", "detail": refused.message_vi,
        "detail_en": refused.message_en, "back": f"/analyst/campaigns/{campaign['code']}"})


class CampaignController(Controller):
    path = "/analyst/campaigns"
    opt = access("analyst")

    @get()
    async def list(self, request: Request) -> Template:
        return Template(template_name="analyst_campaigns.html",
                        context={"user": request.user, "campaigns": await pages.campaign_list(), **pages.COMMON})

    @get("/new")
    async def new(self, request: Request) -> Template:
        return Template(template_name="analyst_campaign_form.html",
                        context={"user": request.user, "form": {}, "problems": {}, **await pages.form_choices()})

    @post(status_code=303)
    async def create(self, request: Request) -> Template | Redirect:
        form = await request.form()
        try:
            values = await campaigns.check_new_campaign(form)
        except campaigns.FormProblems as refused:
            return Template(template_name="analyst_campaign_form.html", status_code=422, context={
                "user": request.user, "form": form, "chosen_units": form.getall("units", []),
                "problems": refused.problems, **await pages.form_choices()})
        await campaigns.create_campaign(values, request.user.username)
        return Redirect(path=f"/analyst/campaigns/{values['code']}", status_code=303)

    @get("/{code:str}")
    async def show(self, request: Request, code: FromPath[str]) -> Template:
        campaign = await found_campaign(code)
        return Template(template_name="analyst_campaign.html",
                        context={"user": request.user, **await pages.campaign_detail(campaign)})

    @get("/{code:str}/edit")
    async def edit(self, request: Request, code: FromPath[str]) -> Template:
        campaign = await found_campaign(code)
        if campaign["status"] == "closed":
            return refusal_page(request, campaign, campaigns.closed_for_changes())
        return Template(template_name="analyst_campaign_form.html",
                        context={"user": request.user, **await pages.edit_form(campaign)})

    @post("/{code:str}/edit", status_code=303)
    async def save_edit(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        campaign = await found_campaign(code)
        form = await request.form()
        try:
            values = await campaigns.check_campaign_changes(campaign, form)
        except campaigns.CampaignRefused as refused:
            return refusal_page(request, campaign, refused)
        except campaigns.FormProblems as refused:
            return Template(template_name="analyst_campaign_form.html", status_code=422, context={
                "user": request.user, "campaign": campaign, "form": form, "chosen_units": form.getall("units", []),
                "problems": refused.problems, **await pages.form_choices()})
        await campaigns.update_campaign(campaign, values, request.user.username)
        return Redirect(path=f"/analyst/campaigns/{code}", status_code=303)

    @post("/{code:str}/status", status_code=303)
    async def status(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        campaign = await found_campaign(code)
        form = await request.form()
        reason = confirmed_reason(form)
        if form.get("action") == "close" and reason is None:  # final: it asks first, and why
            return confirmation_page(request, campaigns.close_confirmation(campaign), form)
        try:
            await campaigns.change_status(campaign, form.get("action", ""), request.user.username, reason or "")
        except campaigns.CampaignRefused as refused:
            return refusal_page(request, campaign, refused)
        return Redirect(path=f"/analyst/campaigns/{code}", status_code=303)

    @post("/{code:str}/questionnaire", status_code=303)
    async def questionnaire(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        campaign = await found_campaign(code)
        try:
            await campaigns.change_questionnaire(campaign, (await request.form()).get("questionnaire", ""),
                                                 request.user.username)
        except campaigns.CampaignRefused as refused:
            return refusal_page(request, campaign, refused)
        return Redirect(path=f"/analyst/campaigns/{code}", status_code=303)

    @get("/{code:str}/quality")
    async def quality_queue(self, request: Request, state: State, code: FromPath[str],
                            page: FromQuery[str | None] = None) -> Template:
        campaign = await found_campaign(code)
        try:
            listed = await quality.queue(campaign, state.settings.suppress_below, state.settings, page)
        except (AnalysisCommandError, NotEnoughData):  # no scoring map: the page says so, never breaks
            listed = {"rows": None, "progress": None}
        return Template(template_name="analyst_quality.html", context={
            "user": request.user, "campaign": campaign, **listed, **pages.COMMON})

    @post("/{code:str}/quality", status_code=303)
    async def quality_decision(self, request: Request, code: FromPath[str]) -> Template | Redirect:
        campaign = await found_campaign(code)
        form = await request.form()
        reason = confirmed_reason(form)
        if form.get("decision") == "exclude" and reason is None:  # out of every figure: it asks first, and why
            return confirmation_page(request, quality.exclusion_confirmation(campaign, form.get("response_id", "")), form)
        try:
            await quality.decide(campaign, form.get("response_id", ""), form.get("decision", ""), request.user.username,
                                 reason or (form.get("reason") or "").strip()[:500])
        except campaigns.CampaignRefused as refused:
            return refusal_page(request, campaign, refused, 422)
        return Redirect(path=f"/analyst/campaigns/{code}/quality#r{form.get('response_id')}", status_code=303)

    @get("/{code:str}/responses/{response_id:str}")
    async def response(self, request: Request, state: State, code: FromPath[str],
                       response_id: FromPath[str]) -> Template:
        campaign = await found_campaign(code)
        detail = await quality.response_detail(campaign, response_id[:12], state.settings.suppress_below)
        if detail is None:
            raise NotFoundException("Không có phiếu này trong đợt khảo sát.")
        return Template(template_name="analyst_response.html", context={
            "user": request.user, "campaign": campaign, **detail, **pages.COMMON})

    @get("/{code:str}/comments")
    async def comments(self, request: Request, state: State, code: FromPath[str], q: FromQuery[str] = "",
                       unit: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
        campaign = await found_campaign(code)
        context = await pages.comments_page(campaign, state.settings.suppress_below, q[:200], unit[:32], page)
        return Template(template_name="comments.html", context={
            "user": request.user, **context, "base": f"/analyst/campaigns/{code}/comments"})

    @get("/{code:str}/comments.csv")
    async def comments_csv(self, state: State, code: FromPath[str], q: FromQuery[str] = "",
                           unit: FromQuery[str] = "") -> Response:
        campaign = await found_campaign(code)
        found = await comments.campaign_comments(campaign, state.settings.suppress_below)
        return Response(comments.comments_csv(comments.matching(found["comments"], q[:200], unit[:32])),
                        media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="y-kien-{code}.csv"'})

    @get("/{code:str}/dashboard")
    async def dashboard(self, request: Request, state: State, code: FromPath[str],
                        excluded: FromQuery[str | None] = None, level: FromQuery[str] = "",
                        domain: FromQuery[str] = "", starts_on: FromQuery[str] = "",
                        ends_on: FromQuery[str] = "") -> Template:
        campaign = await found_campaign(code)
        chosen = DashboardFilters.from_query(level, domain, starts_on, ends_on)
        context = await pages.dashboard(campaign, excluded != "with", state.settings.suppress_below, chosen)
        return Template(template_name="analyst_dashboard.html", context={"user": request.user, **context})

    @post("/{code:str}/targets", status_code=303)
    async def set_targets(self, request: Request, state: State, code: FromPath[str]) -> Template | Redirect:
        campaign = await found_campaign(code)
        form = await request.form()
        if form.get("targets_form") != "1":
            return refusal_page(request, campaign, campaigns.CampaignRefused("Biểu mẫu mục tiêu không đầy đủ.",
                                                                    "targets_form: the targets form is incomplete"), 422)
        try:
            figures = await campaign_figures(campaign, minimum=state.settings.suppress_below)
            subjects = targets.target_subjects(figures["scoring"], await domain_names())
            chosen = targets.read_targets(form, subjects)
        except NotEnoughData:
            return refusal_page(request, campaign, campaigns.CampaignRefused("Đợt khảo sát chưa đủ phiếu.", "not enough responses"), 422)
        except campaigns.FormProblems as refused:
            return refusal_page(request, campaign, campaigns.CampaignRefused(
                " ".join(vi for vi, _ in refused.problems.values()), " ".join(en for _, en in refused.problems.values())), 422)
        await targets.save_targets(campaign, chosen, request.user.username)
        return Redirect(path=f"/analyst/campaigns/{code}/dashboard#targets", status_code=303)


async def refuse_other_unit(request: Request, unit_code: str) -> None:
    """A unit outside the manager's scope: logged like the guard's refusals, then 403."""
    user: SignedInUser = request.user
    async with write_transaction():
        await audit.record(user.username, "access_denied", f"GET {request.url.path}",
                           detail=f"unit {unit_code[:64]} is outside the user's units")
    raise PermissionDeniedException("Ông/bà không có quyền xem đơn vị này.")


async def own_unit_code(user: SignedInUser) -> str:
    from survey_app.core.tables import Unit

    unit = await Unit.select(Unit.code).where(Unit.id == user.unit_id).first()
    if unit is None:
        raise NotFoundException("Tài khoản chưa gắn với đơn vị nào.")
    return unit["code"]


class ManagerController(Controller):
    path = "/manager"
    opt = access("unit_manager")

    @get()
    async def home(self, request: Request) -> Redirect:
        return Redirect(path=f"/manager/units/{await own_unit_code(request.user)}")

    @get("/counters")
    async def counters(self, request: Request) -> Redirect:
        return Redirect(path=f"/staff/units/{await own_unit_code(request.user)}/counters")

    @get("/comments")
    async def own_comments(self, request: Request) -> Redirect:
        return Redirect(path=f"/manager/units/{await own_unit_code(request.user)}/comments")

    @get("/units/{unit_code:str}")
    async def unit(self, request: Request, state: State, unit_code: FromPath[str],
                   campaign: FromQuery[str | None] = None) -> Template:
        user: SignedInUser = request.user
        unit = await manager.scoped_unit(unit_code, user.unit_ids or frozenset())
        if unit is None:
            await refuse_other_unit(request, unit_code)
        context = await manager.manager_view(unit, user.unit_ids or frozenset(), campaign,
                                             state.settings.suppress_below)
        return Template(template_name="manager_unit.html", context={"user": user, **context})

    @get("/units/{unit_code:str}/comments")
    async def unit_comments(self, request: Request, state: State, unit_code: FromPath[str],
                            campaign: FromQuery[str] = "", q: FromQuery[str] = "", page: FromQuery[int] = 1) -> Template:
        user: SignedInUser = request.user
        unit = await manager.scoped_unit(unit_code, user.unit_ids or frozenset())
        if unit is None:
            await refuse_other_unit(request, unit_code)
        context = await manager.comments_view(unit, user.unit_ids or frozenset(), campaign[:32], q[:200], page,
                                              state.settings.suppress_below)
        return Template(template_name="comments.html", context={
            "user": user, **context, "base": f"/manager/units/{unit_code}/comments"})


ANALYST_HANDLERS = [CampaignController, ManagerController]
