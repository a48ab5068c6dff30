"""Jinja filters shared by every page: Vietnamese dates, percentages, labels in the chosen language."""

from __future__ import annotations

import datetime as dt
import re

from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup

from questionnaires.languages import own_name
from survey_app.core.vietnam_time import VIETNAM_TIME
from survey_app.core.wording import LANGUAGE_COOKIE


def in_vietnam(moment: dt.datetime) -> dt.datetime:
    """A stored moment (UTC; SQLite may hand it back without its zone) as a clock in Vietnam shows it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(VIETNAM_TIME)


def vietnamese_date(value: dt.date | dt.datetime | None) -> str:
    if isinstance(value, dt.datetime):
        value = in_vietnam(value)
    return value.strftime("%d/%m/%Y") if value else ""


def vietnamese_time(value: dt.datetime | None, seconds: bool = False) -> str:
    """dd/mm/yyyy hh:mm in Vietnam's time (UTC+7): what staff read on every page."""
    if value is None or value != value:  # NaT from pandas
        return ""
    return in_vietnam(value).strftime("%d/%m/%Y %H:%M" + (":%S" if seconds else ""))


def percent(value: float | None) -> str:
    """82.35 → '82,4 %' (Vietnamese decimal comma); None → '–'."""
    return "–" if value is None else f"{value:.1f}".replace(".", ",") + " %"


def thousands(value: int) -> str:
    """1234567 → '1.234.567' (Vietnamese groups thousands with dots)."""
    return f"{value:,}".replace(",", ".")


def percent_share(value: float | None) -> str:
    """0.4286 → '42,9 %'; a missing or undefined rate → '–'."""
    if value is None or value != value:  # NaN: a rate with an empty denominator
        return "–"
    return percent(100 * value)


def label(texts: dict | None, lang: str = "vi") -> str:
    """Text in the chosen language, falling back to Vietnamese, then to any language."""
    if not texts:
        return ""
    return texts.get(lang) or texts.get("vi") or next(iter(texts.values()))


def chrome_language(lang: str) -> str:
    """The language of the page's own words (buttons, errors): English or Vietnamese; a questionnaire read in
    another language (?lang=fr) keeps Vietnamese around its translated texts."""
    return "en" if lang == "en" else "vi"


def text_language(texts: dict | None, lang: str = "vi") -> str:
    """The language `label` shows for these texts: `lang`, else Vietnamese, else the first there is."""
    if not texts or texts.get(lang):
        return lang
    return "vi" if texts.get("vi") else next(iter(texts))


def in_own_language(html: Markup, texts: dict | None, lang: str) -> Markup:
    """The text marked with its language (<span lang="fr">) when it is not the page's own language."""
    language = text_language(texts, lang)
    if language == chrome_language(lang):
        return html
    return Markup('<span lang="{}">{}</span>').format(language, html)


def shown(texts: dict | None, lang: str = "vi") -> Markup:
    """A questionnaire text in the page body: `label`, marked with its language when the page's is another."""
    return in_own_language(Markup.escape(label(texts, lang)), texts, lang)


def piped(texts: dict | None, lang: str = "vi", definition=None, values: dict | None = None) -> Markup:
    """The label with each `${key}` replaced by the answer given so far, in a <span data-pipe> that the page
    script keeps up to date; everything else HTML-escaped; marked with its language as `shown` does."""
    return in_own_language(_piped(texts, lang, definition, values), texts, lang)


def _piped(texts: dict | None, lang: str, definition, values: dict | None) -> Markup:
    from questionnaires import piping

    text = label(texts, lang)
    if definition is None or "${" not in text:
        return Markup.escape(text)
    values, shown = values or {}, []
    for is_reference, part in piping.parts(text):
        if not is_reference:
            shown.append(Markup.escape(part))
            continue
        try:
            answer = piping.answer_text(definition.item(part), values.get(part), lang)
        except KeyError:
            answer = "${%s}" % part
        shown.append(Markup('<span class="piped" data-pipe="{}">{}</span>').format(part, answer))
    return Markup("").join(shown)


# English notes beside the Vietnamese text: <span class="en">…</span> and <p class="en">…</p> (they never nest).
ENGLISH_NOTES = re.compile(r'\s?<(span|p) class="en"[^>]*>.*?</\1>', re.DOTALL)


def page_language(request: object, lang: object = None) -> str:
    """The page's own language (a form asked for with ?lang=en), else the staff member's switch (a cookie)."""
    if lang in ("vi", "en"):
        return lang
    cookies = getattr(request, "cookies", None) or {}
    return "en" if cookies.get(LANGUAGE_COOKIE) == "en" else "vi"


def english_notes(html: str, language: str) -> str:
    """Vietnamese pages carry no English sentence: the English notes stay only on a page read in English."""
    return Markup(html if language == "en" else ENGLISH_NOTES.sub("", str(html)))


def configure_environment(engine: JinjaTemplateEngine) -> None:
    from survey_app.accounts.controllers import nav_links
    from survey_app.core.wording import design_note_vi

    engine.engine.filters.update(design_vi=design_note_vi, vndate=vietnamese_date, vntime=vietnamese_time, percent=percent, percent_share=percent_share, label=label, piped=piped,
                                  shown=shown, thousands=thousands, english_notes=english_notes)
    engine.engine.globals.update(nav_links=nav_links, page_language=page_language, chrome_language=chrome_language,
                                 own_language_name=own_name)
