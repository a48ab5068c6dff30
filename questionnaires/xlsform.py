"""Import an XLSForm workbook (ODK, KoBoToolbox) into our definition format.

`import_xlsform(path)` returns (definition dict in the YAML format, notes on what was dropped that carries no
logic: metadata, notes, appearance, media, other languages). Every expression is parsed (questionnaires.xpath);
anything that would lose a question or logic (calculations, repeats, unsupported types, conditions the model cannot
express) or is wrong (syntax, unknown names, unknown choice lists) refuses the form: DefinitionError with every
reason, each with its sheet, row and column, never a form stored without its logic.
"""

from __future__ import annotations

import json
import pathlib
import re
from dataclasses import dataclass

import yaml

from questionnaires import languages, piping, show_if, xpath, xpath_eval
from questionnaires.errors import CODE_VI, Code, DefinitionError, Problem, message
from questionnaires.loader import parse_definition
from questionnaires.model import Questionnaire
from questionnaires.workbook import UPLOAD_CAPS, WorkbookRefused, read_workbook
from questionnaires.xlsform_logic import NotKept, choice_filter_rules, constraint_limits, relevant_to_show_if

SIMPLE_TYPES = {"integer": "integer", "int": "integer", "decimal": "decimal", "text": "text", "string": "text",
                "date": "date", "time": "time", "datetime": "datetime", "range": "integer"}
SELECT_TYPES = {"select_one": "single", "select1": "single", "select_multiple": "multiple"}
METADATA_TYPES = {"start", "end", "today", "deviceid", "subscriberid", "simserial", "phonenumber", "username",
                  "email", "audit", "hidden", "start-geopoint", "background-audio", "uri:deviceid",
                  "uri:subscriberid", "uri:simserial", "uri:phonenumber", "uri:username", "uri:email", "imei"}
DISPLAY_KINDS = {"note": "note", "calculate": "calculate"}  # rows never answered: shown text, computed values
QUESTION_KINDS = {*SIMPLE_TYPES, *SELECT_TYPES}
ANSWER_KINDS = QUESTION_KINDS | {"calculate"}  # rows with a value a relevant, a label or a calculation may read
OTHER_CHOICE = {"value": "other", "label": {"vi": "Khác", "en": "Other"}}
OTHER_LABEL = {"vi": "Ghi rõ lựa chọn khác.", "en": "Specify other."}
TRUE_WORDS = {"yes", "true", "true()", "1", "có"}
FALSE_WORDS = {"no", "false", "false()", "0", "không"}
# columns holding XPath: each is parsed, and a form with a wrong one is refused with the row
EXPRESSION_COLUMNS = ("relevant", "constraint", "calculation", "choice_filter", "repeat_count", "required",
                      "trigger")
# logic our questionnaire model has no place for: (what, write instead) in English and Vietnamese
UNSUPPORTED_LOGIC = {
    "calculation": ("the calculation '{text}'", "a question the respondent answers",
                    "phép tính '{text}'", "một câu hỏi người trả lời điền"),
    "trigger": ("a trigger ('{text}')", "a question without trigger",
                "trigger ('{text}')", "câu hỏi không có trigger"),
}
READ_SHEETS = ("survey", "choices", "settings")
READ_SETTINGS = ("form_title", "form_id", "version", "default_language", "sipas_extras")
# our types that XLSForm has no word for, written by xlsform_export in the `sipas_type` column
SIPAS_TYPES = {"rating5": ("single",), "unit": ("text", "single"), "domain": ("text", "single"),
               "dossier_code": ("text",)}
EXTRA_FIELDS = ("title", "description", "layout", "languages", "scoring", "comparable_with")
TEXT_COLUMNS = ("label", "hint")
QUESTION_COLUMNS = ("type", "name", "label", "hint", "required", "relevant", "constraint", "constraint_message",
                    "parameters", "sipas_type", "choice_filter", "appearance")
# XLSForm appearances of select questions the form shows; others are noted and dropped
APPEARANCES = {"likert": "likert", "horizontal": "horizontal", "horizontal-compact": "horizontal",
               "columns": "horizontal", "columns-pack": "horizontal", "minimal": "minimal"}
GROUP_COLUMNS = ("type", "name", "label", "relevant")
REPEAT_COLUMNS = GROUP_COLUMNS + ("repeat_count",)
SECTION_APPEARANCES = ("field-list", "table-list")  # a top-level group's: kept on its section
CHOICE_COLUMNS = ("list_name", "list name", "name", "label")
# pyxform's older spellings of the same columns (case is ignored: 'bind:jr:constraintMsg')
COLUMN_ALIASES = {"bind:relevant": "relevant", "bind::relevant": "relevant", "bind:constraint": "constraint",
                  "bind::constraint": "constraint", "bind:required": "required", "bind::required": "required",
                  "bind:calculate": "calculation", "bind::calculate": "calculation",
                  "bind:jr:constraintmsg": "constraint_message", "bind::jr:constraintmsg": "constraint_message",
                  "constraintmsg": "constraint_message", "bind:jr:requiredmsg": "required_message",
                  "requiredmsg": "required_message", "bind:readonly": "read_only", "control:appearance": "appearance",
                  "jr:count": "repeat_count", "control::jr:count": "repeat_count"}


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
    header = [_column_name(cell) for cell in next(rows, ())]
    result = []
    for number, row in enumerate(rows, start=2):
        values = {name: _cell_text(cell) for name, cell in zip(header, row) if name and cell not in (None, "")}
        values = {name: text for name, text in values.items() if text}
        if values:
            result.append((number, values))
    result.insert(0, (1, {name: name for name in header if name}))  # row 1 keeps the column names
    return result


