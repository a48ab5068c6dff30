"""The official's pages: /o (enter the code), /o/{section} (one section per page, saved on every submit), /o/sent."""

from __future__ import annotations

import logging

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie, ResponseHeader, State
from litestar.middleware.rate_limit import get_remote_address
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from sampling.codes import format_code, is_valid_code, normalize_code
from survey_app.accounts import PUBLIC
from survey_app.officials.services import (
    COOKIE_MAX_AGE,
    COOKIE_NAME,
    CodeRefused,
    OfficialContext,
    first_open_section,
    invitation_for_code,
    load_context,
    read_session,
    save_draft,
    sign_session,
    start,
    submit,
)
from survey_app.public.controllers import pick_language
from survey_app.public.repeats import errors_of, flat_values, member_blocks, posted_members

logger = logging.getLogger("survey_app")
# Refusals that count as a guess: a malformed code (422) or one that opens nothing (403). A spent code or a closed
# campaign means the code was real, so it does not count.
GUESSES = (403, 422)
TOO_MANY_VI = "Ông/bà đã nhập sai mã quá nhiều lần. Vui lòng thử lại sau {minutes} phút."
TOO_MANY_EN = "Too many wrong codes. Please try again in {minutes} minutes."
NO_SESSION = CodeRefused(403, "Phiên làm việc đã hết hạn. Vui lòng nhập lại mã trên phiếu mời để tiếp tục.",
                         "Your session has ended. Enter the code from your invitation slip again to continue.")


def session_cookie(settings, value: str, max_age: int = COOKIE_MAX_AGE) -> Cookie:
    return Cookie(key=COOKIE_NAME, value=value, path="/o", max_age=max_age, httponly=True, samesite="lax",
                  secure=settings.base_url.startswith("https://"))


def code_page(lang: str, refused: CodeRefused | None = None, code: str = "") -> Template:
    context = {"lang": lang, "code": code, "error": refused and (refused.message_en if lang == "en"
                                                                 else refused.message_vi)}
    return Template(template_name="official_code.html", context=context,
                    status_code=refused.status if refused else 200)


def readable_code(text: str) -> str:
    """A valid code as printed on the slip (ABCD-EFGH-JK); anything else as given, to be corrected by hand."""
    return format_code(normalize_code(text)) if is_valid_code(text) else text


