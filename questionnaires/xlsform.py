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
from questionnaires.workbook import UPLOAD_CAPS, WorkbookRefused, read_workbook

SIMPLE_TYPES = {"integer": "integer", "int": "integer", "decimal": "decimal", "text": "text", "string": "text",
                "date": "date", "range": "integer"}
SELECT_TYPES = {"select_one": "single", "select1": "single", "select_multiple": "multiple"}
METADATA_TYPES = {"start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username",
                  "email", "audit", "calculate", "hidden", "start-geopoint", "background-audio"}
LANGUAGE_NAMES = {"vietnamese": "vi", "tiếng việt": "vi", "english": "en", "tiếng anh": "en"}
TRUE_WORDS = {"yes", "true", "true()", "1", "có"}
READ_SHEETS = ("survey", "choices", "settings")
READ_SETTINGS = ("form_title", "form_id", "version", "default_language")
TEXT_COLUMNS = ("label", "hint")
QUESTION_COLUMNS = ("type", "name", "label", "hint", "required", "relevant", "constraint", "constraint_message",
                    "parameters")
GROUP_COLUMNS = ("type", "name", "label", "relevant")
CHOICE_COLUMNS = ("list_name", "list name", "name", "label")
LANGUAGE_WORDS = {"vi": "Vietnamese", "en": "English"}


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
    try:
        workbook = read_workbook(path, UPLOAD_CAPS)
    except WorkbookRefused as refused:
        raise DefinitionError([Problem(str(path), 1, "(file)", Code.FILE_UNREADABLE.format(
            detail=f"{refused.message_vi} ({refused.message_en})"))])
    return {title.strip().lower(): _sheet_rows(rows) for title, rows in workbook.items()}


def _sheet_rows(sheet_rows: list[tuple]) -> list[tuple[int, dict]]:
    rows = iter(sheet_rows)
    header = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
    result = []
    for number, row in enumerate(rows, start=2):
        values = {name: _cell_text(cell) for name, cell in zip(header, row) if name and cell not in (None, "")}
        values = {name: text for name, text in values.items() if text}
        if values:
            result.append((number, values))
    result.insert(0, (1, {name: name for name in header if name}))  # row 1 keeps the column names
    return result


