"""Write a questionnaire as an XLSForm workbook (.xlsx) that pyxform converts and our importer reads back whole.

What XLSForm has a column for goes there (groups, types, labels and hints per language, required, relevant,
constraint). What it has none for travels in columns pyxform ignores: `sipas_type` on the survey sheet (rating5
with its scale, unit, domain, dossier_code) and `sipas_extras` on the settings sheet (JSON: both titles, the
description, layout, scoring map and comparable_with).
"""

from __future__ import annotations

import io
import json

from questionnaires.languages import column_name
from questionnaires.model import Questionnaire, comparable_to_dict, repeat_to_dict, scoring_to_dict
from questionnaires.xlsform_logic import show_if_to_relevant

XLSFORM_TYPES = {"integer": "integer", "decimal": "decimal", "text": "text", "date": "date", "time": "time",
                 "datetime": "datetime",
                 "dossier_code": "text", "unit": "text", "domain": "text", "note": "note",
                 "calculate": "calculate"}
SIPAS_TYPES = ("rating5", "unit", "domain", "dossier_code")  # our types that XLSForm has no word for


def export_xlsform(questionnaire: Questionnaire) -> bytes:
    """The .xlsx bytes of the questionnaire as an XLSForm."""
    import openpyxl

    languages = list(questionnaire.languages)
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in (("survey", survey_rows(questionnaire, languages)),
                        ("choices", choice_rows(questionnaire, languages)),
                        ("settings", settings_rows(questionnaire))):
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def text_columns(base: str, languages: list[str]) -> list[str]:
    return [f"{base}::{column_name(language)}" for language in languages]


def survey_rows(questionnaire: Questionnaire, languages: list[str]) -> list[list]:
    header = ["type", "name", *text_columns("label", languages), *text_columns("hint", languages), "required",
              "relevant", "constraint", *text_columns("constraint_message", languages), "sipas_type",
              "choice_filter", "appearance", "calculation", "repeat_count"]
    multiple_keys = {item.key for item in every_item(questionnaire) if item.type == "multiple"}
    rows = [header]
    for section in questionnaire.sections:
        kind = "repeat" if section.repeat else "group"
        begin = [f"begin_{kind}", section.key, *(section.title.get(language) for language in languages)]
        begin += [None] * (len(header) - len(begin))
        begin[header.index("appearance")] = section.appearance
        if section.repeat and section.repeat.count is not None:
            count = section.repeat.count
            begin[header.index("repeat_count")] = count if isinstance(count, int) else f"${{{count}}}"
        rows.append(begin)
        for item in section.items:
            rows.append(item_row(item, languages, multiple_keys))
        rows.append([f"end_{kind}", section.key])
    return rows


def every_item(questionnaire: Questionnaire) -> list:
    """The items asked once and those of repeats."""
    return [item for section in questionnaire.sections for item in section.items]


def item_row(item, languages: list[str], multiple_keys: set[str]) -> list:
    return [xlsform_type(item), item.key, *(item.label.get(language) for language in languages),
            *(item.hint.get(language) for language in languages), "yes" if item.required else None,
            show_if_to_relevant(item.show_if, multiple_keys) if item.show_if else None, constraint(item),
            *(item.constraint_message.get(language) for language in languages), sipas_type(item),
            " and ".join(f"{rule['column']} = ${{{rule['item']}}}" for rule in item.choice_filter) or None,
            item.appearance, item.calculation]


def choice_list_name(item) -> str:
    return f"rating5_{item.scale or 'satisfaction'}" if item.type == "rating5" else item.key


def xlsform_type(item) -> str:
    if item.type == "multiple":
        return f"select_multiple {choice_list_name(item)}"
    if item.type in ("single", "rating5") or (item.type in ("unit", "domain") and item.choices):
        return f"select_one {choice_list_name(item)}"
    return XLSFORM_TYPES[item.type]


def sipas_type(item) -> str | None:
    if item.type == "rating5":
        return f"rating5:{item.scale or 'satisfaction'}"
    return item.type if item.type in SIPAS_TYPES else None


def constraint(item) -> str | None:
    """The item's limits as one XPath constraint, in the forms the importer reads back."""
    parts = []
    if item.minimum is not None:
        parts.append(f". >= {_number(item.minimum)}")
    if item.maximum is not None:
        parts.append(f". <= {_number(item.maximum)}")
    if item.pattern:
        quote = '"' if "'" in item.pattern else "'"
        parts.append(f"regex(., {quote}^{item.pattern}${quote})")
    if item.max_length is not None and item.type in ("text", "dossier_code", "unit", "domain") \
            and not (item.type in ("unit", "domain") and item.choices):
        parts.append(f"string-length(.) <= {item.max_length}")
    if item.max_choices is not None:
        parts.append(f"count-selected(.) <= {item.max_choices}")
    for name, operator in (("earliest", ">="), ("latest", "<=")):
        day = getattr(item, name)
        if day:
            parts.append(f". {operator} " + ("today()" if day == "today" else f"date('{day}')"))
    return " and ".join(parts) or None


def _number(value) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def choice_rows(questionnaire: Questionnaire, languages: list[str]) -> list[list]:
    """One list per item (rating5: one per scale); the columns cascading filters read come last."""
    filter_columns = sorted({column for item in every_item(questionnaire) for choice in item.choices
                             for column in choice.filters})
    rows, written = [["list_name", "name", *text_columns("label", languages), *filter_columns]], set()
    for item in every_item(questionnaire):
        name = choice_list_name(item)
        if not item.choices or name in written:
            continue
        written.add(name)
        # the standard scales' labels are in vi and en only: other languages show the Vietnamese, as the form does
        rows.extend([name, choice.value,
                     *(choice.label.get(language) or choice.label.get("vi") for language in languages),
                     *(choice.filters.get(column) for column in filter_columns)]
                    for choice in item.choices)
    return rows


def settings_rows(questionnaire: Questionnaire) -> list[list]:
    extras = {"title": questionnaire.title, "description": questionnaire.description,
              "layout": questionnaire.layout, "languages": questionnaire.languages,
              "scoring": scoring_to_dict(questionnaire.scoring) if questionnaire.scoring else None,
              "comparable_with": comparable_to_dict(questionnaire.comparable_with)}
    limits = {section.key: {name: value for name, value in repeat_to_dict(section.repeat).items() if name != "count"}
              for section in questionnaire.repeats}
    if any(limits.values()):  # XLSForm has no column for a repeat's minimum and maximum
        extras["repeat_limits"] = {key: value for key, value in limits.items() if value}
    return [["form_id", "form_title", "version", "default_language", "sipas_extras"],
            [questionnaire.key, questionnaire.title.get("vi") or next(iter(questionnaire.title.values())),
             questionnaire.version, column_name("vi"), json.dumps(extras, ensure_ascii=False)]]
