"""The unit tree from a CSV or XLSX file: read, check every row against the file and the stored tree, then write
all rows in one transaction or none.

Columns: code, name, name_en, level, parent_code. A row whose code exists updates that unit; others are added.
Levels follow the tree province → sở / huyện → xã, so a parent's level is fixed by the child's (no cycles).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from questionnaires.workbook import UPLOAD_CAPS, WorkbookRefused, read_workbook
from survey_app.accounts import audit
from survey_app.core import db
from survey_app.accounts.admin_forms import FieldErrors, clean_code, clean_text, nfc
from survey_app.core.tables import UNIT_LEVELS, Unit

COLUMNS = ("code", "name", "name_en", "level", "parent_code")
PARENT_LEVELS = {"province": (None,), "so": ("province",), "huyen": ("province",), "xa": ("huyen", "province")}
LEVEL_NAMES_VI = {"province": "tỉnh", "so": "sở/ban/ngành", "huyen": "huyện", "xa": "xã"}
MAX_ROWS = 5000


class UnitFileError(Exception):
    """The file as a whole cannot be read (format, encoding, header): nothing was stored."""


@dataclass
class UnitRow:
    line: int  # the row number a spreadsheet shows (the header is row 1)
    code: str
    name: str
    name_en: str
    level: str
    parent_code: str

    def as_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "name_en": self.name_en, "level": self.level,
                "parent_code": self.parent_code}


@dataclass
class RowProblem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"Dòng {self.line}, cột {self.field}: {self.message}"


def read_unit_file(filename: str, data: bytes) -> list[UnitRow]:
    """Rows of a .csv (UTF-8) or .xlsx file, every text NFC; UnitFileError for an unreadable file."""
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix == "csv":
        records = _csv_records(data)
    elif suffix == "xlsx":
        records = _xlsx_records(data)
    else:
        raise UnitFileError(f"Tệp “{filename[:80]}”: chỉ nhận tệp .csv hoặc .xlsx.")
    if not records:
        raise UnitFileError("Tệp không có dòng tiêu đề (code, name, name_en, level, parent_code).")
    header = [nfc(cell).lower() for cell in records[0][1]]
    missing = [column for column in COLUMNS if column not in header and column != "name_en"]
    if missing:
        raise UnitFileError(f"Dòng 1: thiếu cột {', '.join(missing)} (cần: {', '.join(COLUMNS)}).")
    if len(records) - 1 > MAX_ROWS:
        raise UnitFileError(f"Tệp có {len(records) - 1} dòng; tối đa {MAX_ROWS} dòng một lần.")
    position = {column: header.index(column) for column in COLUMNS if column in header}
    return [_unit_row(line, cells, position) for line, cells in records[1:] if any(nfc(cell) for cell in cells)]


def _unit_row(line: int, cells: list, position: dict[str, int]) -> UnitRow:
    def cell(column: str) -> str:
        index = position.get(column)
        return nfc(cells[index]) if index is not None and index < len(cells) else ""

    return UnitRow(line, cell("code"), cell("name"), cell("name_en"), cell("level").lower(), cell("parent_code"))


def _csv_records(data: bytes) -> list[tuple[int, list]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnitFileError(f"Tệp CSV không phải UTF-8 (byte {error.start}); hãy lưu lại dưới dạng "
                            "“CSV UTF-8”.") from None
    return [(number, cells) for number, cells in enumerate(csv.reader(io.StringIO(text)), start=1)]


def _xlsx_records(data: bytes) -> list[tuple[int, list]]:
    try:
        sheets = read_workbook(data, UPLOAD_CAPS)
    except WorkbookRefused as refused:
        raise UnitFileError(refused.message_vi) from None
    first_sheet = next(iter(sheets.values()))
    return [(number, [spreadsheet_text(value) for value in row]) for number, row in enumerate(first_sheet, start=1)]


def spreadsheet_text(value) -> str:
    """A cell as text; a code typed as a number (1001, stored by Excel as 1001.0) stays 1001."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_row_fields(row: UnitRow) -> list[RowProblem]:
    """Problems a row has on its own: codes, names, level."""
    errors = FieldErrors()
    row.code = clean_code(errors, "code", "Mã đơn vị", row.code)
    row.name = clean_text(errors, "name", "Tên đơn vị", row.name)
    row.name_en = clean_text(errors, "name_en", "Tên tiếng Anh", row.name_en, required=False)
    row.parent_code = clean_code(errors, "parent_code", "Mã đơn vị cấp trên", row.parent_code, required=False)
    if row.level not in UNIT_LEVELS:
        errors.add("level", f"cấp “{row.level[:20]}” không hợp lệ; dùng một trong {', '.join(UNIT_LEVELS)}.")
    return [RowProblem(row.line, name, message) for name, message in errors.messages.items()]


async def check_rows(rows: list[UnitRow]) -> list[RowProblem]:
    """Every problem of every row: fields, duplicate codes, unknown parents, a parent at the wrong level, and
    stored units whose place in the tree the file would break."""
    problems = [problem for row in rows for problem in check_row_fields(row)]
    stored = {unit["code"]: unit for unit in await Unit.select(Unit.id, Unit.code, Unit.level, Unit.parent.code)}
    levels = {code: unit["level"] for code, unit in stored.items()}
    first_line: dict[str, int] = {}
    for row in rows:
        if row.code in first_line:
            problems.append(RowProblem(row.line, "code", f"mã “{row.code}” trùng với dòng {first_line[row.code]}."))
        first_line.setdefault(row.code, row.line)
        levels[row.code] = row.level
    for row in rows:
        problems.extend(_parent_problems(row, levels))
    problems.extend(_stored_children_problems(rows, stored, levels))
    return sorted(problems, key=lambda problem: (problem.line, problem.field))