def too_many_guesses_page(lang: str, seconds: int) -> Template:
    """429 with the wait in minutes (rounded up) and Retry-After; the typed code is not echoed back."""
    minutes = -(-seconds // 60)
    page = code_page(lang, CodeRefused(429, TOO_MANY_VI.format(minutes=minutes), TOO_MANY_EN.format(minutes=minutes)))
    page.headers["Retry-After"] = str(seconds)
    return page


def refused_page(refused: CodeRefused, lang: str, settings) -> Template:
    """The code page with the reason; the (now useless) session cookie is cleared."""
    page = code_page(lang, refused)
    page.cookies.append(session_cookie(settings, "", max_age=0))
    return page


def page_values(form_data, section) -> dict:
    """This page's values as typed: a list for multiple choice, a string otherwise (a repeat's: a list of
    per-member dicts under its key)."""
    if section.repeat:
        return {section.key: posted_members({name: form_data.getall(name) for name in form_data}, section)}
    return {item.key: form_data.getall(item.key, []) if item.type == "multiple" else form_data.get(item.key, "")
            for item in section.items}


def section_page(context: OfficialContext, index: int, lang: str, errors: dict, status: int = 200,
                 more: str | None = None) -> Template:
    definition, draft = context.definition, context.draft
    return Template(template_name="official_section.html", status_code=status, context={
        "definition": definition, "section": definition.sections[index], "index": index,
        "count": len(definition.sections), "lang": lang, "errors": errors,
        "values": flat_values(draft, definition) if definition.repeats else draft,
        "member_blocks": member_blocks(definition, draft, more),
        "unit": context.unit, "domains": [], "action": f"/o/{index}",
    })


class OfficialController(Controller):
    path = "/o"
    opt = PUBLIC  # no staff session; the invitation cookie is SameSite=Lax, which stops cross-site posts

    async def _context(self, request: Request, state: State) -> OfficialContext:
        invitation_id = read_session(state.settings.secret_key, request.cookies.get(COOKIE_NAME))
        if invitation_id is None:
            raise NO_SESSION
        return await load_context(invitation_id)

    @get(response_headers=[ResponseHeader(name="Cache-Control", value="no-store")])  # no-referrer: security.py
    async def show(self, lang: FromQuery[str | None] = None, code: FromQuery[str | None] = None) -> Template:
        """The code page; a slip's QR code fills the code in (`?code=`), the official presses Start.

        Opening the link changes nothing (a link preview or prefetch must not start the questionnaire)."""
        return code_page(pick_language(lang), code=readable_code((code or "")[:64]))

    @post(status_code=200)
    async def enter(self, request: Request, state: State) -> Template | Redirect:
        form_data = await request.form()
        lang = pick_language(form_data.get("_lang"))
        typed = str(form_data.get("code", ""))[:64]
        address = get_remote_address(request)
        seconds_blocked = await state.code_guesses.seconds_blocked(address)
        if seconds_blocked:
            return too_many_guesses_page(lang, seconds_blocked)
        try:
            invitation = await invitation_for_code(state.settings.secret_key, typed)
            context = await load_context(invitation["id"])
        except CodeRefused as refused:
            logger.info("invitation code refused (%s)", refused.message_en)
            if refused.status in GUESSES:
                await state.code_guesses.record_failure(address)
            return code_page(lang, refused, typed)
        await start(context)
        redirect = Redirect(path=f"/o/{first_open_section(context)}?lang={lang}", status_code=303)
        redirect.cookies.append(session_cookie(state.settings, sign_session(state.settings.secret_key,
                                                                              invitation["id"])))
        return redirect

    @get("/{index:int}")
    async def section(self, request: Request, state: State, index: FromPath[int],
                      lang: FromQuery[str | None] = None) -> Template | Redirect:
        try:
            context = await self._context(request, state)
        except CodeRefused as refused:
            return refused_page(refused, pick_language(lang), state.settings)
        lang = pick_language(lang, context.definition.languages)
        if not 0 <= index < len(context.definition.sections):
            return Redirect(path=f"/o/0?lang={lang}", status_code=303)
        return section_page(context, index, lang, {})

    @post("/{index:int}", status_code=200)
    async def save(self, request: Request, state: State, index: FromPath[int]) -> Template | Redirect:
        form_data = await request.form()
        try:
            context = await self._context(request, state)
        except CodeRefused as refused:
            return refused_page(refused, pick_language(form_data.get("_lang")), state.settings)
        lang = pick_language(form_data.get("_lang"), context.definition.languages)
        sections = context.definition.sections
        if not 0 <= index < len(sections):
            return Redirect(path=f"/o/0?lang={lang}", status_code=303)
        draft = await save_draft(context, page_values(form_data, sections[index]))
        action = form_data.get("_action", "next")
        if form_data.get("_more"):  # "Thêm một người/lượt": the same page again with the blocks asked for
            return section_page(context, index, lang, {}, more=form_data.get("_more"))  # save_draft updated it
        if action == "save":
            return Template(template_name="official_saved.html", context={"lang": lang})
        if action == "back":
            return Redirect(path=f"/o/{max(index - 1, 0)}?lang={lang}", status_code=303)
        answers, errors = context.definition.validate_answers(draft, lang=lang)
        page_errors = errors_of(sections[index], errors)
        if page_errors:
            return section_page(context, index, lang, page_errors, status=422)
        if action != "submit" or index < len(sections) - 1:
            return Redirect(path=f"/o/{min(index + 1, len(sections) - 1)}?lang={lang}", status_code=303)
        if errors:  # an earlier page still has a missing or wrong answer: show the first such page
            first = next(number for number, section in enumerate(sections) if errors_of(section, errors))
            return section_page(context, first, lang, errors, status=422)
        if not await submit(context, answers):
            return refused_page(CodeRefused(410, USED_VI, USED_EN), lang, state.settings)
        sent = Redirect(path=f"/o/sent?lang={lang}", status_code=303)
        sent.cookies.append(session_cookie(state.settings, "", max_age=0))
        return sent

    @get("/sent")
    async def sent(self, lang: FromQuery[str | None] = None) -> Template:
        return Template(template_name="official_sent.html", context={"lang": pick_language(lang)})


USED_VI = "Phiếu này đã được gửi. Mỗi mã chỉ dùng được một lần."
USED_EN = "These answers have already been submitted. Each code works only once."
