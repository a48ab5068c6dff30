"""Load a YAML definition into a Questionnaire, collecting every problem as `file:line: field: message`.

Nothing is partially loaded: either the whole definition is valid, or DefinitionError lists all problems.
"""

from __future__ import annotations

import datetime
import math
import pathlib
import re
from typing import Optional, Union

from questionnaires import piping, show_if, xpath, xpath_eval
from questionnaires.errors import Code, DefinitionError, Problem
from questionnaires.languages import is_code
from questionnaires.model import (MAX_MEMBERS, ComparableWith, Choice, Criterion, Factor, Item, Questionnaire,
                                  Repeat, Scoring, Section, rating_choices)
from questionnaires.standard import (CHOICE_TYPES, DEFAULT_SCALE, DISPLAY_TYPES, ITEM_TYPES, LANGUAGES, LAYOUTS,
                                     NOT_ASKED_TYPES, RATING_SCALES, SCORING_RULES)
from questionnaires.yaml_tree import Document, read_document

ISO_DAY = re.compile(r"\d{4}-\d\d-\d\d")
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
CHOICE_VALUE_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
TOP_FIELDS = ("key", "version", "title", "description", "languages", "layout", "choice_lists", "sections",
              "scoring", "comparable_with")
SECTION_FIELDS = ("key", "title", "items", "repeat", "appearance")
SECTION_APPEARANCES = ("field-list", "table-list")
REPEAT_FIELDS = ("count", "minimum", "maximum")
COUNT_TYPES = ("integer", "calculate")  # an item whose answer can say how many members a repeat has
ITEM_FIELDS = ("key", "type", "label", "hint", "required", "choices", "show_if", "max_length", "minimum",
               "maximum", "pattern", "scale", "max_choices", "constraint_message", "choice_filter", "appearance", "calculation",
               "earliest", "latest")
APPEARANCES = ("likert", "horizontal", "minimal")
FILTER_COLUMN_PATTERN = re.compile(r"[A-Za-z_][\w.\-]{0,63}")
FIELDS_BY_TYPE = {
    "choice_filter": ("single", "multiple"),
    "appearance": ("single", "multiple"),
    "constraint_message": ("integer", "decimal", "text", "dossier_code", "unit", "domain", "multiple", "date"),
    "choices": ("single", "multiple", "unit", "domain"),
    "max_length": ("text", "dossier_code", "unit", "domain"),
    "minimum": ("integer", "decimal"),
    "maximum": ("integer", "decimal"),
    "pattern": ("text", "dossier_code"),
    "scale": ("rating5",),
    "max_choices": ("multiple",),
    "calculation": ("calculate",),
    "earliest": ("date",),
    "latest": ("date",),
}
Source = Union[str, pathlib.Path]


def load_definition(source: Source) -> Questionnaire:
    """A Questionnaire from a file path or YAML text; raises DefinitionError listing every problem."""
    text, file = read_source(source)
    questionnaire, problems = parse_definition(text, file)
    if problems:
        raise DefinitionError(problems)
    return questionnaire


def read_source(source: Source) -> tuple[str, str]:
    """(text, file name for messages): a Path, or a one-line string naming an existing .yaml file, is read."""
    if isinstance(source, pathlib.Path) or _looks_like_path(source):
        path = pathlib.Path(source)
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as error:
            raise DefinitionError([Problem(str(path), 1, "(file)", Code.FILE_UNREADABLE.format(detail=error))])
    return source, "<text>"


def _looks_like_path(source: str) -> bool:
    return "\n" not in source and (source.endswith((".yaml", ".yml")) or pathlib.Path(source).is_file())


def parse_definition(text: str, file: str = "<text>") -> tuple[Optional[Questionnaire], list[Problem]]:
    """(questionnaire or None, problems): the non-raising form used by validate_files."""
    document = read_document(text, file)
    if document.data is None and not document.problems:
        document.report((), Code.NOT_A_MAPPING, found="an empty file")
    if document.problems and document.data is None:
        return None, document.problems
    questionnaire = _Builder(document).build()
    problems = sorted(document.problems, key=lambda problem: problem.line)
    return (None if problems else questionnaire), problems


