"""The dossier feed's web door: the API the one-stop system posts to, the QR code of a dossier's rating link, and
the citizen's rating page reached by that link."""

from __future__ import annotations

import json
import logging

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from survey_app.accounts import PUBLIC, access
from survey_app.core.dossier_tables import Dossier
from survey_app.core.errors import error_body
from survey_app.dossiers import rating, services
from survey_app.public.controllers import pick_language, raw_answers, submission_key
from survey_app.public.form_body import first, posted_fields
from survey_app.units.qr import qr_png, qr_svg

logger = logging.getLogger("survey_app")
# No CSRF token is asked (machines post here), so a post must be JSON: another site's page cannot send that to us
# without a CORS preflight, which this server never grants, and a session cookie is SameSite=Lax besides.
API_ACCESS = {**access("analyst"), "exclude_from_csrf": True}
ALREADY_RATED = {
    "title": "Hồ sơ này đã được đánh giá", "title_en": "This dossier has already been rated",
    "detail": "Mỗi hồ sơ chỉ được đánh giá một lần. Cảm ơn ông/bà đã dành thời gian!",
    "detail_en": "Each dossier can be rated only once. Thank you for your time!",
}
NO_CAMPAIGN = {
    "title": "Chưa có đợt đánh giá đang mở", "title_en": "No rating campaign is open",
    "detail": "Hiện chưa có đợt khảo sát nào đang mở cho đơn vị giải quyết hồ sơ này. Xin ông/bà quay lại sau.",
    "detail_en": "No survey campaign is open for the unit that handled this dossier. Please come back later.",
}
THANKS = {
    "title": "Đã gửi — xin cảm ơn ông/bà!", "title_en": "Sent — thank you!",
    "detail": "Đánh giá của ông/bà về hồ sơ này đã được lưu.", "detail_en": "Your rating of this dossier is stored.",
}


def dossiers_in(body) -> list[tuple[int, dict]] | None:
    """One dossier object, a list of them, or {"dossiers": [...]}, numbered from 1; None when it is neither."""
    if isinstance(body, dict) and isinstance(body.get("dossiers"), list):
        body = body["dossiers"]
    elif isinstance(body, dict):
        body = [body]
    if not isinstance(body, list) or not all(isinstance(entry, dict) for entry in body):
        return None
    return list(enumerate(body, start=1))


def refused(status: int, message: str, problems: list[services.RowProblem] = ()) -> Response:
    return Response(error_body(status, message, [problem.as_dict() for problem in problems]), status_code=status,
                    media_type=MediaType.JSON)


def links_of(settings, link_id: str) -> dict:
    return {"rating_url": rating.rating_url(settings.base_url, settings.secret_key, link_id),
            "qr_png": f"/api/v1/dossiers/{link_id}/qr?format=png", "qr_svg": f"/api/v1/dossiers/{link_id}/qr?format=svg"}


def is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower() == "application/json"



def form_languages(context: rating.RatingContext) -> list[str]:
    """The rating form's languages; without an open campaign, the page's own (vi, en)."""
    return context.definition.languages if context.questionnaire else ["vi", "en"]

