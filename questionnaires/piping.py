"""Label piping: `${key}` in a label or hint shows another item's answer (a choice by its label), as XLSForm does.

Pure text work shared by the loader (which keys a label names), the phone form (the answer shown in place) and
paper (the reference said as "câu N").
"""

from __future__ import annotations

import datetime
import re
from typing import Mapping

REFERENCE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}")
UNANSWERED = "…"  # shown where the named question has no answer yet


def references(text: str) -> list[str]:
    """The keys `text` names, in order."""
    return REFERENCE.findall(text or "")


def parts(text: str) -> list[tuple[bool, str]]:
    """(is a reference, literal text or the key) in order; literal parts may be empty."""
    pieces = REFERENCE.split(text or "")
    return [(index % 2 == 1, piece) for index, piece in enumerate(pieces) if piece or index % 2 == 1]


def renamed(text: str, keys: Mapping[str, str]) -> str:
    """`text` with each `${name}` written `${keys[name]}` (XLSForm names → our keys); unknown names unchanged."""
    return REFERENCE.sub(lambda match: "${%s}" % keys.get(match.group(1), match.group(1)), text)


def bracketed(text: str, name_of=lambda key: key) -> str:
    """`text` with each `${key}` as "[name]" (the piped question's column name), for a codebook or a variable label
    read away from any answer: "Vì sao [household] người?"."""
    return REFERENCE.sub(lambda match: f"[{name_of(match.group(1))}]", text or "")


def answer_text(item, value, language: str = "vi") -> str:
    """How an answer reads inside another question's text: choices by label (several joined by ", "), a date as
    dd/mm/yyyy, a whole number without ".0"; UNANSWERED for no answer."""
    values = [part for part in (value if isinstance(value, (list, tuple)) else [value]) if part not in (None, "")]
    if not values:
        return UNANSWERED
    labels = {choice.value: choice.label for choice in getattr(item, "choices", [])}
    return ", ".join(_one(labels, part, language) for part in values)


def _one(labels: dict, value, language: str) -> str:
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    if text in labels:
        return labels[text].get(language) or labels[text].get("vi") or text
    day, _, time_of_day = text.partition("T")  # a datetime answer: 2024-12-25T14:30
    try:
        return " ".join([datetime.date.fromisoformat(day).strftime("%d/%m/%Y")] + ([time_of_day] if time_of_day else []))
    except ValueError:
        return text


def piped_text(text: str, questionnaire, answers: Mapping[str, object], language: str = "vi") -> str:
    """`text` with every reference replaced by that answer's text (plain text: escaping is the page's job)."""
    def answer(match: re.Match) -> str:
        key = match.group(1)
        try:
            item = questionnaire.item(key)
        except KeyError:
            return match.group(0)
        return answer_text(item, answers.get(key), language)

    return REFERENCE.sub(answer, text or "")