def _column_name(cell) -> str:
    """A header as the importer reads it: 'Type' → 'type', 'label:English' (the old spelling) → 'label::English'."""
    text = str(cell).strip() if cell is not None else ""
    base, separator, language = text.partition("::")
    if not separator and ":" in text and text.split(":")[0].strip().lower() in TEXT_COLUMNS + ("constraint_message",):
        base, separator, language = text.partition(":")
        separator = "::"
    base = base.strip().lower()
    return COLUMN_ALIASES.get(base, base) + separator + language


def _cell_text(cell) -> str:
    """A cell as text: 1.0 → '1' (choice names and labels typed as numbers), booleans as TRUE/FALSE."""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def column_language(column: str, default: str) -> tuple[str, str | None]:
    """('label', 'fr') for 'label::Français (fr)', 'label::French' or 'label:fr'; None for a language that names
    no code."""
    base, _, language = column.partition("::")
    if not language:
        return base, default
    return base, languages.code_of(language)


def bad_language(column: str) -> str:
    return message(f"'{column}' names no language code; write the code in brackets, for example "
                   "'label::Français (fr)' or 'label::Tiếng Tày (tyz)'.",
                   f"'{column}' không cho biết mã ngôn ngữ; ghi mã trong ngoặc, ví dụ 'label::Français (fr)' hoặc "
                   "'label::Tiếng Tày (tyz)'.")


