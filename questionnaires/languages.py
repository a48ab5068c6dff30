"""Language codes of questionnaire texts: which codes are valid, their names in their own language (for the
language switch), and the code an XLSForm column such as 'label::Français (fr)', 'label::French' or 'label:fr'
stands for. Vietnamese is always the default language: a missing translation shows the Vietnamese text."""

from __future__ import annotations

import re

DEFAULT_LANGUAGE = "vi"
# BCP 47 as questionnaires use it: a 2–3 letter language, then optional script/region subtags (zh-Hant, pt-BR)
CODE_PATTERN = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
# Each language's name in that language, shown on the switch; ethnic minority languages of Vietnam included
OWN_NAMES = {
    "vi": "Tiếng Việt", "en": "English", "fr": "Français", "km": "ភាសាខ្មែរ", "lo": "ພາສາລາວ", "zh": "中文",
    "ja": "日本語", "ko": "한국어", "th": "ไทย", "de": "Deutsch", "es": "Español", "it": "Italiano",
    "pt": "Português", "ru": "Русский", "ar": "العربية", "hi": "हिन्दी", "id": "Bahasa Indonesia",
    "ms": "Bahasa Melayu", "my": "မြန်မာ", "sw": "Kiswahili", "mk": "Македонски", "nl": "Nederlands",
    "hmn": "Hmoob", "tyz": "Tày", "nut": "Nùng", "blt": "Tai Dam", "mtq": "Mường", "cjm": "Chăm", "rad": "Êđê",
    "jra": "Jarai", "bdq": "Bahnar",
}
# English (and Vietnamese) names an XLSForm column may use instead of a code: 'label::French', 'label::chinese'
NAMED_CODES = {
    "vietnamese": "vi", "tiếng việt": "vi", "english": "en", "tiếng anh": "en", "french": "fr", "tiếng pháp": "fr",
    "khmer": "km", "cambodian": "km", "lao": "lo", "laotian": "lo", "chinese": "zh", "mandarin": "zh",
    "japanese": "ja", "korean": "ko", "thai": "th", "german": "de", "spanish": "es", "italian": "it",
    "portuguese": "pt", "russian": "ru", "arabic": "ar", "hindi": "hi", "indonesian": "id", "malay": "ms",
    "burmese": "my", "swahili": "sw", "macedonian": "mk", "dutch": "nl", "hmong": "hmn", "tay": "tyz",
    "nung": "nut", "muong": "mtq", "cham": "cjm", "ede": "rad", "jarai": "jra", "bahnar": "bdq",
} | {name.lower(): code for code, name in OWN_NAMES.items()}


def is_code(text: str) -> bool:
    return bool(CODE_PATTERN.fullmatch(text))


def own_name(code: str) -> str:
    """'Français' for 'fr'; a code without a known name shows itself."""
    return OWN_NAMES.get(code) or OWN_NAMES.get(code.split("-")[0]) or code


def code_of(language: str) -> str | None:
    """The code a column's language part stands for: 'Français (fr)' → 'fr', 'French' → 'fr', 'EN' → 'en';
    None when the text names no language we know and holds no code."""
    text = " ".join(language.split())
    in_brackets = re.search(r"\(([^()]+)\)\s*$", text)
    if in_brackets and is_code(_lower_language(in_brackets.group(1).strip())):
        return _lower_language(in_brackets.group(1).strip())
    if text.lower() in NAMED_CODES:
        return NAMED_CODES[text.lower()]
    return text.lower() if re.fullmatch(r"[A-Za-z]{2,3}", text) else None


def _lower_language(code: str) -> str:
    """'EN' → 'en', 'ZH-Hant' → 'zh-Hant': the language subtag is lower case, the script and region keep theirs."""
    language, dash, rest = code.partition("-")
    return language.lower() + dash + rest


def column_name(code: str) -> str:
    """The language part of an exported column, as pyxform documents it: 'Tiếng Việt (vi)', 'Français (fr)'."""
    return f"{own_name(code)} ({code})" if own_name(code) != code else code


def with_fallback(texts: dict[str, str], languages: list[str]) -> tuple[dict[str, str], list[str]]:
    """(texts in every language, the languages that were missing): a missing one shows the default language's
    text, else the first text there is."""
    if not texts:
        return {}, []
    fallback = texts.get(DEFAULT_LANGUAGE) or next(iter(texts.values()))
    missing = [language for language in languages if not texts.get(language)]
    return {language: texts.get(language) or fallback for language in languages}, missing