class DossierApiController(Controller):
    path = "/api/v1/dossiers"
    opt = API_ACCESS

    @post(status_code=201, request_max_body_size=4 * 1024 * 1024, responses={
        415: ResponseSpec(data_container=None, description="the body is not sent as application/json",
                          generate_examples=False),
        422: ResponseSpec(data_container=None, description="a dossier was refused: every row, field and reason "
                          "listed in errors; none of the batch was stored", generate_examples=False)})
    async def receive(self, request: Request, state: State) -> Response:
        """Completed dossiers (one, a list, or {"dossiers": [...]}), all stored or none: 201 with each dossier's
        rating link and QR code addresses, or 422 listing every row, field and reason."""
        if not is_json(request):
            return refused(415, "Gửi nội dung JSON với Content-Type: application/json.")
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return refused(400, "Nội dung gửi lên không phải JSON hợp lệ.")
        numbered = dossiers_in(body)
        if numbered is None:
            return refused(422, "Gửi một hồ sơ, một danh sách hồ sơ hoặc {\"dossiers\": [...]}.")
        if len(numbered) > services.MAX_BATCH:
            return refused(422, f"Mỗi lần gửi tối đa {services.MAX_BATCH} hồ sơ; hãy chia nhỏ hoặc nhập bằng tệp.")
        try:
            stored = await services.store_dossiers(numbered, state.settings.secret_key, source="api")
        except services.DossiersRefused as refusal:
            return refused(422, f"{len(refusal.problems)} lỗi; không hồ sơ nào được lưu.", refusal.problems)
        dossiers = [{"row": entry.row, "code": entry.code, **links_of(state.settings, entry.link_id)}
                    for entry in stored]
        return Response({"ok": True, "stored": len(dossiers), "dossiers": dossiers}, status_code=201)

    @get("/{link_id:str}/qr")
    async def qr(self, request: Request, state: State, link_id: FromPath[str],
                 format: FromQuery[str] = "png") -> Response:
        """The QR code of a dossier's rating link, for its result slip: PNG (default) or SVG."""
        if format not in ("png", "svg") or not await Dossier.exists().where(
                (Dossier.link_id == link_id) & Dossier.held_by.is_null()):
            return refused(404, "Không có hồ sơ này, hoặc định dạng không phải png/svg.")
        url = rating.rating_url(state.settings.base_url, state.settings.secret_key, link_id)
        if format == "svg":
            return Response(qr_svg(url), media_type="image/svg+xml")
        return Response(qr_png(url), media_type="image/png")


def message_page(texts: dict, lang: str, status: int) -> Template:
    return Template(template_name="dossier_message.html", context={**texts, "lang": lang}, status_code=status)


class DossierRatingController(Controller):
    path = "/d/{token:str}"
    opt = PUBLIC

    @get(responses={
        409: ResponseSpec(data_container=None, description="the dossier was already rated", generate_examples=False),
        410: ResponseSpec(data_container=None, description="no rating campaign is open for the dossier's unit",
                          generate_examples=False)})
    async def show(self, state: State, token: FromPath[str], lang: FromQuery[str | None] = None) -> Template:
        context = await rating.load_rating(state.settings.secret_key, token)
        language = pick_language(lang, form_languages(context))
        if context.rated:
            return message_page(ALREADY_RATED, language, 409)
        if context.campaign is None:
            return message_page(NO_CAMPAIGN, language, 410)
        return self.form(context, language, {}, {}, rating.fresh_key())

    @staticmethod
    def form(context: rating.RatingContext, lang: str, values: dict, errors: dict, key: str,
             status: int = 200) -> Template:
        return Template(template_name="dossier_rating.html", status_code=status, context={
            "rating": context, "definition": context.definition, "lang": lang, "values": values, "errors": errors,
            "idempotency_key": key})

    @post(status_code=200, responses={
        410: ResponseSpec(data_container=None, description="no rating campaign is open for the dossier's unit",
                          generate_examples=False)})
    async def submit(self, request: Request) -> Template | Redirect:
        state, token = request.app.state, request.path_params["token"]
        context = await rating.load_rating(state.settings.secret_key, token)
        await state.form_posts.check(request)
        fields = await posted_fields(request)
        lang = pick_language(first(fields, "_lang"), form_languages(context))
        key = submission_key(first(fields, "_key"))
        if context.campaign is None:
            return message_page(NO_CAMPAIGN, lang, 410)
        values = rating.answers_with_dossier(context, raw_answers(fields, context.definition))
        answers, errors = context.definition.validate_answers(values, lang=lang)
        if errors:
            return self.form(context, lang, values, errors, key, status=422)
        outcome = await rating.store_rating(context, answers, key)
        if outcome is rating.RatingOutcome.ALREADY_RATED:
            return message_page(ALREADY_RATED, lang, 409)
        return Redirect(path=f"{context.path}/thanks?lang={lang}", status_code=303)

    @get("/thanks")
    async def thanks(self, state: State, token: FromPath[str], lang: FromQuery[str | None] = None) -> Template:
        rating.link_id_of(state.settings.secret_key, token)
        return message_page(THANKS, pick_language(lang), 200)
