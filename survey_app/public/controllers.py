"""The counter's form: GET shows it, POST validates, stores once and redirects to the thank-you page."""

from __future__ import annotations

import logging
import re
import uuid

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from survey_app.accounts import PUBLIC
from survey_app.public.form_body import first, posted_fields
from survey_app.public.repeats import errors_of, flat_values, member_blocks, posted_members
from survey_app.public.services import (
    FormContext,
    StoreOutcome,
    domain_choices,
    load_form_context,
    store_response,
    verify_token,
)
from survey_app.core.vietnam_time import today_in_vietnam

logger = logging.getLogger("survey_app")
LANGUAGES = ("vi", "en")
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
DOSSIER_ALREADY_RATED = {
    "vi": "Hồ sơ này đã được đánh giá trong đợt khảo sát. Cảm ơn ông/bà!",
    "en": "This dossier has already been rated in this campaign. Thank you!",
}
CONFLICT = "Mã gửi này đã được dùng cho một câu trả lời khác; câu trả lời đầu tiên được giữ nguyên."


def submission_key(sent) -> str:
    """The form's idempotency key (a uuid4 hex the page made); anything else gets a fresh one: a key the
    database would refuse (a NUL byte, say) must not make a whole batch of answers fall back row by row."""
    return sent if isinstance(sent, str) and KEY_PATTERN.fullmatch(sent) else uuid.uuid4().hex


def pick_language(value: str | None, languages=LANGUAGES) -> str:
    """The asked language if the page has it (a questionnaire's `languages`; page words: vi, en), else Vietnamese."""
    return value if value in languages else "vi"


def already_rated(lang: str) -> str:
    """The page's own words: Vietnamese for every language but English."""
    return DOSSIER_ALREADY_RATED["en" if lang == "en" else "vi"]


def first_part_with(errors: dict, definition) -> int:
    """The first section (1-based) holding an error: where a paged form without JavaScript opens."""
    return next((number for number, section in enumerate(definition.sections, start=1)
                 if errors_of(section, errors)), 1)


def section_number(sent, definition) -> int | None:
    """The paged form's section whose "Tiếp theo" was pressed (1-based, never the last); None for a real submit."""
    if definition.layout != "paged" or not isinstance(sent, str) or not sent.isdecimal():
        return None
    number = int(sent)
    return number if 1 <= number < len(definition.sections) else None


def repeat_part(key: str, definition) -> int:
    """The section (1-based) of the repeat whose button was pressed: the paged form stays on it."""
    return next((number for number, section in enumerate(definition.sections, start=1) if section.key == key), 1)


def raw_answers(fields: dict[str, list], definition) -> dict:
    """Submitted values per item: a list for multiple choice, the first value otherwise (missing → empty)."""
    answers = {
        item.key: fields.get(item.key, []) if item.type == "multiple" else first(fields, item.key, "")
        for item in definition.items
    }
    answers.update({section.key: posted_members(fields, section) for section in definition.repeats})
    return answers


async def render_form(
    form: FormContext, lang: str, values: dict, errors: dict, key: str, status: int = 200, kiosk: bool = False,
    part: int = 1, more: str | None = None,
):
    """`part`: the section a paged form shows without JavaScript (the others stay in the page, hidden, with their
    answers); the script shows one section at a time by itself."""
    context = {
        "form": form, "kiosk": kiosk, "definition": form.definition, "lang": lang, "errors": errors,
        "values": flat_values(values, form.definition) if form.definition.repeats else values,
        "member_blocks": member_blocks(form.definition, values, more),
        "idempotency_key": key, "domains": await domain_choices(),
        "action": form.path, "part": part,
    }
    return Template(template_name="form.html", context=context, status_code=status)


def closed_page(form: FormContext, lang: str) -> Template:
    return Template(template_name="closed.html", context={"form": form, "lang": lang}, status_code=410)


