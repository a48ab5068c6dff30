"""Import an XLSForm workbook (ODK, KoBoToolbox) into our definition format.

`import_xlsform(path)` returns (definition dict in the YAML format, notes on what could not be converted).
Fatal problems (missing sheet or column, unknown choice list) raise DefinitionError with the sheet row.
"""

from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass

import yaml

from questionnaires import show_if
from questionnaires.errors import Code, DefinitionError, Problem
from questionnaires.loader import parse_definition
from questionnaires.model import Questionnaire

SIMPLE_TYPES = {"integer": "integer", "int": "integer", "decimal": "decimal", "text": "text", "string": "text",
                "date": "date", "range": "integer"}
SELECT_TYPES = {"select_one": "single", "select1": "single", "select_multiple": "multiple"}
METADATA_TYPES = {"start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username",
                  "email", "audit", "calculate", "hidden", "start-geopoint", "background-audio"}
LANGUAGE_NAMES = {"vietnamese": "vi", "tiếng việt": "vi", "english": "en", "tiếng anh": "en"}
TRUE_WORDS = {"yes", "true", "true()", "1", "có"}


@dataclass(frozen=True)
class Note:
    """Something in the workbook that was dropped or changed on import."""

    sheet: str
    row: int
    message: str

    def __str__(self) -> str:
        return f"{self.sheet} row {self.row}: {self.message}"


def load_xlsform(path) -> tuple[Questionnaire, list[Note]]:
    """Import and load in one step; loader problems of the converted definition are raised as DefinitionError."""
    definition, notes = import_xlsform(path)
    questionnaire, problems = parse_definition(to_yaml(definition), f"{path} (converted)")
    if problems:
        raise DefinitionError(problems)
    return questionnaire, notes


def to_yaml(definition: dict) -> str:
    return yaml.safe_dump(definition, allow_unicode=True, sort_keys=False, width=120)


def import_xlsform(path) -> tuple[dict, list[Note]]:
    """(definition in our YAML shape, notes on what could not be converted)."""
    file = str(path)
    sheets = read_sheets(pathlib.Path(path))
    if "survey" not in sheets:
        found = ", ".join(sheets) or "none"
        raise DefinitionError([Problem(file, 1, "survey", Code.XLSFORM_MISSING_SHEET.format(sheet="survey",
                                                                                            found=found))])
    converter = _Converter(file, sheets)
    return converter.convert(), converter.notes