def _parent_problems(row: UnitRow, levels: dict[str, str]) -> list[RowProblem]:
    allowed = PARENT_LEVELS.get(row.level)
    if allowed is None:
        return []
    if not row.parent_code:
        if None in allowed:
            return []
        return [RowProblem(row.line, "parent_code", f"đơn vị cấp {LEVEL_NAMES_VI[row.level]} phải có đơn vị cấp "
                                                    "trên.")]
    if row.parent_code == row.code:
        return [RowProblem(row.line, "parent_code", "đơn vị không thể là cấp trên của chính nó.")]
    if row.parent_code not in levels:
        return [RowProblem(row.line, "parent_code", f"không có đơn vị mã “{row.parent_code}” (trong tệp hay đã "
                                                    "lưu).")]
    parent_level = levels[row.parent_code]
    if parent_level not in allowed:
        expected = " hoặc ".join(LEVEL_NAMES_VI[level] for level in allowed if level) or "không có"
        return [RowProblem(row.line, "parent_code", f"đơn vị cấp trên “{row.parent_code}” là cấp "
                                                    f"{LEVEL_NAMES_VI.get(parent_level, parent_level)}; cấp "
                                                    f"{LEVEL_NAMES_VI[row.level]} cần cấp trên là {expected}.")]
    return []


def _stored_children_problems(rows: list[UnitRow], stored: dict, levels: dict[str, str]) -> list[RowProblem]:
    """A stored unit not in the file keeps its parent: that parent's new level must still suit it."""
    in_file = {row.code: row for row in rows}
    problems = []
    for code, unit in stored.items():
        parent_code = unit["parent.code"]
        if code in in_file or parent_code not in in_file:
            continue
        if levels[parent_code] not in PARENT_LEVELS.get(unit["level"], ()):
            row = in_file[parent_code]
            problems.append(RowProblem(row.line, "level", f"đơn vị đã lưu “{code}” (cấp "
                                                          f"{LEVEL_NAMES_VI.get(unit['level'])}) thuộc “{parent_code}”;"
                                                          " không thể đổi cấp như vậy."))
    return problems


async def plan(rows: list[UnitRow]) -> dict[str, list[UnitRow]]:
    """Which rows add a unit, which change one, which change nothing (for the preview)."""
    stored = {unit["code"]: unit for unit in await Unit.select(Unit.code, Unit.name, Unit.name_en, Unit.level,
                                                                Unit.parent.code)}
    groups: dict[str, list[UnitRow]] = {"added": [], "changed": [], "unchanged": []}
    for row in rows:
        unit = stored.get(row.code)
        if unit is None:
            groups["added"].append(row)
        elif _as_row_dict(unit) != row.as_dict():
            groups["changed"].append(row)
        else:
            groups["unchanged"].append(row)
    return groups


def _as_row_dict(unit: dict) -> dict:
    return {"code": unit["code"], "name": unit["name"], "name_en": unit["name_en"], "level": unit["level"],
            "parent_code": unit["parent.code"] or ""}


def parents_first(rows: list[UnitRow]) -> list[UnitRow]:
    """Rows ordered so a parent in the file is written before its children (levels are strictly nested)."""
    depth = {"province": 0, "so": 1, "huyen": 1, "xa": 2}
    return sorted(rows, key=lambda row: depth[row.level])


async def apply_rows(rows: list[UnitRow], username: str) -> dict[str, int]:
    """Check again, then add or update every row in one write transaction with one audit entry per change."""
    problems = await check_rows(rows)
    if problems:
        raise UnitRowsRefused(problems)
    counts = {"added": 0, "changed": 0}
    async with db.write_transaction():
        for row in parents_first(rows):
            outcome = await save_unit(row, username, "unit_imported")
            if outcome:
                counts[outcome] += 1
    return counts


class UnitRowsRefused(Exception):
    def __init__(self, problems: list[RowProblem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


async def save_unit(row: UnitRow, username: str, action: str) -> str | None:
    """Insert or update one unit inside the caller's transaction; 'added', 'changed' or None (no change)."""
    parent = await Unit.select(Unit.id).where(Unit.code == row.parent_code).first() if row.parent_code else None
    values = {"name": row.name, "name_en": row.name_en, "level": row.level, "parent": parent["id"] if parent else None}
    existing = await Unit.select(Unit.id, Unit.code, Unit.name, Unit.name_en, Unit.level, Unit.parent.code).where(
        Unit.code == row.code).first()
    if existing is None:
        await Unit.insert(Unit(code=row.code, **values))
        await audit.record(username, action, f"unit:{row.code}", after=row.as_dict())
        return "added"
    before = _as_row_dict(existing)
    if before == row.as_dict():
        return None
    await Unit.update({getattr(Unit, column): value for column, value in values.items()}).where(
        Unit.id == existing["id"])
    await audit.record(username, action, f"unit:{row.code}", before=before, after=row.as_dict())
    return "changed"