def describe(value: object) -> str:
    """Short description of a wrong value for messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__} ({value})"


class _Builder:
    """Walks the plain data of one document, reporting problems and building model objects."""

    def __init__(self, document: Document):
        self.document = document
        self.languages: list[str] = list(LANGUAGES)
        self.choice_lists: dict[str, list[Choice]] = {}
        self.key_lines: dict[tuple[str, str], int] = {}
        self.conditions: dict[str, tuple[tuple, object]] = {}
        self.filter_references: list[tuple[tuple, str, str]] = []  # (path, item key, the key its filter reads)
        self.piped: list[tuple[tuple, str, str]] = []  # (path of a label or hint, item key, a key it shows)
        self.repeat_of: dict[str, str] = {}  # item key → the key of the repeat it is asked in
        self.repeat_paths: dict[str, tuple] = {}  # repeat key → path of its 'repeat' field

    def report(self, path: tuple, code: Code, **values: object) -> None:
        self.document.report(path, code, **values)

    # --- generic readers ---

    def mapping(self, path: tuple, value: object, allowed: tuple, required: tuple = ()) -> Optional[dict]:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.report(path, Code.NOT_A_MAPPING, found=describe(value))
            return None
        for name in value:
            if name not in allowed:
                self.report(path + (name,), Code.UNKNOWN_FIELD, name=name, allowed=", ".join(allowed))
        for name in required:
            if name not in value:
                self.report(path, Code.MISSING_FIELD, name=name)
        return value

    def list(self, path: tuple, value: object) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.report(path, Code.NOT_A_LIST, found=describe(value))
            return []
        return value

    def text(self, path: tuple, value: object) -> Optional[str]:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.report(path, Code.NOT_TEXT, found=describe(value))
            return None
        return value.strip()

    def boolean(self, path: tuple, value: object, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.report(path, Code.NOT_A_BOOLEAN, found=describe(value))
            return default
        return value

    def number(self, path: tuple, value: object) -> Optional[float]:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.report(path, Code.NOT_A_NUMBER, found=describe(value))
            return None
        return value

    def positive_integer(self, path: tuple, value: object, code: Code, **values: object) -> Optional[int]:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.report(path, code, found=describe(value), **values)
            return None
        return value

    def translations(self, path: tuple, value: object, optional: bool = False) -> dict[str, str]:
        if value is None or (optional and value == {}):
            return {}
        if not isinstance(value, dict):
            self.report(path, Code.NOT_A_MAPPING, found=describe(value))
            return {}
        for language in value:
            if language not in self.languages:
                self.report(path + (language,), Code.EXTRA_TRANSLATION, language=language,
                            allowed=", ".join(self.languages))
        for language in self.languages:
            if language not in value:
                self.report(path, Code.MISSING_TRANSLATION, language=language)
        texts = {language: self.text(path + (language,), value.get(language)) for language in self.languages}
        return {language: text for language, text in texts.items() if text}

    def key(self, path: tuple, value: object, what: str) -> Optional[str]:
        """A lowercase identifier, unique among keys of the same kind (`what`)."""
        text = self.text(path, value)
        if text is None:
            return None
        if text in show_if.KEYWORDS:
            self.report(path, Code.RESERVED_KEY, value=text)
        elif not KEY_PATTERN.fullmatch(text):
            self.report(path, Code.BAD_KEY, value=text)
        elif (what, text) in self.key_lines:
            self.report(path, Code.DUPLICATE_KEY, what=what, value=text, first_line=self.key_lines[(what, text)])
        else:
            self.key_lines[(what, text)] = self.document.line(path)
            return text
        return None

    def one_of(self, path: tuple, value: object, allowed: tuple, code: Code) -> Optional[str]:
        if value is None:
            return None
        if value not in allowed:
            self.report(path, code, value=value, allowed=", ".join(allowed))
            return None
        return value

    # --- the questionnaire ---

    def build(self) -> Optional[Questionnaire]:
        data = self.mapping((), self.document.data, TOP_FIELDS, ("key", "version", "title", "sections"))
        if data is None:
            return None
        self.languages = self.read_languages(data.get("languages"))
        header = self.read_header(data)
        self.choice_lists = self.read_choice_lists(data.get("choice_lists"))
        sections = self.read_sections(data.get("sections"))
        items = {item.key: item for section in sections for item in section.items}
        self.check_conditions(items)
        self.check_filter_references(items)
        self.check_piping(items)
        self.check_repeats(sections)
        asked_once = {key: item for key, item in items.items() if key not in self.repeat_of}
        scoring = self.read_scoring(data.get("scoring"), asked_once)
        comparable = self.read_comparable(data.get("comparable_with"), asked_once, header["version"])
        if self.document.problems:
            return None
        return Questionnaire(sections=sections, scoring=scoring, comparable_with=comparable, **header)

    def read_header(self, data: dict) -> dict:
        return {
            "key": self.key(("key",), data.get("key"), "questionnaire"),
            "version": self.read_version(data.get("version")),
            "title": self.translations(("title",), data.get("title")),
            "description": self.translations(("description",), data.get("description"), optional=True),
            "languages": self.languages,
            "layout": self.one_of(("layout",), data.get("layout", "single_page"), LAYOUTS, Code.BAD_LAYOUT),
        }

    def read_languages(self, value: object) -> list[str]:
        if value is None:
            return list(LANGUAGES)
        languages = []
        for index, language in enumerate(self.list(("languages",), value)):
            if not isinstance(language, str) or not is_code(language):
                self.report(("languages", index), Code.UNKNOWN_LANGUAGE, value=language)
            elif language in languages:
                self.report(("languages", index), Code.DUPLICATE_LANGUAGE, value=language)
            else:
                languages.append(language)
        if not languages or languages[0] != "vi":
            self.report(("languages",), Code.LANGUAGES_ORDER, found=describe(value))
            return list(LANGUAGES)
        return languages

    def read_version(self, value: object) -> Optional[str]:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            self.report(("version",), Code.BAD_VERSION, found=describe(value))
            return None
        return str(value).strip()

    # --- choices ---

    def read_choice_lists(self, value: object) -> dict[str, list[Choice]]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.report(("choice_lists",), Code.NOT_A_MAPPING, found=describe(value))
            return {}
        return {name: self.read_choices(("choice_lists", name), choices) for name, choices in value.items()
                if self.key(("choice_lists", name), name, "choice list")}

    def read_choices(self, path: tuple, value: object) -> list[Choice]:
        entries = self.list(path, value)
        if isinstance(value, list) and len(entries) == 0:
            self.report(path, Code.EMPTY_CHOICES)
        choices, seen = [], set()
        for index, entry in enumerate(entries):
            choice = self.read_choice(path + (index,), entry)
            if choice and choice.value in seen:
                self.report(path + (index, "value"), Code.DUPLICATE_CHOICE, value=choice.value)
            elif choice:
                seen.add(choice.value)
                choices.append(choice)
        return choices

    def read_choice(self, path: tuple, value: object) -> Optional[Choice]:
        data = self.mapping(path, value, ("value", "label", "filters"), ("value", "label"))
        if data is None:
            return None
        raw_value = data.get("value")
        choice_value = str(raw_value) if isinstance(raw_value, (str, int)) and not isinstance(raw_value, bool) else None
        if raw_value is not None and (choice_value is None or not CHOICE_VALUE_PATTERN.fullmatch(choice_value)):
            self.report(path + ("value",), Code.BAD_CHOICE_VALUE, value=raw_value)
            return None
        label = self.translations(path + ("label",), data.get("label"))
        filters = self.choice_filters(path + ("filters",), data.get("filters"))
        return Choice(choice_value, label, filters) if choice_value is not None else None

    def choice_filters(self, path: tuple, value: object) -> dict[str, str]:
        """A choice's values for cascading filters: {column: text}."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.report(path, Code.NOT_A_MAPPING, found=describe(value))
            return {}
        return {str(column): str(text) for column, text in value.items()}

    def read_choice_filter(self, path: tuple, value: object, item_key: Optional[str]) -> tuple:
        """[{column, item}, …]: a choice is offered when its filters[column] equals the answer to item."""
        if value is None:
            return ()
        rules = []
        for index, entry in enumerate(self.list(path, value)):
            data = self.mapping(path + (index,), entry, ("column", "item"), ("column", "item"))
            if data is None:
                continue
            column, other = str(data.get("column", "")), str(data.get("item", ""))
            if not FILTER_COLUMN_PATTERN.fullmatch(column):
                self.report(path + (index, "column"), Code.BAD_KEY, value=column)
                continue
            self.filter_references.append((path + (index, "item"), item_key, other))
            rules.append({"column": column, "item": other})
        return tuple(rules)

    def check_piping(self, items: dict) -> None:
        """A label may show the answer of another question: not a note's (it has none), nor its own."""
        for path, item_key, other in self.piped:
            if other not in items:
                self.report(path, Code.SHOW_IF_UNKNOWN_ITEM, value=other, known=_short_list(items))
            elif other == item_key:
                self.report(path, Code.SHOW_IF_SELF)
            elif items[other].type in DISPLAY_TYPES:
                self.report(path, Code.SHOW_IF_NOTE, value=other)

    def check_filter_references(self, items: dict) -> None:
        for path, item_key, other in self.filter_references:
            if other not in items:
                self.report(path, Code.SHOW_IF_UNKNOWN_ITEM, value=other, known=_short_list(items))
            elif other == item_key:
                self.report(path, Code.SHOW_IF_SELF)

    def item_choices(self, path: tuple, data: dict, item_type: Optional[str], scale: Optional[str]) -> list[Choice]:
        if item_type == "rating5":
            return rating_choices(scale or DEFAULT_SCALE)
        value = data.get("choices")
        if value is None:
            if item_type in CHOICE_TYPES:
                self.report(path, Code.CHOICES_REQUIRED, type=item_type)
            return []
        if isinstance(value, str):
            return self.named_choices(path + ("choices",), value)
        return self.read_choices(path + ("choices",), value)

    def named_choices(self, path: tuple, name: str) -> list[Choice]:
        if name not in self.choice_lists:
            self.report(path, Code.UNKNOWN_CHOICE_LIST, value=name, allowed=", ".join(self.choice_lists) or "none")
            return []
        return list(self.choice_lists[name])

    # --- sections and items ---

    def read_sections(self, value: object) -> list[Section]:
        sections = [self.read_section(("sections", index), entry)
                    for index, entry in enumerate(self.list(("sections",), value))]
        sections = [section for section in sections if section is not None]
        entries = [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []
        if isinstance(value, list) and not any(entry.get("items") for entry in entries):
            self.report(("sections",), Code.EMPTY_SECTIONS)
        return sections

    def read_section(self, path: tuple, value: object) -> Optional[Section]:
        data = self.mapping(path, value, SECTION_FIELDS, ("key", "title", "items"))
        if data is None:
            return None
        key = self.key(path + ("key",), data.get("key"), "section")
        title = self.translations(path + ("title",), data.get("title"))
        items = [self.read_item(path + ("items", index), entry)
                 for index, entry in enumerate(self.list(path + ("items",), data.get("items")))]
        items = [item for item in items if item is not None]
        repeat = self.read_repeat(path + ("repeat",), data.get("repeat"))
        if repeat and key:
            self.repeat_of.update({item.key: key for item in items})
            self.repeat_paths[key] = path + ("repeat",)
        appearance = self.one_of(path + ("appearance",), data.get("appearance"), SECTION_APPEARANCES,
                                 Code.BAD_APPEARANCE)
        return Section(key, title, items, repeat, appearance)

    def read_repeat(self, path: tuple, value: object) -> Optional[Repeat]:
        """{count: a whole number or an item key, minimum, maximum}: the section is asked once per member."""
        data = self.mapping(path, value, REPEAT_FIELDS)
        if data is None:
            return None
        count = data.get("count")
        if isinstance(count, str):
            count = self.text(path + ("count",), count)
        elif count is not None and (isinstance(count, bool) or not isinstance(count, int)
                                    or not 1 <= count <= MAX_MEMBERS):
            self.report(path + ("count",), Code.BAD_REPEAT_COUNT, found=describe(count))
            count = None
        low, high = (self.whole_number(path + (name,), data.get(name)) for name in ("minimum", "maximum"))
        if low is not None and high is not None and low > high:
            self.report(path + ("minimum",), Code.BAD_RANGE, minimum=low, maximum=high)
        return Repeat(count, low, high)

    def whole_number(self, path: tuple, value: object) -> Optional[int]:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MEMBERS:
            self.report(path, Code.BAD_MEMBER_LIMIT, found=describe(value))
            return None
        return value

    def check_repeats(self, sections: list[Section]) -> None:
        """A repeat's count names an integer or calculate item asked once; an item asked once cannot read an
        answer given per member, nor a member's item another repeat's answer."""
        asked_once = {item.key: item for section in sections if not section.repeat for item in section.items}
        every_key = {item.key for section in sections for item in section.items}
        for section in sections:
            if section.repeat:
                self.check_repeat_key(section, every_key)
            count = section.repeat.count if section.repeat else None
            if isinstance(count, str) and (count not in asked_once or asked_once[count].type not in COUNT_TYPES):
                self.report(self.repeat_paths[section.key] + ("count",), Code.BAD_REPEAT_COUNT_ITEM, value=count)
        references = [(path, key, other) for key, (path, tree) in self.conditions.items()
                      for other in show_if.referenced_keys(tree)]
        for path, key, other in references + self.filter_references + self.piped:
            if other in self.repeat_of and self.repeat_of.get(key) != self.repeat_of[other]:
                self.report(path, Code.REPEAT_ITEM_OUTSIDE, value=other, repeat=self.repeat_of[other])
            elif other in self.repeat_of and path[-1] in ("label", "hint"):  # the page fills in one answer per key
                self.report(path, Code.PIPED_MEMBER_ANSWER, value=other)

    def check_repeat_key(self, section: Section, every_key: set[str]) -> None:
        """A repeat's key is no question's, and no question is named like its wide export columns (`key_N_…`)."""
        path = self.repeat_paths[section.key][:-1] + ("key",)
        if section.key in every_key:
            self.report(path, Code.REPEAT_KEY_TAKEN, value=section.key)
        wide = re.compile(re.escape(section.key) + r"_[0-9]+_")
        for key in sorted(key for key in every_key if wide.match(key)):
            self.report(path, Code.REPEAT_COLUMN_TAKEN, value=key, repeat=section.key)

    def read_item(self, path: tuple, value: object) -> Optional[Item]:
        data = self.mapping(path, value, ITEM_FIELDS, ("key", "type", "label"))
        if data is None:
            return None
        key = self.key(path + ("key",), data.get("key"), "item")
        item_type = self.one_of(path + ("type",), data.get("type"), ITEM_TYPES, Code.UNKNOWN_TYPE)
        self.check_fields_for_type(path, data, item_type)
        constraints = self.read_constraints(path, data, item_type)
        choices = self.item_choices(path, data, item_type, constraints["scale"])
        self.check_max_choices(path, constraints["max_choices"], choices)
        condition = self.read_condition(path + ("show_if",), data.get("show_if"), key)
        texts = {"label": self.translations(path + ("label",), data.get("label")),
                 "hint": self.translations(path + ("hint",), data.get("hint"), optional=True),
                 "constraint_message": self.translations(path + ("constraint_message",),
                                                         data.get("constraint_message"), optional=True)}
        for name in ("label", "hint"):
            self.piped.extend((path + (name,), key, other) for text in texts[name].values()
                              for other in piping.references(text))
        required = self.boolean(path + ("required",), data.get("required"), False)
        if required and item_type in NOT_ASKED_TYPES:
            self.report(path + ("required",), Code.NOTE_REQUIRED, type=item_type)
        calculation = self.read_calculation(path, data, item_type, key)
        choice_filter = self.read_choice_filter(path + ("choice_filter",), data.get("choice_filter"), key)
        appearance = self.one_of(path + ("appearance",), data.get("appearance"), APPEARANCES, Code.BAD_APPEARANCE)
        if appearance == "minimal" and item_type == "multiple":
            self.report(path + ("appearance",), Code.BAD_APPEARANCE, value=appearance, allowed="likert, horizontal")
        if key is None or item_type is None:
            return None
        return Item(key=key, type=item_type, required=required, choices=choices, show_if=condition,
                    choice_filter=choice_filter, appearance=appearance, calculation=calculation, **texts,
                    **constraints)

    def read_calculation(self, path: tuple, data: dict, item_type: Optional[str], key: Optional[str]) -> Optional[str]:
        """A calculate item's expression: it parses, and the evaluator can compute every part of it."""
        if item_type != "calculate":
            return None
        text = self.text(path + ("calculation",), data.get("calculation"))
        if not text:
            self.report(path + ("calculation",) if "calculation" in data else path, Code.CALCULATION_MISSING)
            return None
        try:
            tree = xpath.parse(text)
        except xpath.XPathSyntaxError as error:
            self.report(path + ("calculation",), Code.CALCULATION_BAD, text=text, detail=error)
            return None
        for part in xpath_eval.unsupported_parts(tree):
            self.report(path + ("calculation",), Code.CALCULATION_BAD, text=text, detail=f"{part} is not supported")
        self.piped.extend((path + ("calculation",), key, other) for other in sorted(xpath.referenced_names(tree)))
        return text

    def check_fields_for_type(self, path: tuple, data: dict, item_type: Optional[str]) -> None:
        if item_type is None:
            return
        for name, types in FIELDS_BY_TYPE.items():
            if name in data and item_type not in types:
                code = Code.CHOICES_NOT_ALLOWED if name == "choices" else Code.FIELD_NOT_FOR_TYPE
                self.report(path + (name,), code, name=name, type=item_type)

    def read_constraints(self, path: tuple, data: dict, item_type: Optional[str]) -> dict:
        minimum = self.number(path + ("minimum",), data.get("minimum"))
        maximum = self.number(path + ("maximum",), data.get("maximum"))
        if minimum is not None and maximum is not None and minimum > maximum:
            self.report(path + ("minimum",), Code.BAD_RANGE, minimum=minimum, maximum=maximum)
        scale = self.one_of(path + ("scale",), data.get("scale"), tuple(RATING_SCALES), Code.BAD_SCALE)
        return {
            "minimum": minimum,
            "maximum": maximum,
            "max_length": self.positive_integer(path + ("max_length",), data.get("max_length"), Code.BAD_LENGTH),
            "pattern": self.read_pattern(path + ("pattern",), data.get("pattern")),
            "scale": (scale or DEFAULT_SCALE) if item_type == "rating5" else None,
            "max_choices": data.get("max_choices"),
            **self.read_date_limits(path, data),
        }

    def read_date_limits(self, path: tuple, data: dict) -> dict:
        """earliest and latest of a date item: 'today' or a day (YAML reads an unquoted 1900-01-01 as a date)."""
        limits = {name: self.date_limit(path + (name,), data.get(name)) for name in ("earliest", "latest")}
        earliest, latest = limits["earliest"], limits["latest"]
        if earliest and latest and "today" not in (earliest, latest) and earliest > latest:
            self.report(path + ("earliest",), Code.BAD_DATE_RANGE, earliest=earliest, latest=latest)
        return limits

    def date_limit(self, path: tuple, value: object) -> Optional[str]:
        if value is None:
            return None
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value.isoformat()
        if value == "today" or (isinstance(value, str) and ISO_DAY.fullmatch(value) and _is_day(value)):
            return value
        self.report(path, Code.BAD_DATE_LIMIT, found=describe(value))
        return None

    def check_max_choices(self, path: tuple, max_choices: object, choices: list[Choice]) -> None:
        if max_choices is None:
            return
        if isinstance(max_choices, bool) or not isinstance(max_choices, int) or not 1 <= max_choices <= len(choices):
            self.report(path + ("max_choices",), Code.BAD_MAX_CHOICES, count=len(choices), found=describe(max_choices))

    def read_pattern(self, path: tuple, value: object) -> Optional[str]:
        text = self.text(path, value)
        if text is None:
            return None
        try:
            re.compile(text)
        except re.error as error:
            self.report(path, Code.BAD_PATTERN, detail=error)
            return None
        return text

    # --- show_if ---

    def read_condition(self, path: tuple, value: object, item_key: Optional[str]) -> Optional[str]:
        text = self.text(path, value)
        if text is None:
            return None
        try:
            tree = show_if.parse(text)
        except show_if.ShowIfSyntaxError as error:
            self.report(path, Code.SHOW_IF_SYNTAX, detail=error)
            return None
        if item_key:
            self.conditions[item_key] = (path, tree)
        return show_if.to_text(tree)

    def check_conditions(self, items: dict[str, Item]) -> None:
        """Unknown or self references, then cycles among the remaining references."""
        graph = {}
        for item_key, (path, tree) in self.conditions.items():
            references = show_if.referenced_keys(tree)
            for name in sorted(references - set(items)):
                self.report(path, Code.SHOW_IF_UNKNOWN_ITEM, value=name, known=_short_list(items))
            if item_key in references:
                self.report(path, Code.SHOW_IF_SELF)
            for name in sorted(key for key in references & set(items) if items[key].type in DISPLAY_TYPES):
                self.report(path, Code.SHOW_IF_NOTE, value=name)
            graph[item_key] = sorted((references & set(items)) - {item_key})
        for cycle in find_cycles(graph):
            self.report(self.conditions[cycle[0]][0], Code.SHOW_IF_CYCLE, cycle=" → ".join(cycle + [cycle[0]]))

    # --- scoring and versions ---

    def read_scoring(self, value: object, items: dict[str, Item]) -> Optional[Scoring]:
        path = ("scoring",)
        data = self.mapping(path, value, ("key", "label", "rule", "factors", "overall_item"), ("key", "factors"))
        if data is None:
            return None
        scored: dict[str, str] = {}
        factors = [self.read_factor(path + ("factors", index), entry, items, scored)
                   for index, entry in enumerate(self.list(path + ("factors",), data.get("factors")))]
        return Scoring(key=self.key(path + ("key",), data.get("key"), "scoring"),
                       label=self.translations(path + ("label",), data.get("label"), optional=True),
                       rule=self.one_of(path + ("rule",), data.get("rule", "share_4_5"), SCORING_RULES,
                                        Code.BAD_RULE),
                       factors=[factor for factor in factors if factor is not None],
                       overall_item=self.unscored_item(path + ("overall_item",), data.get("overall_item"), items,
                                                       scored))

    def read_factor(self, path: tuple, value: object, items: dict, scored: dict) -> Optional[Factor]:
        data = self.mapping(path, value, ("key", "label", "criteria", "satisfaction_item"),
                            ("key", "label", "criteria"))
        if data is None:
            return None
        criteria = [self.read_criterion(path + ("criteria", index), entry, items, scored)
                    for index, entry in enumerate(self.list(path + ("criteria",), data.get("criteria")))]
        return Factor(self.key(path + ("key",), data.get("key"), "factor"),
                      self.translations(path + ("label",), data.get("label")),
                      [criterion for criterion in criteria if criterion is not None],
                      self.unscored_item(path + ("satisfaction_item",), data.get("satisfaction_item"), items, scored))

    def read_criterion(self, path: tuple, value: object, items: dict, scored: dict) -> Optional[Criterion]:
        data = self.mapping(path, value, ("key", "label", "items", "max_points"), ("key", "label", "items"))
        if data is None:
            return None
        key = self.key(path + ("key",), data.get("key"), "criterion")
        item_keys = [self.scored_item(path + ("items", index), name, items, scored, key)
                     for index, name in enumerate(self.list(path + ("items",), data.get("items")))]
        max_points = self.number(path + ("max_points",), data.get("max_points"))
        if max_points is not None and max_points <= 0:
            self.report(path + ("max_points",), Code.BAD_MAX_POINTS, found=describe(max_points))
        return Criterion(key, self.translations(path + ("label",), data.get("label")),
                         [name for name in item_keys if name], max_points)

    def scored_item(self, path: tuple, name: object, items: dict, scored: dict,
                    criterion: Optional[str]) -> Optional[str]:
        """A rating5 item that no other criterion scores; scored by `criterion` from now on, unless that is None
        (a direct satisfaction question, which only must not be scored)."""
        if name not in items:
            self.report(path, Code.SCORING_UNKNOWN_ITEM, value=name)
        elif items[name].type != "rating5":
            self.report(path, Code.SCORING_NOT_RATING, value=name, type=items[name].type)
        elif name in scored:
            self.report(path, Code.SCORING_ITEM_TWICE, value=name, first=scored[name])
        else:
            if criterion is not None:
                scored[name] = criterion
            return name
        return None

    def unscored_item(self, path: tuple, name: object, items: dict, scored: dict) -> Optional[str]:
        """A direct satisfaction question named by the scoring map: a rating5 item that no criterion scores."""
        return None if name is None else self.scored_item(path, name, items, scored, None)

    def read_comparable(self, value: object, items: dict, version: Optional[str]) -> Optional[ComparableWith]:
        path = ("comparable_with",)
        data = self.mapping(path, value, ("version", "items"), ("version", "items"))
        if data is None:
            return None
        old_version = self.text(path + ("version",), str(data["version"]) if "version" in data else None)
        if old_version is not None and old_version == version:
            self.report(path + ("version",), Code.COMPARABLE_SAME_VERSION, value=old_version)
        names = self.list(path + ("items",), data.get("items"))
        for index, name in enumerate(names):
            if name not in items:
                self.report(path + ("items", index), Code.COMPARABLE_UNKNOWN_ITEM, value=name)
        return ComparableWith(old_version or "", [str(name) for name in names])


def _short_list(keys) -> str:
    keys = list(keys)
    return ", ".join(keys[:12]) + (", …" if len(keys) > 12 else "")


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle of the dependency graph once, as the list of keys along it (depth-first search)."""
    cycles, state = [], {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in graph.get(node, []):
            if state.get(target) == "open":
                cycles.append(trail[trail.index(target):])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [node])
    return cycles


def _is_day(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True
