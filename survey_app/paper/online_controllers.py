"""A paper copy answered online: its QR code opens /p/TOKEN, the same form as a counter's, stored once for the
copy (afterwards neither the link nor keying the paper copy stores anything)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from survey_app.accounts import PUBLIC
from survey_app.core.vietnam_time import today_in_vietnam
from survey_app.paper import services
from survey_app.paper.printing import copy_label
from survey_app.core.paper_tables import PaperCopy
from survey_app.core.tables import Unit
from survey_app.public.controllers import (
    already_rated,
    closed_page,
    pick_language,
    raw_answers,
    render_form,
    submission_key,
)
from survey_app.public.form_body import first, posted_fields
from survey_app.public.services import FormContext


@dataclass(frozen=True)
class PaperFormContext(FormContext):
    """The counter form's context for a paper copy: the copy's number where the counter's name goes."""

    @property
    def path(self) -> str:
        return f"/p/{self.token}"


def form_context(found: services.OnlineCopy, token: str) -> PaperFormContext:
    label = copy_label(found.copy["serial"])
    return PaperFormContext(campaign=found.campaign, unit=found.unit, questionnaire=found.questionnaire, token=token,
                            counter={"id": None, "name": f"Phiếu số {label}", "name_en": f"Copy no. {label}"},
                            domain_ids={})


def refused_page(refused: services.PaperRefused, lang: str) -> Template:
    detail = refused.message_en if lang == "en" else refused.message_vi
    return Template(template_name="message.html", status_code=refused.status,
                    context={"title": "Không mở được phiếu", "title_en": "Cannot open this copy", "detail": detail})


async def open_copy(secret_key: str, token: str, lang: str):
    """(the copy, its form context), or the page that says why it cannot be answered (refused or closed)."""
    try:
        found = await services.online_copy(secret_key, token)
    except services.PaperRefused as refused:
        return refused_page(refused, lang)
    form = form_context(found, token)
    return closed_page(form, lang) if form.is_closed(today_in_vietnam()) else (found, form)


class PaperOnlineController(Controller):
    path = "/p/{token:str}"
    opt = PUBLIC

    @get()
    async def show(self, state: State, token: FromPath[str], lang: FromQuery[str | None] = None) -> Template:
        opened = await open_copy(state.settings.secret_key, token, pick_language(lang))
        if isinstance(opened, Template):
            return opened
        form = opened[1]
        return await render_form(form, pick_language(lang, form.definition.languages), {}, {}, uuid.uuid4().hex)

    @post(status_code=200)
    async def submit(self, request: Request, token: FromPath[str]) -> Template | Redirect:
        state = request.app.state
        await state.form_posts.check(request)
        fields = await posted_fields(request)
        lang = pick_language(first(fields, "_lang"))
        opened = await open_copy(state.settings.secret_key, token, lang)
        if isinstance(opened, Template):
            return opened
        found, form = opened
        lang = pick_language(first(fields, "_lang"), form.definition.languages)
        values = raw_answers(fields, form.definition)
        answers, errors = form.definition.validate_answers(values, lang=lang)
        key = submission_key(first(fields, "_key"))
        if errors:
            return await render_form(form, lang, values, errors, key, status=422)
        outcome = await services.store_online(state.settings.secret_key, found, answers)
        if outcome == "dossier":
            dossier_items = [item.key for item in form.definition.items if item.type == "dossier_code"]
            return await render_form(form, lang, values, dict.fromkeys(dossier_items, already_rated(lang)),
                                     key, status=409)
        if outcome != "stored":
            return refused_page(services.PaperRefused(*services.ONLINE_REFUSALS[outcome], status=410), lang)
        return Redirect(path=f"/p/{token}/thanks?lang={lang}", status_code=303)

    @get("/thanks")
    async def thanks(self, state: State, token: FromPath[str], lang: FromQuery[str | None] = None) -> Template:
        found = services.read_token(state.settings.secret_key, token)
        copy = await PaperCopy.select(PaperCopy.unit).where(
            (PaperCopy.campaign == found[0]) & (PaperCopy.serial == found[1])).first() if found else None
        unit = await Unit.select().where(Unit.id == copy["unit"]).first() if copy else {"name": "", "name_en": ""}
        form = {"unit": unit, "path": f"/p/{token}"}
        return Template(template_name="thanks.html", context={"form": form, "lang": pick_language(lang),
                                                              "kiosk": False})