def read_sheets(path: pathlib.Path) -> dict[str, list[tuple[int, dict]]]:
    """Sheet name (lower case) → [(row number, {column: text})] for every non-empty data row."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a bad file
        raise DefinitionError([Problem(str(path), 1, "(file)", Code.FILE_UNREADABLE.format(detail=error))])
    sheets = {sheet.title.strip().lower(): _sheet_rows(sheet) for sheet in workbook.worksheets}
    workbook.close()
    return sheets


def _sheet_rows(sheet) -> list[tuple[int, dict]]:
    rows = sheet.iter_rows(values_only=True)
    header = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
    result = []
    for number, row in enumerate(rows, start=2):
        values = {name: str(cell).strip() for name, cell in zip(header, row) if name and cell not in (None, "")}
        if values:
            result.append((number, values))
    result.insert(0, (1, {name: name for name in header if name}))  # row 1 keeps the column names
    return result


def column_language(column: str, default: str) -> tuple[str, str | None]:
    """('label', 'vi') for 'label::Vietnamese (vi)'; None language for an unknown one."""
    base, _, language = column.partition("::")
    if not language:
        return base, default
    code = re.search(r"\(([a-z]{2})\)", language.lower())
    return base, code.group(1) if code else LANGUAGE_NAMES.get(language.strip().lower())


class _Converter:
    """Walks the survey rows; groups become sections; unsupported things become notes."""

    def __init__(self, file: str, sheets: dict):
        self.file = file
        self.sheets = sheets
        self.notes: list[Note] = []
        self.settings = dict(sheets["settings"][1][1]) if len(sheets.get("settings", [])) > 1 else {}
        self.default_language = self.language_of_setting()
        self.names: dict[str, str] = {}
        self.choice_lists = self.read_choices()

    def note(self, sheet: str, row: int, message: str) -> None:
        self.notes.append(Note(sheet, row, message))

    def fail(self, sheet: str, row: int, field: str, message: str):
        raise DefinitionError([Problem(self.file, row, f"{sheet}.{field}", message)])

    def language_of_setting(self) -> str:
        language = self.settings.get("default_language", "")
        _, code = column_language(f"x::{language}", "vi") if language else (None, "vi")
        return code or "vi"

    def texts(self, sheet: str, row: int, values: dict, base: str) -> dict[str, str]:
        """{'vi': …, 'en': …} from label columns; a missing language copies the other, with a note."""
        texts = {}
        for column, text in values.items():
            name, language = column_language(column, self.default_language)
            if name.lower() == base and language in ("vi", "en"):
                texts[language] = text
            elif name.lower() == base:
                self.note(sheet, row, f"column '{column}' is not Vietnamese or English; dropped.")
        return self.complete_languages(sheet, row, texts, base)

    def complete_languages(self, sheet: str, row: int, texts: dict, base: str) -> dict[str, str]:
        if not texts:
            return {}
        for language, other in (("vi", "en"), ("en", "vi")):
            if language not in texts:
                texts[language] = texts[other]
                self.note(sheet, row, f"no {language} {base}; copied the {other} text, translate it.")
        return {"vi": texts["vi"], "en": texts["en"]}

    # --- choices ---

    def read_choices(self) -> dict[str, list[dict]]:
        rows = self.sheets.get("choices", [])
        lists: dict[str, list[dict]] = {}
        for row, values in rows[1:]:
            list_name = values.get("list_name") or values.get("list name")
            if not list_name or "name" not in values:
                self.note("choices", row, "row without list_name or name; dropped.")
                continue
            label = self.texts("choices", row, values, "label") or {"vi": values["name"], "en": values["name"]}
            lists.setdefault(list_name, []).append({"value": self.choice_value(values["name"], row),
                                                    "label": label})
        return lists

    def choice_value(self, value: str, row: int) -> str:
        cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "_", value)[:64]
        if cleaned != value:
            self.note("choices", row, f"choice value '{value}' renamed to '{cleaned}'.")
        return cleaned

    # --- survey ---

    def convert(self) -> dict:
        survey = self.sheets["survey"]
        for column in ("type", "name"):
            if column not in survey[0][1]:
                self.fail("survey", 1, column, Code.XLSFORM_MISSING_COLUMN.format(sheet="survey", column=column))
        self.register_names(survey[1:])
        sections = self.sections(survey[1:])
        return self.header() | {"choice_lists": {}, "sections": sections}

    def header(self) -> dict:
        title = self.settings.get("form_title") or self.settings.get("form_id") or "Imported form"
        key = self.key(self.settings.get("form_id") or pathlib.Path(self.file).stem, "settings", 2)
        return {"key": key, "version": str(self.settings.get("version") or "1"),
                "title": {"vi": title, "en": title}, "languages": ["vi", "en"], "layout": "paged"}

    def key(self, name: str, sheet: str, row: int) -> str:
        """A valid key for an XLSForm name: lower case, '_' for other characters, starting with a letter."""
        key = re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_")[:60] or "item"
        if not key[0].isalpha() or key in show_if.KEYWORDS:
            key = f"q_{key}"
        if key != name:
            self.note(sheet, row, f"name '{name}' renamed to '{key}'.")
        return key

    def register_names(self, rows: list) -> None:
        for row, values in rows:
            if values.get("name") and not values["type"].lower().startswith("end"):
                self.names[values["name"]] = self.key(values["name"], "survey", row)

    def sections(self, rows: list) -> list[dict]:
        sections = [self.ungrouped_section(0)]
        depth = 0
        for row, values in rows:
            kind = values.get("type", "").lower().replace(" ", "_")
            if kind in ("begin_group", "begin_repeat"):
                depth += 1
                if kind == "begin_repeat":
                    self.note("survey", row, "repeat groups are not supported; their questions are asked once.")
                if depth == 1:
                    sections.append(self.section(row, values))
                else:
                    self.note("survey", row, "nested group flattened into its top-level group.")
            elif kind in ("end_group", "end_repeat"):
                depth = max(depth - 1, 0)
                if depth == 0:
                    sections.append(self.ungrouped_section(len(sections)))
            else:
                item = self.item(row, values)
                if item:
                    sections[-1]["items"].append(item)
        return [section for section in sections if section["items"]]

    def ungrouped_section(self, position: int) -> dict:
        """A section for questions outside any group; emptied ones are removed at the end."""
        return {"key": f"main_{position}" if position else "main", "title": {"vi": "Phần chung", "en": "General"},
                "items": []}

    def section(self, row: int, values: dict) -> dict:
        self.note_ignored_columns(row, values)
        if values.get("relevant"):
            self.note("survey", row, "a group's relevant is not supported; its questions are always shown.")
        key = self.names.get(values.get("name", ""), f"group_{row}")
        title = self.texts("survey", row, values, "label") or {"vi": key, "en": key}
        return {"key": key, "title": title, "items": []}

    def item(self, row: int, values: dict) -> dict | None:
        kind, _, list_name = values.get("type", "").partition(" ")
        kind = kind.lower()
        item_type = SIMPLE_TYPES.get(kind) or SELECT_TYPES.get(kind)
        if item_type is not None and not values.get("name"):
            self.note("survey", row, f"a '{kind}' question without a name; dropped.")
            return None
        if item_type is None:
            reason = "metadata and calculations are" if kind in METADATA_TYPES else f"type '{kind}' is"
            self.note("survey", row, f"{reason} not supported; '{values.get('name', '')}' dropped.")
            return None
        item = {"key": self.names[values["name"]], "type": item_type,
                "label": self.texts("survey", row, values, "label") or self.placeholder(row, values["name"])}
        hint = self.texts("survey", row, values, "hint")
        if hint:
            item["hint"] = hint
        if values.get("required", "").lower() in TRUE_WORDS:
            item["required"] = True
        if item_type in ("single", "multiple"):
            item["choices"] = self.item_choices(row, list_name.strip())
        self.add_range_parameters(row, kind, values, item)
        self.add_relevant(row, values, item)
        self.add_constraint(row, values, item)
        self.note_ignored_columns(row, values)
        return item

    def placeholder(self, row: int, name: str) -> dict:
        self.note("survey", row, f"'{name}' has no label; its name is used.")
        return {"vi": name, "en": name}

    def item_choices(self, row: int, list_name: str) -> list[dict]:
        list_name = list_name.replace(" or_other", "").strip()
        if list_name not in self.choice_lists:
            self.fail("survey", row, "type", Code.XLSFORM_UNKNOWN_LIST.format(value=list_name))
        return self.choice_lists[list_name]

    def add_range_parameters(self, row: int, kind: str, values: dict, item: dict) -> None:
        if kind != "range":
            return
        parameters = dict(re.findall(r"(\w+)\s*=\s*(-?[\d.]+)", values.get("parameters", "")))
        if "start" in parameters:
            item["minimum"] = float(parameters["start"])
        if "end" in parameters:
            item["maximum"] = float(parameters["end"])
        self.note("survey", row, "range imported as an integer question with its start and end.")

    def add_relevant(self, row: int, values: dict, item: dict) -> None:
        relevant = values.get("relevant")
        if not relevant:
            return
        expression = self.translate_expression(relevant)
        try:
            item["show_if"] = show_if.normalise(expression)
        except show_if.ShowIfSyntaxError as error:
            self.note("survey", row, f"relevant '{relevant}' could not be converted ({error}); always shown.")

    def translate_expression(self, text: str) -> str:
        """XLSForm relevant syntax → show_if syntax, for the common forms."""
        text = re.sub(r"\$\{(\w[\w.\-]*)\}\s*!=\s*''", lambda match: f"answered({self.name(match)})", text)
        text = re.sub(r"\$\{(\w[\w.\-]*)\}\s*=\s*''", lambda match: f"not answered({self.name(match)})", text)
        text = re.sub(r"selected\(\s*\$\{(\w[\w.\-]*)\}\s*,\s*('[^']*'|\"[^\"]*\")\s*\)",
                      lambda match: f"{match.group(2)} in {self.name(match)}", text)
        text = re.sub(r"\$\{(\w[\w.\-]*)\}", lambda match: self.name(match), text)
        text = re.sub(r"(?<![!<>=])=(?!=)", "==", text)
        return re.sub(r"\bnot\s*\(", "not (", text)

    def name(self, match) -> str:
        return self.names.get(match.group(1), match.group(1))

    def add_constraint(self, row: int, values: dict, item: dict) -> None:
        constraint = values.get("constraint")
        if not constraint:
            return
        for part in re.split(r"\s+and\s+", constraint.strip()):
            if not self.apply_constraint_part(part.strip(), item):
                self.note("survey", row, f"constraint part '{part}' is not supported; dropped.")
        if values.get("constraint_message") or any(key.startswith("constraint_message") for key in values):
            self.note("survey", row, "constraint_message dropped; the standard messages are shown.")

    def apply_constraint_part(self, part: str, item: dict) -> bool:
        bound = re.fullmatch(r"\.\s*(>=|>|<=|<)\s*(-?\d+(?:\.\d+)?)", part)
        if bound and bound.group(1) in (">=", "<=") and item["type"] in ("integer", "decimal"):
            item["minimum" if bound.group(1) == ">=" else "maximum"] = float(bound.group(2))
            return True
        pattern = re.fullmatch(r"regex\(\s*\.\s*,\s*'(.*)'\s*\)", part)
        if pattern and item["type"] == "text":
            item["pattern"] = pattern.group(1).lstrip("^").rstrip("$")
            return True
        length = re.fullmatch(r"string-length\(\s*\.\s*\)\s*<=\s*(\d+)", part)
        if length and item["type"] == "text":
            item["max_length"] = int(length.group(1))
            return True
        return False

    def note_ignored_columns(self, row: int, values: dict) -> None:
        for column in ("choice_filter", "calculation", "default", "read_only", "readonly", "repeat_count",
                       "appearance", "trigger"):
            if values.get(column):
                self.note("survey", row, f"column '{column}' is not supported; dropped.")