class CounterFormController(Controller):
    path = "/q/{token:str}"
    opt = PUBLIC

    @get()
    async def show(
        self, state: State, token: FromPath[str], lang: FromQuery[str | None] = None, kiosk: FromQuery[str] = ""
    ) -> Template:
        form = await load_form_context(state.settings, token, state.form_cache)
        if form.is_closed(today_in_vietnam()):
            return closed_page(form, pick_language(lang))
        lang = pick_language(lang, form.definition.languages)
        return await render_form(form, lang, {}, {}, uuid.uuid4().hex, kiosk=kiosk == "1")

    @post(status_code=200)
    async def submit(self, request: Request) -> Template | Redirect:
        # Only the request: Litestar's parameter parsing and a State per request cost more than these two reads
        state, token = request.app.state, request.path_params["token"]
        verify_token(state.settings, token)  # first: a forged token must not spend a real counter's limit
        await state.form_posts.check(request)
        form = await load_form_context(state.settings, token, state.form_cache)
        fields = await posted_fields(request)
        lang = pick_language(first(fields, "_lang"), form.definition.languages)
        if form.is_closed(today_in_vietnam()):
            return closed_page(form, lang)
        key = submission_key(first(fields, "_key"))
        values = raw_answers(fields, form.definition)
        answers, errors = form.definition.validate_answers(values, lang=lang)
        kiosk = first(fields, "_kiosk") == "1"
        finished_part = section_number(first(fields, "_part"), form.definition)
        more = first(fields, "_more")
        if more:  # "Thêm một người/lượt" without JavaScript: the same page again with the blocks asked for
            return await render_form(form, lang, values, {}, key, kiosk=kiosk, more=more,
                                     part=repeat_part(more, form.definition))
        if finished_part:  # "Tiếp theo" without JavaScript: check the sections so far, then show the next one
            return await self._next_part(form, lang, values, errors, key, kiosk, finished_part)
        if errors:
            return await render_form(form, lang, values, errors, key, status=422, kiosk=kiosk,
                                     part=first_part_with(errors, form.definition))
        outcome = await store_response(form, answers, key, state.settings.secret_key)
        return await self._after_store(form, outcome, lang, values, key, kiosk)

    async def _next_part(self, form: FormContext, lang: str, values: dict, errors: dict, key: str, kiosk: bool,
                         finished: int):
        sections = form.definition.sections[:finished]
        for number, section in enumerate(sections, start=1):
            section_errors = errors_of(section, errors)
            if section_errors:
                return await render_form(form, lang, values, section_errors, key, status=422, kiosk=kiosk,
                                         part=number)
        return await render_form(form, lang, values, {}, key, kiosk=kiosk, part=finished + 1)

    async def _after_store(self, form: FormContext, outcome: StoreOutcome, lang: str, values: dict, key: str,
                           kiosk: bool):
        if outcome in (StoreOutcome.STORED, StoreOutcome.REPLAYED):
            return Redirect(path=f"{form.path}/thanks?lang={lang}{'&kiosk=1' if kiosk else ''}", status_code=303)
        if outcome is StoreOutcome.DOSSIER_ALREADY_RATED:
            dossier_items = [item.key for item in form.definition.items if item.type == "dossier_code"]
            errors = dict.fromkeys(dossier_items, already_rated(lang))
            return await render_form(form, lang, values, errors, uuid.uuid4().hex, status=409)
        logger.warning("idempotency key %s replayed with other answers; refused", key)
        return Template(template_name="message.html", status_code=409,
                        context={"title": "Không thể lưu", "title_en": "Conflict", "detail": CONFLICT})

    @get("/thanks")
    async def thanks(
        self, state: State, token: FromPath[str], lang: FromQuery[str | None] = None, kiosk: FromQuery[str] = ""
    ) -> Template:
        form = await load_form_context(state.settings, token, state.form_cache)
        context = {"form": form, "lang": pick_language(lang, form.definition.languages), "kiosk": kiosk == "1"}
        return Template(template_name="thanks.html", context=context)