def _cell_text(cell) -> str:
    """A cell as text: 1.0 → '1' (choice names and labels typed as numbers), booleans as TRUE/FALSE."""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


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
        self.note_ignored_sheets_and_settings()
        self.default_language = self.language_of_setting()
        self.present_languages = self.languages_in_columns()
        self.names: dict[str, str] = {}
        self.kept: set[str] = set()  # keys of converted questions, for relevant references
        self.choice_lists = self.read_choices()

    def note(self, sheet: str, row: int, message: str) -> None:
        self.notes.append(Note(sheet, row, message))

    def fail(self, sheet: str, row: int, field: str, message: str):
        raise DefinitionError([Problem(self.file, row, f"{sheet}.{field}", message)])

    def note_ignored_sheets_and_settings(self) -> None:
        for sheet in self.sheets:
            if sheet not in READ_SHEETS:
                self.note(sheet, 1, f"sheet '{sheet}' is not read (only survey, choices and settings); ignored.")
        for column in self.settings:
            if column not in READ_SETTINGS:
                self.note("settings", 2, f"setting '{column}' is not supported; dropped.")

    def language_of_setting(self) -> str:
        """The language of columns without '::language': default_language, else guessed from the other columns."""
        language = self.settings.get("default_language", "")
        if language:
            _, code = column_language(f"x::{language}", "vi")
            if code not in LANGUAGE_WORDS:
                self.note("settings", 2, f"default_language '{language}' is not Vietnamese or English; "
                                         "columns without a language are taken as Vietnamese.")
            return code if code in LANGUAGE_WORDS else "vi"
        explicit = {column_language(column, "")[1] for column in self.text_columns() if "::" in column}
        plain = [column for column in self.text_columns() if "::" not in column]
        guess = "en" if "en" in explicit and "vi" not in explicit else "vi"
        if plain:
            self.note("settings", 1, f"no default_language; columns without a language ({', '.join(sorted(set(plain)))})"
                                     f" are taken as {LANGUAGE_WORDS[guess]}.")
        return guess

    def text_columns(self) -> list[str]:
        """label/hint column names of the survey and choices sheets."""
        return [column for sheet in ("survey", "choices") for column in (self.sheets.get(sheet) or [(1, {})])[0][1]
                if column.partition("::")[0].strip().lower() in TEXT_COLUMNS]

    def languages_in_columns(self) -> set[str]:
        """vi/en languages that have at least one label or hint column; a missing one is noted once."""
        present = {column_language(column, self.default_language)[1] for column in self.text_columns()}
        for language, other in (("vi", "en"), ("en", "vi")):
            if language not in present and other in present:
                self.note("survey", 1, f"the workbook has no {LANGUAGE_WORDS[language]} labels; the "
                                       f"{LANGUAGE_WORDS[other]} texts are copied, translate them.")
        return present

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
                if language in self.present_languages:  # a language absent from the workbook is noted once
                    self.note(sheet, row, f"no {language} {base}; copied the {other} text, translate it.")
        return {"vi": texts["vi"], "en": texts["en"]}

    # --- choices ---

    def read_choices(self) -> dict[str, list[dict]]:
        rows = self.sheets.get("choices", [])
        lists: dict[str, list[dict]] = {}
        first_rows: dict[tuple[str, str], int] = {}
        ignored: dict[str, int] = {}
        for row, values in rows[1:]:
            list_name = values.get("list_name") or values.get("list name")
            for column in values:
                if column.partition("::")[0].strip().lower() not in CHOICE_COLUMNS:
                    ignored[column] = ignored.get(column, 0) + 1
            if not list_name or "name" not in values:
                self.note("choices", row, "row without list_name or name; dropped.")
                continue
            value = self.choice_value(values["name"], row)
            if (list_name, value) in first_rows:
                self.note("choices", row, f"choice '{value}' of list '{list_name}' repeats row "
                                          f"{first_rows[list_name, value]}; dropped.")
                continue
            first_rows[list_name, value] = row
            label = self.texts("choices", row, values, "label")
            if not label:
                self.note("choices", row, f"choice '{value}' of list '{list_name}' has no label; its name is used.")
                label = {"vi": values["name"], "en": values["name"]}
            lists.setdefault(list_name, []).append({"value": value, "label": label})
        for column, count in ignored.items():
            self.note("choices", 1, f"column '{column}' is not supported (used by choice_filter or media); "
                                    f"dropped from {count} rows.")
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
        """Top-level groups become sections; a group's relevant is joined to each of its questions' show_if."""
        sections = [self.ungrouped_section(0)]
        group_conditions: list[str | None] = []  # one entry per open group, innermost last
        for row, values in rows:
            kind = values.get("type", "").lower().replace(" ", "_")
            if kind in ("begin_group", "begin_repeat"):
                if kind == "begin_repeat":
                    self.note("survey", row, "repeat groups are not supported; their questions are asked once.")
                if not group_conditions:
                    sections.append(self.section(row, values))
                else:
                    self.note("survey", row, "nested group flattened into its top-level group.")
                    self.note_ignored_columns(row, values, GROUP_COLUMNS)
                group_conditions.append(self.group_condition(row, values))
            elif kind in ("end_group", "end_repeat"):
                if group_conditions:
                    group_conditions.pop()
                if not group_conditions:
                    sections.append(self.ungrouped_section(len(sections)))
            else:
                item = self.item(row, values, [condition for condition in group_conditions if condition])
                if item:
                    sections[-1]["items"].append(item)
                    self.kept.add(item["key"])
        return [section for section in sections if section["items"]]

    def group_condition(self, row: int, values: dict) -> str | None:
        """The group's relevant as show_if text, or None (not set, or not convertible: noted)."""
        relevant = values.get("relevant")
        if not relevant:
            return None
        condition = self.condition(row, relevant, "group relevant")
        if condition is not None:
            self.note("survey", row, f"group relevant '{relevant}' is added to the show_if of each of its "
                                     "questions.")
        return condition

    def ungrouped_section(self, position: int) -> dict:
        """A section for questions outside any group; emptied ones are removed at the end."""
        return {"key": f"main_{position}" if position else "main", "title": {"vi": "Phần chung", "en": "General"},
                "items": []}

    def section(self, row: int, values: dict) -> dict:
        self.note_ignored_columns(row, values, GROUP_COLUMNS)
        key = self.names.get(values.get("name", ""), f"group_{row}")
        title = self.texts("survey", row, values, "label") or {"vi": key, "en": key}
        return {"key": key, "title": title, "items": []}

    def item(self, row: int, values: dict, group_conditions: list[str]) -> dict | None:
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
        self.add_show_if(row, values, item, group_conditions)
        self.add_constraint(row, values, item)
        self.note_ignored_columns(row, values, QUESTION_COLUMNS)
        return item

    def placeholder(self, row: int, name: str) -> dict:
        self.note("survey", row, f"'{name}' has no label; its name is used.")
        return {"vi": name, "en": name}

    def item_choices(self, row: int, list_name: str) -> list[dict]:
        if list_name.endswith(" or_other"):
            self.note("survey", row, "or_other dropped; add an 'other' choice and a text question shown for it.")
        list_name = list_name.replace(" or_other", "").strip()
        if list_name not in self.choice_lists:
            self.fail("survey", row, "type", Code.XLSFORM_UNKNOWN_LIST.format(value=list_name))
        return self.choice_lists[list_name]

    def add_range_parameters(self, row: int, kind: str, values: dict, item: dict) -> None:
        if kind != "range":
            if values.get("parameters"):
                self.note("survey", row, f"parameters '{values['parameters']}' are not supported; dropped.")
            return
        parameters = dict(re.findall(r"(\w+)\s*=\s*(-?[\d.]+)", values.get("parameters", "")))
        if "start" in parameters:
            item["minimum"] = float(parameters["start"])
        if "end" in parameters:
            item["maximum"] = float(parameters["end"])
        self.note("survey", row, "range imported as an integer question with its start and end.")

    def add_show_if(self, row: int, values: dict, item: dict, group_conditions: list[str]) -> None:
        """show_if = the enclosing groups' conditions and the question's own relevant."""
        conditions = list(group_conditions)
        relevant = values.get("relevant")
        if relevant:
            own = self.condition(row, relevant, "relevant", item["key"])
            if own is not None:
                conditions.append(own)
        if conditions:
            joined = " and ".join(f"({condition})" for condition in conditions)
            item["show_if"] = show_if.normalise(joined)

    def condition(self, row: int, relevant: str, what: str, own_key: str | None = None) -> str | None:
        """relevant → canonical show_if text; None with a note when it cannot be converted or names a question
        that was not converted (dropped, later in the form, or the question itself)."""
        try:
            tree = show_if.parse(self.translate_expression(relevant))
        except show_if.ShowIfSyntaxError as error:
            self.note("survey", row, f"{what} '{relevant}' could not be converted ({error}); dropped.")
            return None
        missing = sorted(key for key in show_if.referenced_keys(tree) if key not in self.kept or key == own_key)
        if missing:
            self.note("survey", row, f"{what} '{relevant}' refers to {', '.join(missing)}, not an earlier converted "
                                     "question; dropped.")
            return None
        return show_if.to_text(tree)

    def translate_expression(self, text: str) -> str:
        """XLSForm relevant syntax → show_if syntax, for the common forms; quoted texts are left as they are."""
        text = re.sub(r"\$\{(\w[\w.\-]*)\}\s*!=\s*''", lambda match: f"answered({self.name(match)})", text)
        text = re.sub(r"\$\{(\w[\w.\-]*)\}\s*=\s*''", lambda match: f"not answered({self.name(match)})", text)
        text = re.sub(r"selected\(\s*\$\{(\w[\w.\-]*)\}\s*,\s*('[^']*'|\"[^\"]*\")\s*\)",
                      lambda match: f"{match.group(2)} in {self.name(match)}", text)
        pieces = re.split(r"('[^']*'|\"[^\"]*\")", text)  # odd pieces are quoted texts
        for index in range(0, len(pieces), 2):
            piece = re.sub(r"\$\{(\w[\w.\-]*)\}", lambda match: self.name(match), pieces[index])
            piece = re.sub(r"(?<![!<>=])=(?!=)", "==", piece)
            pieces[index] = re.sub(r"\bnot\s*\(", "not (", piece)
        return "".join(pieces)

    def name(self, match) -> str:
        return self.names.get(match.group(1), match.group(1))

    def add_constraint(self, row: int, values: dict, item: dict) -> None:
        constraint = values.get("constraint")
        if not constraint:
            return
        parts = _top_level_and_parts(constraint.strip())
        for part in parts:
            if not self.apply_constraint_part(part, item):
                what = "constraint part" if len(parts) > 1 else "constraint"
                self.note("survey", row, f"{what} '{part}' is not supported; dropped.")
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

    def note_ignored_columns(self, row: int, values: dict, converted: tuple) -> None:
        """One note per filled column that is not converted (appearance, choice_filter, media, default, …)."""
        for column in values:
            if column.partition("::")[0].strip().lower() not in converted:
                self.note("survey", row, f"column '{column}' is not supported; dropped.")


def _top_level_and_parts(text: str) -> list[str]:
    """'a and (b and c)' → ['a', '(b and c)']: split on 'and' outside parentheses and quotes."""
    parts, depth, start, quote = [], 0, 0, None
    index = 0
    while index < len(text):
        character = text[index]
        if quote:
            quote = None if character == quote else quote
        elif character in "'\"":
            quote = character
        elif character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        elif depth == 0 and re.match(r"\s+and\s+", text[index:]) and text[index].isspace():
            parts.append(text[start:index].strip())
            index += re.match(r"\s+and\s+", text[index:]).end()
            start = index
            continue
        index += 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]
