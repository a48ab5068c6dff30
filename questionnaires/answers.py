"""Validation of submitted answers against a definition: one cleaner per item type, all errors at once."""

from __future__ import annotations

import datetime
import math
import re
import unicodedata
from typing import Mapping

from questionnaires.errors import answer_message
from questionnaires.items import Item
from questionnaires.standard import (DEFAULT_CODE_LENGTH, DEFAULT_TEXT_LENGTH, MAX_MEMBERS, NOT_APPLICABLE,
                                     NOT_ASKED_TYPES)


INTEGER_TEXT = re.compile(r"[+-]?\d+")
DECIMAL_TEXT = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)")
CODE_TEXT = re.compile(r"[A-Za-z0-9._/\-]+")
ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
DAY_FIRST_DATE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
# 14:30, 14h30, 14.30, and ODK's 14:30:00.000+07:00 (seconds and zone dropped: a time of day is kept to the minute)
TIME_OF_DAY = re.compile(r"(\d{1,2})[:hH.](\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
DATE_AND_TIME = re.compile(r"(\S+)(?:T|\s+(?:lúc\s+)?)(\S+)")


class AnswerError(ValueError):
    """An answer that cannot be accepted; `name` is a key of errors.ANSWER_MESSAGES."""

    def __init__(self, name: str, **values: object):
        super().__init__(name)
        self.name = name
        self.values = values


def cleaned(items, raw: Mapping[str, object], language: str) -> tuple[dict, dict]:
    """(each answered item's clean value, each refused item's message): the fields one by one, nothing more."""
    clean, errors = {}, {}
    for item in items:
        try:
            value = clean_answer(item, raw.get(item.key))
        except AnswerError as error:
            errors[item.key] = limit_message(item, error, language)
            continue
        if value is not None:
            clean[item.key] = value
    return clean, errors


def validate_answers(questionnaire, raw: Mapping[str, object], language: str = "vi") -> tuple[dict, dict]:
    """Clean every known field, then apply visibility and required; unknown fields are ignored."""
    clean, errors = cleaned(questionnaire.items, raw, language)
    check_cascading_choices(questionnaire.items, clean, errors, language)
    add_calculations(questionnaire, clean)
    visible = questionnaire.visible_keys(clean)
    hidden = {item.key for item in questionnaire.items} - visible
    for key in hidden:
        clean.pop(key, None)
        errors.pop(key, None)
    if hidden and questionnaire.calculations:  # computed again without the hidden answers, as a phone would
        add_calculations(questionnaire, clean)
        for key in hidden & set(questionnaire.calculations):
            clean.pop(key, None)
    for item in questionnaire.items:
        if item.key not in visible:
            continue
        if item.required and item.key not in clean and item.key not in errors:
            errors[item.key] = answer_message("required", language)
    for section in questionnaire.repeats:
        validate_members(questionnaire, section, raw.get(section.key), clean, errors, language)
    return clean, errors


def validate_members(questionnaire, section, raw_members: object, clean: dict, errors: dict, language: str) -> None:
    """A repeat's answers: a list of per-member raw dicts, each cleaned like the answers asked once (its show_if
    reads its siblings and the answers asked once); errors are keyed `repeat.N.item` and name the member. The
    number of members must be the count asked for, within minimum and maximum."""
    members = [member if isinstance(member, Mapping) else {} for member in raw_members or []
               ] if isinstance(raw_members, (list, tuple)) else []
    expected = section.repeat.expected_count(clean)
    if expected is None:  # without a count, a block left wholly empty is no member
        members = [member for member in members if any(_as_texts(value) for value in member.values())]
    count_error = member_count_error(section.repeat, len(members), expected, language)
    if count_error:
        errors[section.key] = count_error
    kept = []
    for number, member in enumerate(members, start=1):
        member_clean, member_errors = validate_member(questionnaire, section, member, clean, language)
        kept.append(member_clean)
        for key, text in member_errors.items():
            errors[f"{section.key}.{number}.{key}"] = member_message(number, text, language)
    if kept:
        clean[section.key] = kept


def validate_member(questionnaire, section, raw: Mapping, outer: dict, language: str) -> tuple[dict, dict]:
    member, errors = cleaned(section.items, raw, language)
    check_cascading_choices(section.items, {**outer, **member}, errors, language)
    member = {key: value for key, value in member.items() if key not in errors}
    conditions = questionnaire.member_conditions[section.key]
    calculations = questionnaire.member_calculations[section.key]
    for _ in range(2 if calculations else 1):  # computed again once hidden answers are dropped, as a phone would
        add_member_calculations(calculations, outer, member)
        visible = visible_keys(section.items, conditions, {**outer, **member})
        member = {key: value for key, value in member.items() if key in visible}
    for item in section.items:
        if item.key not in visible:
            errors.pop(item.key, None)
        elif item.required and item.key not in member and item.key not in errors:
            errors[item.key] = answer_message("required", language)
    return member, errors


def add_member_calculations(calculations: dict, outer: dict, member: dict) -> None:
    from questionnaires.xpath_eval import evaluate, stored

    for key, tree in calculations.items():
        member.pop(key, None)
        value = stored(evaluate(tree, {**outer, **member}))
        if value is not None:
            member[key] = value


def member_count_error(repeat, given: int, expected: int | None, language: str) -> str | None:
    if expected is not None and expected > MAX_MEMBERS:  # a count answer the page could never show blocks for
        return answer_message("too_many_members", language, maximum=MAX_MEMBERS)
    if expected is not None and given != expected:
        return answer_message("member_count", language, expected=expected, given=given)
    if repeat.minimum is not None and given < repeat.minimum:
        return answer_message("too_few_members", language, minimum=repeat.minimum)
    if repeat.maximum is not None and given > repeat.maximum:
        return answer_message("too_many_members", language, maximum=repeat.maximum)
    return None


def member_message(number: int, text: str, language: str) -> str:
    """'Thành viên 2: …': which member an error is about."""
    return answer_message("member", language, number=number, message=text)


def add_calculations(questionnaire, clean: dict) -> None:
    """Each calculate item's value from the answers (and earlier calculations), in questionnaire order; the server
    is the authority: a posted value for it is never read."""
    from questionnaires.xpath_eval import evaluate, stored

    for key, tree in questionnaire.calculations.items():
        clean.pop(key, None)
        value = stored(evaluate(tree, clean))
        if value is not None:
            clean[key] = value


def check_cascading_choices(items: list[Item], clean: dict, errors: dict, language: str) -> None:
    """A choice a cascading filter does not offer for the other answers is refused (the page without JavaScript
    shows every choice; the server decides)."""
    for item in items:
        if not item.choice_filter or item.key not in clean:
            continue
        offered = {choice.value for choice in item.offered_choices(clean)}
        picked = clean[item.key] if isinstance(clean[item.key], list) else [clean[item.key]]
        if not set(picked) <= offered:
            clean.pop(item.key)
            errors[item.key] = answer_message("not_offered", language)


LIMIT_ERRORS = {"below_minimum", "above_maximum", "too_long", "pattern_mismatch", "too_many_choices",
                "before_earliest", "after_latest"}


def limit_message(item: Item, error: AnswerError, language: str) -> str:
    """The item's own constraint_message for a broken limit (in `language`, else Vietnamese), else the standard."""
    if error.name in LIMIT_ERRORS and item.constraint_message:
        return item.constraint_message.get(language) or item.constraint_message["vi"]
    return answer_message(error.name, language, **error.values)


def visible_keys(items: list[Item], conditions: Mapping[str, tuple], answers: Mapping[str, object]) -> set[str]:
    """Keys of items whose show_if holds, judging each condition only on answers of visible items; `conditions`
    maps an item key to (condition function, the known item keys it reads), as Questionnaire._conditions."""
    decided: dict[str, bool] = {}
    return {item.key for item in items if _is_visible(item.key, conditions, answers, decided)}


def _is_visible(key: str, conditions: Mapping[str, tuple], answers: Mapping[str, object], decided: dict) -> bool:
    """Memoised in `decided`. A plain function: a recursive closure is a reference cycle, garbage that only the
    collector frees, left by every submission."""
    if key not in decided:
        condition = conditions.get(key)
        if condition is None:
            decided[key] = True
        else:
            holds, reads = condition
            decided[key] = holds({name: answers.get(name) for name in reads
                                  if _is_visible(name, conditions, answers, decided)})
    return decided[key]


def clean_answer(item: Item, raw_value: object):
    """The clean value of one answer, None when unanswered; raises AnswerError when it cannot be accepted."""
    if item.type in NOT_ASKED_TYPES:  # a note is read, a calculate computed: a posted value is ignored
        return None
    if item.type == "multiple":
        return _clean_multiple(item, _as_texts(raw_value))
    text = _as_single_text(raw_value)
    if text is None:
        return None
    return CLEANERS[item.type](item, text)


def _as_texts(raw_value: object) -> list[str]:
    """Non-empty stripped strings of a raw field, whether it came as one value or a list."""
    values = raw_value if isinstance(raw_value, (list, tuple)) else [raw_value]
    texts = [unicodedata.normalize("NFC", str(value)).strip() for value in values if value is not None]
    return [text for text in texts if text]


def _as_single_text(raw_value: object) -> str | None:
    texts = _as_texts(raw_value)
    if len(texts) > 1:
        raise AnswerError("one_answer_only")
    return texts[0] if texts else None


def _clean_rating(item: Item, text: str):
    if text.lower() == NOT_APPLICABLE:
        return NOT_APPLICABLE
    if text in ("1", "2", "3", "4", "5"):
        return int(text)
    raise AnswerError("not_a_choice")


def _clean_choice(item: Item, text: str) -> str:
    if text not in item.choice_values():
        raise AnswerError("not_a_choice")
    return text


def _clean_multiple(item: Item, texts: list[str]) -> list[str] | None:
    if not texts:
        return None
    unknown = [text for text in texts if text not in item.choice_values()]
    if unknown:
        raise AnswerError("not_a_choice")
    chosen = [value for value in item.choice_values() if value in texts]  # definition order, no duplicates
    if item.max_choices is not None and len(chosen) > item.max_choices:
        raise AnswerError("too_many_choices", maximum=item.max_choices)
    return chosen


def _clean_integer(item: Item, text: str) -> int:
    compact = text.replace(" ", "")
    if not INTEGER_TEXT.fullmatch(compact):
        raise AnswerError("not_an_integer")
    return _check_range(item, int(compact))


def _clean_decimal(item: Item, text: str) -> float:
    compact = text.replace(" ", "")
    if not DECIMAL_TEXT.fullmatch(compact):
        raise AnswerError("not_a_number")
    number = float(compact.replace(",", "."))  # Vietnamese writes 3,5 for 3.5
    if not math.isfinite(number):
        raise AnswerError("not_a_number")
    return _check_range(item, number)


def _check_range(item: Item, number):
    if item.minimum is not None and number < item.minimum:
        raise AnswerError("below_minimum", minimum=_number_text(item.minimum))
    if item.maximum is not None and number > item.maximum:
        raise AnswerError("above_maximum", maximum=_number_text(item.maximum))
    return number


def _number_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _clean_text(item: Item, text: str) -> str:
    limit = item.max_length or DEFAULT_TEXT_LENGTH
    if len(text) > limit:
        raise AnswerError("too_long", max_length=limit)
    if item.pattern and not re.fullmatch(item.pattern, text):
        raise AnswerError("pattern_mismatch")
    return text


def _clean_code(item: Item, text: str) -> str:
    """Dossier, unit and domain codes: short, no spaces or odd characters."""
    if item.choices:
        return _clean_choice(item, text)
    limit = item.max_length or DEFAULT_CODE_LENGTH
    if len(text) > limit:
        raise AnswerError("too_long", max_length=limit)
    if not CODE_TEXT.fullmatch(text):
        raise AnswerError("bad_code")
    if item.pattern and not re.fullmatch(item.pattern, text):
        raise AnswerError("pattern_mismatch")
    return text


def _clean_date(item: Item, text: str) -> str:
    """ISO yyyy-mm-dd from either ISO or the Vietnamese dd/mm/yyyy."""
    iso, day_first = ISO_DATE.fullmatch(text), DAY_FIRST_DATE.fullmatch(text)
    if iso:
        year, month, day = iso.groups()
    elif day_first:
        day, month, year = day_first.groups()
    else:
        raise AnswerError("bad_date")
    try:
        answer = datetime.date(int(year), int(month), int(day))
    except ValueError:
        raise AnswerError("bad_date") from None
    return _check_date_limits(item, answer).isoformat()


def _check_date_limits(item: Item, answer: datetime.date) -> datetime.date:
    """earliest/latest, 'today' being the day in Vietnam at the check; the message writes the day dd/mm/yyyy."""
    earliest, latest = limit_day(item.earliest), limit_day(item.latest)
    if earliest is not None and answer < earliest:
        raise AnswerError("before_earliest", earliest=earliest.strftime("%d/%m/%Y"))
    if latest is not None and answer > latest:
        raise AnswerError("after_latest", latest=latest.strftime("%d/%m/%Y"))
    return answer


def limit_day(limit: str | None) -> datetime.date | None:
    if limit is None:
        return None
    if limit == "today":
        from questionnaires.xpath_eval import now_in_vietnam

        return now_in_vietnam().date()
    return datetime.date.fromisoformat(limit)


def _clean_time(item: Item, text: str) -> str:
    """hh:mm (24 hours) from 14:30, 14h30 or 14.30."""
    found = TIME_OF_DAY.fullmatch(text)
    if not found or int(found.group(1)) > 23 or int(found.group(2)) > 59:
        raise AnswerError("bad_time")
    return f"{int(found.group(1)):02d}:{int(found.group(2)):02d}"  # "١٤:٣٠" is 14:30 too


def _clean_datetime(item: Item, text: str) -> str:
    """yyyy-mm-ddThh:mm (Vietnam's time) from a day and a time, as '25/12/2024 14:30' or ISO '2024-12-25T14:30'."""
    found = DATE_AND_TIME.fullmatch(text)
    if not found:
        raise AnswerError("bad_datetime")
    try:
        return f"{_clean_date(item, found.group(1))}T{_clean_time(item, found.group(2))}"
    except AnswerError:
        raise AnswerError("bad_datetime") from None


CLEANERS = {
    "single": _clean_choice,
    "rating5": _clean_rating,
    "integer": _clean_integer,
    "decimal": _clean_decimal,
    "text": _clean_text,
    "date": _clean_date,
    "time": _clean_time,
    "datetime": _clean_datetime,
    "unit": _clean_code,
    "domain": _clean_code,
    "dossier_code": _clean_code,
}
