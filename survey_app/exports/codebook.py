"""The export codebook of a campaign (design columns, then one column per question) and the coding of answers.

Coding (docs/exports.md): ratings 1–5 with 9 = "không áp dụng / không biết" (user-missing in SPSS); single
choices as 1..k in the questionnaire's order; a multiple choice as one 0/1 column per option; texts as text.
Dossier codes are never exported, nor anything not in the codebook.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.export_writers import Variable, nfc
from questionnaires.piping import bracketed
from questionnaires.standard import DISPLAY_TYPES, NOT_APPLICABLE, NOT_APPLICABLE_LABEL
from survey_app.core.paper_tables import PAPER_CHANNEL

NOT_APPLICABLE_CODE = 9
NEVER_EXPORTED_TYPES = ("dossier_code", *DISPLAY_TYPES)  # a code's hash is private; a note has no answer
NUMERIC_TYPES = ("integer", "decimal")
LEVEL_LABELS = {"province": "Tỉnh", "so": "Sở, ban, ngành", "huyen": "UBND cấp huyện", "xa": "UBND cấp xã"}

DESIGN_VARIABLES = (
    Variable("response_id", "Mã phiếu (số thứ tự trong cơ sở dữ liệu)", "Response number"),
    Variable("unit_code", "Mã đơn vị", "Unit code", "string"),
    Variable("unit_level", "Cấp đơn vị: " + "; ".join(f"{k} = {v}" for k, v in LEVEL_LABELS.items()),
             "Unit level (province, so, huyen, xa)", "string"),
    Variable("domain_code", "Lĩnh vực thủ tục hành chính", "Procedure domain", "string"),
    Variable("stratum", "Tầng chọn mẫu (mẫu công chức); trống: không phân tầng", "Sampling stratum; empty: none", "string"),
    Variable("psu", "Đơn vị mẫu bậc 1: quầy, hoặc đơn vị khi không có quầy", "Primary sampling unit: counter, else unit",
             "string"),
    Variable("weight", "Trọng số", "Weight"),
    Variable("questionnaire_version", "Phiên bản phiếu hỏi", "Questionnaire version", "string"),
    Variable("submitted_on", "Ngày gửi phiếu", "Submission date", "date"),
    Variable("response_channel", "Kênh trả lời (qr, invitation, paper, paper_qr, …)", "Response channel", "string"),
    Variable("response_mode", "Hình thức trả lời: paper = phiếu giấy nhập liệu, web = trực tuyến",
             "Response mode: paper (keyed paper copy) or web", "string"),
    Variable("quality_flags", "Cờ chất lượng (cách nhau bởi ;)", "Quality flags (separated by ;)", "string"),
    Variable("flagged", "Có cờ chất lượng", "Has a quality flag", value_labels={0: "Không", 1: "Có"},
             value_labels_en={0: "No", 1: "Yes"}),
    Variable("suppressed", "Câu trả lời bị ẩn (nhóm công chức dưới ngưỡng)", "Answers suppressed (officials' group "
             "below the threshold)", value_labels={0: "Không", 1: "Có"}, value_labels_en={0: "No", 1: "Yes"}),
)
DESIGN_NAMES = tuple(variable.name for variable in DESIGN_VARIABLES)


@dataclass(frozen=True)
class Column:
    """How one question becomes one export column."""

    variable: Variable
    item_key: str
    item_type: str
    codes: dict  # choice value → code (single/domain/rating) or the one option of a multiple-choice column
    member: tuple | None = None  # (repeat key, 0-based member index) for a wide column of a repeat's member

    def answer_of(self, answers: dict):
        """This column's answer in one response's answers (a member's, for a repeat column)."""
        if self.member is None:
            return answers.get(self.item_key)
        members = answers.get(self.member[0])
        if not isinstance(members, list) or len(members) <= self.member[1]:
            return None
        member = members[self.member[1]]
        return member.get(self.item_key) if isinstance(member, dict) else None

    def encode(self, answer):
        if answer is None:
            return None
        if self.item_type == "multiple":
            return 1 if self.codes["option"] in (answer if isinstance(answer, list) else [answer]) else 0
        if self.item_type == "rating5":
            return NOT_APPLICABLE_CODE if answer == NOT_APPLICABLE else _number(answer)
        if self.codes:
            return self.codes.get(str(answer))
        if self.item_type in NUMERIC_TYPES:
            return _number(answer)
        if self.item_type == "date":
            return _day_month_year(answer)
        if self.item_type == "datetime":  # yyyy-mm-ddThh:mm → dd/mm/yyyy hh:mm, as dates are written
            day, _, time_of_day = str(answer).partition("T")
            return f"{_day_month_year(day)} {time_of_day}"
        return nfc(str(answer))


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _day_month_year(iso_text) -> str:
    try:
        return dt.date.fromisoformat(str(iso_text)).strftime("%d/%m/%Y")
    except ValueError:
        return str(iso_text)


def answer_columns(definitions: list, member_counts: dict[str, int] | None = None) -> list[Column]:
    """Columns of every exportable question, the campaign's own version first, then items only later ones have;
    then a repeat's questions wide: members_1_name, members_2_name… up to `member_counts[repeat key]` (the most
    members a response has)."""
    columns, seen = [], set()
    for definition in definitions:
        for item in definition.items:
            if item.key in seen or item.type in NEVER_EXPORTED_TYPES:
                continue
            seen.add(item.key)
            columns.extend(_columns_of(item))
    for section in repeat_sections(definitions):
        for index in range((member_counts or {}).get(section.key, 0)):
            columns.extend(member_column(column, section.key, index) for item in section.items
                           if item.type not in NEVER_EXPORTED_TYPES for column in _columns_of(item))
    return columns


def repeat_sections(definitions: list) -> list:
    """Each repeat once (the first version that has it)."""
    sections = {}
    for definition in definitions:
        for section in definition.repeats:
            sections.setdefault(section.key, section)
    return list(sections.values())


def member_column(column: Column, repeat_key: str, index: int) -> Column:
    """The column of one member's answer: named `members_2_age`, labelled "Thành viên 2: …"."""
    from dataclasses import replace

    number = index + 1
    variable = replace(column.variable, name=f"{repeat_key}_{number}_{column.variable.name}",
                       label_vi=f"Thành viên {number}: {column.variable.label_vi}",
                       label_en=f"Member {number}: {column.variable.label_en}")
    return replace(column, variable=variable, member=(repeat_key, index))


def _columns_of(item) -> list[Column]:
    name = _column_name(item.key)
    label_vi = nfc(bracketed(item.label.get("vi", item.key), _column_name))
    label_en = bracketed(item.label.get("en", ""), _column_name)  # a piped answer reads "[key]", not "${key}"
    if item.type == "multiple":
        return [Column(Variable(f"{name}_{position}", f"{label_vi}: {nfc(choice.label.get('vi', choice.value))}",
                                f"{label_en}: {choice.label.get('en', choice.value)}",
                                value_labels={0: "Không chọn", 1: "Có chọn"}, value_labels_en={0: "Not chosen", 1: "Chosen"}),
                       item.key, item.type, {"option": choice.value})
                for position, choice in enumerate(item.choices, start=1)]
    if item.type == "rating5":
        return [_coded_column(item, name, label_vi, label_en, [c for c in item.choices if c.value != NOT_APPLICABLE],
                              rating=True)]
    if item.choices:
        return [_coded_column(item, name, label_vi, label_en, item.choices, rating=False)]
    kind = "numeric" if item.type in NUMERIC_TYPES else "string"
    return [Column(Variable(name, label_vi, label_en, kind), item.key, item.type, {})]


def _column_name(key: str) -> str:
    return key if key not in DESIGN_NAMES else f"q_{key}"


def _coded_column(item, name: str, label_vi: str, label_en: str, choices: list, rating: bool) -> Column:
    codes = {choice.value: (int(choice.value) if rating else position) for position, choice in enumerate(choices, 1)}
    value_labels = {codes[c.value]: nfc(c.label.get("vi", c.value)) for c in choices}
    value_labels_en = {codes[c.value]: c.label.get("en", c.value) for c in choices}
    missing = ()
    if rating:
        value_labels[NOT_APPLICABLE_CODE] = NOT_APPLICABLE_LABEL["vi"]
        value_labels_en[NOT_APPLICABLE_CODE] = NOT_APPLICABLE_LABEL["en"]
        missing = (NOT_APPLICABLE_CODE,)
    variable = Variable(name, label_vi, label_en, "numeric", value_labels, value_labels_en, missing)
    return Column(variable, item.key, item.type, {} if rating else codes)


def codebook_of(columns: list[Column]) -> list[Variable]:
    return [*DESIGN_VARIABLES, *(column.variable for column in columns)]


@dataclass(frozen=True)
class Lookups:
    """Small tables read once, so each chunk maps ids to codes without joins (and shares the code strings)."""

    units: dict  # id → (code, level)
    counters: dict  # id → code
    domains: dict  # id → code
    versions: dict  # questionnaire id → version
    suppressed_units: frozenset  # unit ids whose officials' answers are hidden


def encode_chunk(rows: list[tuple], columns: list[Column], lookups: Lookups) -> pd.DataFrame:
    """One export row per stored response, following the codebook's order, in compact column types:
    codes as nullable int8, repeated texts as categoricals, numbers as float64 (docs/exports.md)."""
    (ids, units, counters, domains, questionnaires, answers_texts, channels, days, flags_texts, weights,
     strata) = zip(*rows)
    hidden = [unit in lookups.suppressed_units for unit in units]
    answers = json.loads("[" + ",".join(text or "{}" for text in answers_texts) + "]")  # one call per chunk
    answers = [{} if hide else answer for answer, hide in zip(answers, hidden)]
    data = _design_columns(ids, units, counters, domains, questionnaires, channels, days, flags_texts, weights,
                           strata, hidden, lookups)
    for column in columns:
        data[column.variable.name] = _compact(column.variable, _encoded(column, answers), text=True)
    return pd.DataFrame(data, copy=False)


def _encoded(column: Column, answers: list[dict]) -> list:
    """column.encode for each answer, computed once per distinct value (answers repeat a handful of values)."""
    known, encoded = {}, []
    for answer in answers:
        value = column.answer_of(answer)
        key = (value.__class__, value) if not isinstance(value, list) else None  # 1 and True are one dict key
        if key is None:
            encoded.append(column.encode(value))
        elif key in known:
            encoded.append(known[key])
        else:
            encoded.append(known.setdefault(key, column.encode(value)))
    return encoded


def _design_columns(ids, units, counters, domains, questionnaires, channels, days, flags_texts, weights, strata,
                    hidden, lookups: Lookups) -> dict:
    unit_rows = [lookups.units[unit] for unit in units]
    unit_codes = [unit[0] for unit in unit_rows]
    flags = [_flags_of(text) for text in flags_texts]
    values = {
        "response_id": np.array(ids, dtype="int64"),
        "unit_code": unit_codes,
        "unit_level": [unit[1] for unit in unit_rows],
        "domain_code": [lookups.domains.get(domain) for domain in domains],
        "stratum": list(strata),
        "psu": [lookups.counters.get(counter) or unit_code for counter, unit_code in zip(counters, unit_codes)],
        "weight": weights,
        "questionnaire_version": [lookups.versions.get(questionnaire) for questionnaire in questionnaires],
        "submitted_on": list(days),
        "response_channel": list(channels),
        "response_mode": ["paper" if channel == PAPER_CHANNEL else "web" for channel in channels],
        "quality_flags": [flag[0] for flag in flags],
        "flagged": [flag[1] for flag in flags],
        "suppressed": [int(hide) for hide in hidden],
    }
    return {variable.name: _compact(variable, values[variable.name]) for variable in DESIGN_VARIABLES}


@functools.lru_cache(maxsize=256)
def _flags_of(text: str | None) -> tuple[str, int]:
    """Stored JSON flags as the export's "a;b" text and 0/1 (few distinct values, so cached)."""
    flags = [str(flag) for flag in json.loads(text or "[]")]
    return ";".join(flags), int(bool(flags))


def _compact(variable: Variable, values, text: bool = False):
    """A chunk's column in few bytes a cell: labelled codes as nullable int8 (printed 5, not 5.0), other numbers
    as float64, design texts and days (dd/mm/yyyy) as a categorical (they repeat), answer texts as objects."""
    if isinstance(values, np.ndarray):
        return values
    if variable.is_string or variable.is_date:
        return np.array(values, dtype=object) if text else _categorical(values)
    numbers = np.array(values, dtype="float64")  # None becomes NaN
    return _small_integers(numbers) if variable.value_labels else numbers


def _categorical(values: list) -> pd.Categorical:
    # Categories typed str even when a chunk has none, so chunks join with union_categoricals.
    return pd.Categorical(values, categories=pd.Index(list(dict.fromkeys(v for v in values if v is not None)),
                                                      dtype=str))


def _small_integers(numbers: np.ndarray):
    missing = np.isnan(numbers)
    present = numbers[~missing]
    if present.size and not (np.all(present == np.trunc(present)) and -128 <= present.min() and present.max() <= 127):
        return numbers  # a code outside int8 or a fraction (bad data): keep it as it is
    return pd.arrays.IntegerArray(np.where(missing, 0, numbers).astype("int8"), missing)


# The long table of repeats: one row per member (response_id, repeat key, member number, the member's answers),
# beside the wide columns of the main table.
MEMBER_DESIGN_VARIABLES = (
    Variable("response_id", "Mã phiếu (nối với bảng chính)", "Response number (joins the main table)"),
    Variable("repeat_key", "Nhóm lặp", "Repeat group", "string"),
    Variable("member_number", "Thứ tự thành viên trong phiếu", "Member number within the response"),
)


def member_columns(definitions: list) -> list[Column]:
    """The long table's answer columns: every repeat's questions, named by item key (unique in a definition)."""
    return [Column(column.variable, column.item_key, column.item_type, column.codes, (section.key, None))
            for section in repeat_sections(definitions) for item in section.items
            if item.type not in NEVER_EXPORTED_TYPES for column in _columns_of(item)]


def encode_members(rows: list[tuple], columns: list[Column], suppressed_units: frozenset) -> pd.DataFrame:
    """One row per member of every repeat in `rows` of (response id, unit id, answers JSON); a suppressed unit's
    officials' answers give no rows."""
    records = []
    repeat_keys = list(dict.fromkeys(column.member[0] for column in columns))
    for response_id, unit, answers_text in rows:
        answers = {} if unit in suppressed_units else json.loads(answers_text or "{}")
        for repeat_key in repeat_keys:
            members = answers.get(repeat_key)
            for number, member in enumerate(members if isinstance(members, list) else [], start=1):
                records.append((response_id, repeat_key, number, member if isinstance(member, dict) else {}))
    data = {"response_id": np.array([record[0] for record in records], dtype="int64"),
            "repeat_key": [record[1] for record in records],
            "member_number": np.array([record[2] for record in records], dtype="int64")}
    for column in columns:
        values = [column.encode(record[3].get(column.item_key)) if record[1] == column.member[0] else None
                  for record in records]
        data[column.variable.name] = _compact(column.variable, values, text=True)
    return pd.DataFrame(data, copy=False)