class _Converter:
    """Walks the survey rows; groups become sections; unsupported things become notes."""

    def __init__(self, file: str, sheets: dict):
        self.file = file
        self.sheets = sheets
        self.notes: list[Note] = []
        self.refusals: list[Problem] = []  # what would be lost: the form is refused with every one
        self.settings = dict(sheets["settings"][1][1]) if len(sheets.get("settings", [])) > 1 else {}
        self.note_ignored_sheets_and_settings()
        self.default_language = self.language_of_setting()
        self.present_languages = self.languages_in_columns()
        self.languages = ["vi"] + [language for language in self.present_languages if language != "vi"]
        self.names: dict[str, str] = {}  # XLSForm name → our key
        self.kinds: dict[str, str] = {}  # XLSForm name → its row's type (integer, calculate, note, …)
        self.filter_columns: set[str] = set()  # choices columns that some choice_filter reads
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
            code = languages.code_of(language)
            if code is None:
                self.refusals.append(Problem(self.file, 2, "settings.default_language", bad_language(language)))
            return code or "vi"
        explicit = {column_language(column, "")[1] for column in self.text_columns() if "::" in column}
        plain = [column for column in self.text_columns() if "::" not in column]
        guess = "en" if "en" in explicit and "vi" not in explicit else "vi"
        if plain:
            self.note("settings", 1, f"no default_language; columns without a language ({', '.join(sorted(set(plain)))})"
                                     f" are taken as {languages.own_name(guess)} ({guess}).")
        return guess

    def text_columns(self, sheets: tuple = ("survey", "choices")) -> list[str]:
        """label/hint/constraint_message column names of the survey and choices sheets."""
        return [column for sheet in sheets for column in (self.sheets.get(sheet) or [(1, {})])[0][1]
                if column.partition("::")[0].strip().lower() in TEXT_COLUMNS + ("constraint_message",)]

    def languages_in_columns(self) -> list[str]:
        """Every language of a text column, in column order; a column naming no language code is refused with its
        sheet and column; no Vietnamese at all is noted once."""
        present = []
        for sheet in ("survey", "choices"):
            for column in self.text_columns((sheet,)):
                language = column_language(column, self.default_language)[1]
                if language is None:
                    self.refusals.append(Problem(self.file, 1, f"{sheet}.{column}", bad_language(column)))
                elif language not in present:
                    present.append(language)
        if present and "vi" not in present:
            self.note("survey", 1, f"the workbook has no Vietnamese labels; the {languages.own_name(present[0])} "
                                   "texts are copied, translate them.")
        return present

    def texts(self, sheet: str, row: int, values: dict, base: str) -> dict[str, str]:
        """{language: text} from the base column in each language; a missing language shows the default
        language's text, noted on the row (Vietnamese missing from the whole workbook is noted once)."""
        texts = {}
        for column, text in values.items():
            name, language = column_language(column, self.default_language)
            if name.lower() == base and language:
                texts[language] = text
        if not texts:
            return {}
        source = next(language for language in (self.default_language, "vi", *texts) if language in texts)
        for language in self.languages:
            if language not in texts and language in self.present_languages:
                self.note(sheet, row, f"no {language} {base}; copied the {source} text, translate it.")
        return {language: texts.get(language, texts[source]) for language in self.languages}

    def same_text(self, texts: dict[str, str]) -> dict[str, str]:
        """A text the importer makes (a placeholder, 'Other'): given in vi (and en), the rest shows the vi text."""
        return languages.with_fallback(texts, self.languages)[0]

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
                label = self.same_text({"vi": values["name"]})
            filters = {column: text for column, text in values.items() if column in ignored}
            lists.setdefault(list_name, []).append({"value": value, "label": label, "filters": filters})
        self.unused_choice_columns = ignored  # noted at the end unless a choice_filter reads them
        return lists

    def note_unused_choice_columns(self) -> None:
        for column, count in self.unused_choice_columns.items():
            if column not in self.filter_columns:
                self.note("choices", 1, f"column '{column}' is not read by any choice_filter (media or extra data); "
                                        f"dropped from {count} rows.")

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
        self.note_unused_choice_columns()
        if self.refusals:
            raise DefinitionError(sorted(self.refusals, key=lambda problem: problem.line))
        return self.header() | {"choice_lists": {}, "sections": sections}

    def refuse(self, row: int, column: str, message: str) -> None:
        """One reason the form cannot be imported without losing something; all are reported together."""
        self.refusals.append(Problem(self.file, row, f"survey.{column}", message))

    def header(self) -> dict:
        title = self.settings.get("form_title") or self.settings.get("form_id") or "Imported form"
        key = self.key(self.settings.get("form_id") or pathlib.Path(self.file).stem, "settings", 2)
        header = {"key": key, "version": str(self.settings.get("version") or "1"),
                  "title": self.same_text({"vi": title}), "languages": self.languages, "layout": "paged"}
        return header | self.extras()

    def extras(self) -> dict:
        """What an exported workbook carries in settings.sipas_extras (JSON): titles, scoring map, …"""
        text = self.settings.get("sipas_extras")
        if not text:
            return {}
        try:
            extras = json.loads(text)
        except ValueError as error:
            self.refusals.append(Problem(self.file, 2, "settings.sipas_extras", message(
                f"sipas_extras is not valid JSON: {error}.", f"sipas_extras không phải JSON hợp lệ: {error}.")))
            return {}
        extras = extras if isinstance(extras, dict) else {}
        return {name: extras[name] for name in EXTRA_FIELDS if extras.get(name) is not None}

    def key(self, name: str, sheet: str, row: int) -> str:
        """A valid key for an XLSForm name: lower case, '_' for other characters, starting with a letter."""
        key = re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_")[:60] or "item"
        if not key[0].isalpha() or key in show_if.KEYWORDS:
            key = f"q_{key}"
        if key != name:
            self.note(sheet, row, f"name '{name}' renamed to '{key}'.")
        return key

    def register_names(self, rows: list) -> None:
        """Every named row's key and kind: expressions may name any row, also a later one."""
        for row, values in rows:
            if values.get("name") and not row_kind(values).startswith("end"):
                self.names[values["name"]] = self.key(values["name"], "survey", row)
                self.kinds[values["name"]] = row_kind(values)

    def sections(self, rows: list) -> list[dict]:
        """Top-level groups and repeats become sections; a group's relevant is joined to each of its questions'
        show_if; a group inside a repeat is flattened into it."""
        sections = [self.ungrouped_section(0)]
        group_conditions: list[str | None] = []  # one entry per open group, innermost last
        opened: list[tuple[str, int]] = []  # (begin_… kind, row) of each open group, innermost last
        for row, values in rows:
            kind = row_kind(values)
            self.check_expressions(row, values)
            if not kind:
                self.row_without_type(row, values)
            elif kind in ("begin_group", "begin_repeat", "begin_loop"):
                opened.append((kind, row))
                self.begin_group(row, kind, values, sections, group_conditions)
            elif kind in ("end_group", "end_repeat", "end_loop"):
                self.check_end(row, kind, opened)
                if group_conditions:
                    group_conditions.pop()
                if not group_conditions:
                    self.expand_loop(sections[-1])
                    sections.append(self.ungrouped_section(len(sections)))
            else:
                item = self.item(row, values, [condition for condition in group_conditions if condition])
                if item:
                    sections[-1]["items"].append(item)
                if item and question_type(values)[2]:
                    sections[-1]["items"].append(self.other_question(row, item))
        for kind, row in opened:
            self.refuse(row, "type", message(f"this {kind} has no matching end_{kind[6:]}.",
                                             f"{kind} này không có dòng end_{kind[6:]} tương ứng."))
        return [section for section in sections if section["items"]]

    def check_end(self, row: int, kind: str, opened: list[tuple[str, int]]) -> None:
        """An end_… row closes the innermost open group of its own kind, as pyxform requires."""
        if not opened:
            self.refuse(row, "type", message(f"this {kind} closes no group.", f"dòng {kind} này không đóng nhóm nào."))
            return
        begun, begun_row = opened.pop()
        if begun[6:] != kind[4:]:
            self.refuse(row, "type", message(f"this {kind} closes the {begun} of row {begun_row}.",
                                             f"dòng {kind} này lại đóng {begun} ở dòng {begun_row}."))

    def begin_group(self, row: int, kind: str, values: dict, sections: list, group_conditions: list) -> None:
        if kind == "begin_loop" and group_conditions:
            self.refuse(row, "type", Code.XLSFORM_UNSUPPORTED.format(
                what=f"a loop over a choice list inside a group or repeat ('{values.get('type')}')",
                instead="a loop at the top level", what_vi=f"vòng lặp theo danh sách lựa chọn nằm trong một nhóm "
                f"('{values.get('type')}')", instead_vi="một vòng lặp ở cấp ngoài cùng"))
        elif kind == "begin_repeat" and group_conditions:
            self.refuse(row, "type", Code.XLSFORM_UNSUPPORTED.format(
                what="a repeat inside a group or another repeat", instead="a repeat at the top level",
                what_vi="nhóm lặp nằm trong một nhóm hoặc nhóm lặp khác", instead_vi="một nhóm lặp ở cấp ngoài cùng"))
        if not group_conditions:
            sections.append(self.section(row, values))
            if kind == "begin_repeat":
                limits = self.repeat_limits().get(sections[-1]["key"], {})
                if not isinstance(limits, dict):  # our own settings column, edited by hand
                    self.refuse(row, "type", message(
                        f"sipas_extras repeat_limits of '{sections[-1]['key']}' must be {{minimum, maximum}}.",
                        f"repeat_limits của '{sections[-1]['key']}' trong sipas_extras phải có dạng "
                        "{minimum, maximum}."))
                    limits = {}
                sections[-1]["repeat"] = self.repeat(row, values.get("repeat_count")) | limits
            if kind == "begin_loop":  # expanded at its end: the questions once per choice, as pyxform does
                sections[-1]["loop"] = (row, values.get("type", "").split()[-1])
        else:
            self.note("survey", row, "nested group flattened into its top-level group"
                      + (" (its field-list holds: the top-level group is one page)."
                         if "field-list" in values.get("appearance", "").lower().split() else "."))
            self.note_ignored_columns(row, values, GROUP_COLUMNS + ("appearance",))
        group_conditions.append(self.group_condition(row, values))

    def expand_loop(self, section: dict) -> None:
        """`begin loop over list`: each question of the loop asked once per choice of the list (pyxform makes a
        group per choice), keyed `<name>_<choice>`, '%(label)s' and '%(name)s' in its texts replaced by the
        choice's. A question of the loop that another row names would be ambiguous: refused."""
        if "loop" not in section:
            return
        row, list_name = section.pop("loop")
        if list_name not in self.choice_lists:
            self.refuse(row, "type", Code.XLSFORM_UNKNOWN_LIST.format(value=list_name))
            return
        inside = {item["key"] for item in section["items"]}
        cells = [str(value) for _, values in self.sheets["survey"][1:] for value in values.values() if value]
        for name in sorted(name for name, key in self.names.items() if key in inside):
            if any(f"${{{name}}}" in cell for cell in cells):
                self.refuse(row, "type", message(
                    f"the loop's question '{name}' is named by an expression or label; after the loop there is one "
                    "per choice, so which one is meant cannot be told. Name it outside the loop or drop the reference.",
                    f"câu '{name}' trong vòng lặp được nhắc tới trong một biểu thức hoặc nhãn; sau vòng lặp có một câu "
                    "cho mỗi lựa chọn nên không biết câu nào. Bỏ tham chiếu này."))
        section["items"] = [self.loop_item(item, choice) for choice in self.choice_lists[list_name]
                            for item in section["items"]]

    def loop_item(self, item: dict, choice: dict) -> dict:
        copied = json.loads(json.dumps(item))
        copied["key"] = re.sub(r"[^a-z0-9_]", "_", f"{item['key']}_{choice['value']}".lower())[:64]
        for field in ("label", "hint"):
            if copied.get(field):
                copied[field] = {language: text.replace("%(label)s", choice["label"].get(language, choice["value"]))
                                 .replace("%(name)s", choice["value"]) for language, text in copied[field].items()}
        return copied

    def repeat_limits(self) -> dict:
        """Repeat key → {minimum, maximum}: what an exported workbook carries in sipas_extras.repeat_limits."""
        try:
            limits = json.loads(self.settings.get("sipas_extras") or "{}").get("repeat_limits")
        except (ValueError, AttributeError):
            return {}  # refused with its reason by extras()
        return limits if isinstance(limits, dict) else {}

    def repeat(self, row: int, count: str | None) -> dict:
        """A repeat_count as the model keeps it: a whole number, or ${name} of an integer or calculate row."""
        text = (count or "").strip()
        if not text:
            return {}
        if text.isdecimal() and int(text) >= 1:
            return {"count": int(text)}
        name = re.fullmatch(r"\$\{([^}]+)\}", text)
        if name and self.kinds.get(name.group(1)) in ("integer", "int", "calculate"):
            return {"count": self.names[name.group(1)]}
        if not name or name.group(1) in self.names:  # an unknown name is already refused by check_expressions
            self.refuse(row, "repeat_count", Code.XLSFORM_UNSUPPORTED.format(
                what=f"the repeat count '{text}'", instead="a whole number or ${name} of an integer or calculate row",
                what_vi=f"số lần lặp '{text}'", instead_vi="một số nguyên hoặc ${tên} của một câu integer/calculate"))
        return {}

    def row_without_type(self, row: int, values: dict) -> None:
        """A comment row (only columns such as '_category') is skipped; a named row without a type is refused."""
        if values.get("name"):
            self.refuse(row, "type", Code.XLSFORM_UNSUPPORTED_TYPE.format(
                kind="", name=values["name"], allowed=", ".join(sorted(QUESTION_KINDS | set(DISPLAY_KINDS)))))
        else:
            self.note("survey", row, "row without type or name (a comment) skipped.")

    # --- expressions ---

    def check_expressions(self, row: int, values: dict) -> None:
        """Every expression cell parses and names existing rows; refusals say which, by row and column."""
        for column in EXPRESSION_COLUMNS:
            text = values.get(column)
            if text and not (column == "required" and text.lower() in TRUE_WORDS | FALSE_WORDS):
                self.parsed(row, column, text)
        for column in UNSUPPORTED_LOGIC:
            if values.get(column) and not (column == "calculation" and row_kind(values) in ("calculate",)):
                what, instead, what_vi, instead_vi = UNSUPPORTED_LOGIC[column]
                self.refuse(row, column, Code.XLSFORM_UNSUPPORTED.format(
                    what=what.format(text=values[column]), instead=instead,
                    what_vi=what_vi.format(text=values[column]), instead_vi=instead_vi))

    def parsed(self, row: int, column: str, text: str) -> xpath.Node | None:
        """The expression's tree, or None after refusing it (syntax error, unknown names: each one reported)."""
        unknown = [name for name, _ in xpath.references(text) if name not in self.names]
        for name in unknown:
            self.refuse(row, column, Code.XLSFORM_UNKNOWN_REFERENCE.format(text=text, name=name))
        try:
            tree = xpath.parse(text)
        except xpath.XPathSyntaxError as error:
            bad = Code.XLSFORM_BAD_EXPRESSION
            self.refuse(row, column, message(bad.value.format(text=text, detail=error),
                                             CODE_VI[bad.name].format(text=text, detail=error.vietnamese)))
            return None
        return None if unknown else tree

    def logic_tree(self, row: int, column: str, text: str, own_name: str | None = None) -> xpath.Node | None:
        """The tree of a relevant or constraint whose names are all imported questions (else refused)."""
        tree = self.parsed_quietly(text)
        if tree is None:
            return None  # already refused by check_expressions
        fine = True
        for name in sorted(xpath.referenced_names(tree)):
            if name == own_name and column == "relevant":
                self.refuse(row, column, Code.XLSFORM_SELF_REFERENCE.format(text=text))
                fine = False
            elif self.kinds.get(name) not in ANSWER_KINDS:
                self.refuse(row, column, Code.XLSFORM_DROPPED_REFERENCE.format(text=text, name=name,
                                                                              kind=self.kinds.get(name)))
                fine = False
        return tree if fine else None

    def parsed_quietly(self, text: str) -> xpath.Node | None:
        if any(name not in self.names for name, _ in xpath.references(text)):
            return None
        try:
            return xpath.parse(text)
        except xpath.XPathSyntaxError:
            return None

    def group_condition(self, row: int, values: dict) -> str | None:
        """The group's relevant as show_if text, or None (not set, or refused)."""
        relevant = values.get("relevant")
        if not relevant:
            return None
        condition = self.condition(row, relevant)
        if condition is not None:
            self.note("survey", row, f"group relevant '{relevant}' is added to the show_if of each of its "
                                     "questions.")
        return condition

    def condition(self, row: int, relevant: str, own_name: str | None = None) -> str | None:
        """relevant → canonical show_if text; None after refusing what cannot be kept."""
        tree = self.logic_tree(row, "relevant", relevant, own_name)
        if tree is None:
            return None
        try:
            return relevant_to_show_if(tree, lambda name: self.names[name], lambda name: self.kinds.get(name) == "date")
        except NotKept as reason:
            self.refuse_not_kept(row, "relevant", relevant, reason)
            return None

    def refuse_not_kept(self, row: int, column: str, text: str, reason: NotKept) -> None:
        self.refuse(row, column, Code.XLSFORM_NOT_KEPT.format(column=column, text=text, part=reason.english,
                                                              part_vi=reason.vietnamese))

    # --- questions ---

    def ungrouped_section(self, position: int) -> dict:
        """A section for questions outside any group; emptied ones are removed at the end."""
        return {"key": f"main_{position}" if position else "main",
                "title": self.same_text({"vi": "Phần chung", "en": "General"}),
                "items": []}

    def section(self, row: int, values: dict) -> dict:
        columns = REPEAT_COLUMNS if row_kind(values) == "begin_repeat" else GROUP_COLUMNS
        self.note_ignored_columns(row, values, columns + ("appearance",))
        key = self.names.get(values.get("name", ""), f"group_{row}")
        title = self.texts("survey", row, values, "label") or self.same_text({"vi": key})
        words = values.get("appearance", "").lower().split()
        kept = [word for word in words if word in SECTION_APPEARANCES][:1]
        if set(words) - set(kept):
            self.note("survey", row, f"group appearance '{' '.join(word for word in words if word not in kept)}' is "
                                     "not supported here; dropped.")
        return {"key": key, "title": title, "items": []} | ({"appearance": kept[0]} if kept else {})

    def item(self, row: int, values: dict, group_conditions: list[str]) -> dict | None:
        kind, list_name, other = question_type(values)
        item_type = SIMPLE_TYPES.get(kind) or SELECT_TYPES.get(kind) or DISPLAY_KINDS.get(kind)
        if item_type == "note" and not values.get("name"):  # nothing refers to it: a key from its row will do
            values = {**values, "name": f"note_{row}"}
            self.names[values["name"]], self.kinds[values["name"]] = values["name"], "note"
        if item_type is not None and not values.get("name"):
            self.refuse(row, "name", Code.XLSFORM_UNSUPPORTED.format(
                what=f"a '{kind}' question without a name", instead="a question with a name",
                what_vi=f"câu hỏi '{kind}' không có tên (name)", instead_vi="câu hỏi có tên"))
            return None
        if item_type is None:
            self.not_a_question(row, kind, values)
            return None
        item = {"key": self.names[values["name"]], "type": item_type,
                "label": self.texts("survey", row, values, "label") or self.placeholder(row, values["name"])}
        hint = self.texts("survey", row, values, "hint")
        if hint:
            item["hint"] = hint
        self.pipe(row, item)
        if item_type == "note":
            return self.note_item(row, values, item, group_conditions)
        if item_type == "calculate":
            return self.calculate_item(row, values, item, group_conditions)
        self.add_required(row, values, item)
        if item_type in ("single", "multiple"):
            item["choices"] = self.item_choices(row, list_name, other)
            self.add_choice_filter(row, values, item)
        self.add_appearance(row, values, item)
        self.add_range_parameters(row, kind, values, item)
        self.add_show_if(row, values, item, group_conditions)
        self.add_constraint(row, values, item)
        self.apply_sipas_type(row, values, item)
        self.note_ignored_columns(row, values, QUESTION_COLUMNS)
        return item

    def note_item(self, row: int, values: dict, item: dict, group_conditions: list[str]) -> dict:
        """A note: its text and relevant only; a required or constraint on text nobody answers means nothing."""
        for column in ("required", "constraint"):
            if values.get(column) and values[column].lower() not in FALSE_WORDS:
                self.note("survey", row, f"{column} on the note '{values['name']}' means nothing (it has no "
                                         "answer); dropped.")
        self.add_show_if(row, values, item, group_conditions)
        self.note_ignored_columns(row, values, QUESTION_COLUMNS + ("constraint", "required"))
        return item

    def calculate_item(self, row: int, values: dict, item: dict, group_conditions: list[str]) -> dict:
        """A calculation the server computes at submit; one it cannot compute (a function such as today(), a path)
        is refused with its row."""
        text = values.get("calculation", "")
        tree = self.parsed_quietly(text) if text else None
        if not text:
            self.refuse(row, "calculation", message("a calculate row needs a calculation.",
                                                    "dòng calculate cần một công thức (calculation)."))
        for part in xpath_eval.unsupported_parts(tree) if tree is not None else ():
            self.refuse_not_kept(row, "calculation", text, NotKept(part, part.replace("the function", "hàm")
                                                                   .replace("a path", "đường dẫn XPath")))
        for name in sorted(xpath.referenced_names(tree)) if tree is not None else ():
            if self.kinds.get(name) not in ANSWER_KINDS:
                self.refuse(row, "calculation", Code.XLSFORM_DROPPED_REFERENCE.format(text=text, name=name,
                                                                                     kind=self.kinds.get(name)))
        item["calculation"] = piping.renamed(text, self.names)
        self.add_show_if(row, values, item, group_conditions)
        self.note_ignored_columns(row, values, QUESTION_COLUMNS + ("calculation",))
        return item

    def apply_sipas_type(self, row: int, values: dict, item: dict) -> None:
        """rating5 (with its scale), unit, domain or dossier_code, as an exported workbook names them."""
        wanted, _, scale = values.get("sipas_type", "").partition(":")
        if not wanted:
            return
        if item["type"] not in SIPAS_TYPES.get(wanted, ()):
            self.refuse(row, "sipas_type", message(
                f"sipas_type '{values['sipas_type']}' does not fit a '{item['type']}' question.",
                f"sipas_type '{values['sipas_type']}' không hợp với câu hỏi loại '{item['type']}'."))
            return
        item["type"] = wanted
        if wanted == "rating5":
            item.pop("choices", None)  # the scale gives them
            if scale and scale != "satisfaction":
                item["scale"] = scale

    def not_a_question(self, row: int, kind: str, values: dict) -> None:
        """Metadata carries no answer and is dropped with a note; any other type is refused."""
        name = values.get("name", "")
        if kind in METADATA_TYPES:
            self.note("survey", row, f"metadata '{kind}' is not kept; '{name}' dropped.")
        elif kind == "phone":  # 'phone number': a text of digits, which this system must never store
            self.refuse(row, "type", Code.XLSFORM_UNSUPPORTED.format(
                what=f"a phone number question ('{name}')", instead="nothing: phone numbers are never stored with "
                "answers", what_vi=f"câu hỏi số điện thoại ('{name}')",
                instead_vi="không gì cả: số điện thoại không bao giờ được lưu cùng câu trả lời"))
        else:
            self.refuse(row, "type", Code.XLSFORM_UNSUPPORTED_TYPE.format(
                kind=kind, name=name, allowed=", ".join(sorted(QUESTION_KINDS | set(DISPLAY_KINDS)))))

    def pipe(self, row: int, item: dict) -> None:
        """A label or hint showing another answer (${name}) keeps it under that question's key; a name that is no
        imported question is refused (the form would show the reference itself)."""
        for column in ("label", "hint"):
            reported = set()  # a name once per column, not once per language
            for language, text in item.get(column, {}).items():
                for name in piping.references(text):
                    if name in reported or (name in self.names and self.kinds.get(name) in ANSWER_KINDS):
                        continue
                    reported.add(name)
                    self.refuse(row, column, Code.XLSFORM_UNKNOWN_REFERENCE.format(text=text, name=name)
                                if name not in self.names else Code.XLSFORM_DROPPED_REFERENCE.format(
                                    text=text, name=name, kind=self.kinds.get(name)))
                item[column][language] = piping.renamed(text, self.names)

    def add_required(self, row: int, values: dict, item: dict) -> None:
        required = values.get("required", "").lower()
        if required in TRUE_WORDS:
            item["required"] = True
        elif required and required not in FALSE_WORDS:
            self.refuse(row, "required", Code.XLSFORM_UNSUPPORTED.format(
                what=f"a conditional required ('{values['required']}')", instead="yes or no",
                what_vi=f"bắt buộc có điều kiện ('{values['required']}')", instead_vi="yes hoặc no"))

    def placeholder(self, row: int, name: str) -> dict:
        self.note("survey", row, f"'{name}' has no label; its name is used.")
        return self.same_text({"vi": name})

    def item_choices(self, row: int, list_name: str, other: bool) -> list[dict]:
        if list_name not in self.choice_lists:
            self.refusals.append(Problem(self.file, row, "survey.type",
                                         Code.XLSFORM_UNKNOWN_LIST.format(value=list_name)))
            return [{"value": "x", "label": self.same_text({"vi": "x"})}]
        choices = self.choice_lists[list_name]
        if other and OTHER_CHOICE["value"] not in [choice["value"] for choice in choices]:
            choices = [*choices, {**OTHER_CHOICE, "label": self.same_text(OTHER_CHOICE["label"])}]
        return choices

    def add_appearance(self, row: int, values: dict, item: dict) -> None:
        """likert, horizontal (also horizontal-compact, columns) and minimal on select questions; others noted."""
        words = values.get("appearance", "").lower().split()
        kept = [APPEARANCES[word] for word in words if word in APPEARANCES]
        if kept and kept[0] == "minimal" and item["type"] == "multiple":
            kept = []  # a multi-select drop-down is hard to use on a phone: ticks stay
        if kept and item["type"] in ("single", "multiple"):
            item["appearance"] = kept[0]
        dropped = [word for word in words if word not in APPEARANCES or APPEARANCES[word] != item.get("appearance")]
        if dropped:
            self.note("survey", row, f"appearance '{' '.join(dropped)}' is not supported here; dropped.")

    def add_choice_filter(self, row: int, values: dict, item: dict) -> None:
        """choice_filter 'column = ${x}' (and several joined by and) → the item's choice_filter; each choice keeps
        only the columns it is filtered on."""
        text = values.get("choice_filter")
        tree = self.logic_tree(row, "choice_filter", text) if text else None
        rules = ()
        if tree is not None:
            try:
                rules = choice_filter_rules(tree, lambda name: self.names[name])
            except NotKept as reason:
                self.refuse_not_kept(row, "choice_filter", text, reason)
        columns = {rule["column"] for rule in rules}
        for column in sorted(columns - {name for choice in item["choices"] for name in choice.get("filters", {})}):
            self.refuse(row, "choice_filter", message(
                f"choice_filter '{text}' reads the column '{column}', which the choices of this list do not have.",
                f"choice_filter '{text}' đọc cột '{column}', nhưng các lựa chọn của danh sách này không có cột đó."))
        self.filter_columns |= columns
        item["choices"] = [{"value": choice["value"], "label": choice["label"],
                            **({"filters": {column: text for column, text in choice.get("filters", {}).items()
                                            if column in columns}} if columns else {})}
                           for choice in item["choices"]]
        if rules:
            item["choice_filter"] = list(rules)

    def other_question(self, row: int, item: dict) -> dict:
        """or_other, as pyxform builds it: an 'other' choice and a text question '<name>_other' shown when picked."""
        key = f"{item['key']}_other"
        if key in self.names.values():
            self.refuse(row, "type", Code.XLSFORM_UNSUPPORTED.format(
                what=f"or_other next to a question named '{key}'", instead="another name for that question",
                what_vi=f"or_other khi đã có câu hỏi tên '{key}'", instead_vi="một tên khác cho câu hỏi đó"))
        picked = f"'other' in {item['key']}" if item["type"] == "multiple" else f"{item['key']} == 'other'"
        condition = f"({item['show_if']}) and {picked}" if item.get("show_if") else picked
        self.note("survey", row, f"or_other: the choice 'other' and the text question '{key}' shown when it is "
                                 "picked were added, as pyxform does.")
        return {"key": key, "type": "text", "label": self.same_text(OTHER_LABEL),
                "show_if": show_if.normalise(condition)}

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
            own = self.condition(row, relevant, values["name"])
            if own is not None:
                conditions.append(own)
        if conditions:
            joined = " and ".join(f"({condition})" for condition in conditions)
            item["show_if"] = show_if.normalise(joined)

    def add_constraint(self, row: int, values: dict, item: dict) -> None:
        constraint = values.get("constraint")
        if not constraint:
            if any(column.startswith("constraint_message") for column in values):
                self.note("survey", row, "constraint_message without a constraint; dropped.")
            return
        tree = self.logic_tree(row, "constraint", constraint)
        if tree is None:
            return
        try:
            limits = constraint_limits(tree, item["type"])
        except NotKept as reason:
            self.refuse_not_kept(row, "constraint", constraint, reason)
            return
        if limits.get("max_choices", 0) >= len(item.get("choices", [])):
            limits.pop("max_choices", None)  # as many as there are choices: no limit at all
        item.update(limits)
        message_texts = self.texts("survey", row, values, "constraint_message")
        if message_texts and limits:
            item["constraint_message"] = message_texts

    def note_ignored_columns(self, row: int, values: dict, converted: tuple) -> None:
        """One note per filled column that is not converted (appearance, media, default, …)."""
        for column in values:
            base = column.partition("::")[0].strip().lower()
            if base.startswith("bind"):  # a raw XForms bind (bind::relevant, bind:jr:constraintMsg) is logic
                self.refuse(row, column, Code.XLSFORM_UNSUPPORTED.format(
                    what=f"the XForms bind column '{column}' ('{values[column]}')", instead="the XLSForm column",
                    what_vi=f"cột bind XForms '{column}' ('{values[column]}')", instead_vi="cột XLSForm tương ứng"))
            elif base not in converted and base not in UNSUPPORTED_LOGIC:
                self.note("survey", row, f"column '{column}' is not supported; dropped.")


SELECT_PATTERN = re.compile(r"(select_one|select one|select1|select_multiple|select all that apply|select multiple)"
                            r"(?: from)? (\S+)( or_other| or specify other)?", re.IGNORECASE)


def row_kind(values: dict) -> str:
    """'begin_group' for 'begin group' or 'BEGIN_GROUP', 'begin_loop' for 'begin loop over x', 'select_one' for
    'select_one yes_no' or 'select one from yes_no'."""
    return question_type(values)[0]


def question_type(values: dict) -> tuple[str, str, bool]:
    """(kind, choice list, or_other) of a row's type."""
    text = " ".join(values.get("type", "").split())
    select = SELECT_PATTERN.fullmatch(text)
    if select:
        multiple = select.group(1).lower() in ("select_multiple", "select all that apply", "select multiple")
        return ("select_multiple" if multiple else "select_one"), select.group(2), bool(select.group(3))
    lowered = text.lower()
    if lowered.startswith(("begin ", "end ")):
        return lowered.replace(" ", "_", 1).split()[0], "", False
    return (lowered.split()[0] if lowered else ""), "", False
