"""Frame import from CSV and XLSX: column mapping, preview, and a per-row report of bad rows.

Row numbers are spreadsheet row numbers (the header is row 1, the first data row is row 2), so a
problem can be found in the file the analyst uploaded. Good rows are kept even when other rows are bad.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sampling.errors import refuse

# Message catalogue: code → (Vietnamese, English). One place, so tests and the UI use the same text.
MESSAGES = {
    "empty": ("Ô bắt buộc '{column}' bị trống.", "required cell '{column}' is empty."),
    "unknown_unit": ("Mã đơn vị '{value}' không có trong danh mục đơn vị.",
                     "unit code '{value}' is not in the list of known units."),
    "bad_date": ("Ngày '{value}' không hợp lệ; dùng dd/mm/yyyy hoặc yyyy-mm-dd.",
                 "date '{value}' is not valid; use dd/mm/yyyy or yyyy-mm-dd."),
    "duplicate_id": ("Mã '{value}' bị trùng với dòng {other_rows}.",
                     "identifier '{value}' is duplicated in row(s) {other_rows}."),
}


@dataclass(frozen=True)
class FrameKind:
    """Which fields a frame has: required, optional, which identify a member, which are dates."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    identity: tuple[str, ...]
    dates: tuple[str, ...] = ()


OFFICIALS = FrameKind("officials", ("unit", "role"), ("staff_id", "name", "contact"), ("staff_id",))
DOSSIERS = FrameKind("dossiers", ("unit", "domain", "dossier_code", "completion_date"), (),
                     ("dossier_code",), dates=("completion_date",))
FRAME_KINDS = {kind.name: kind for kind in (OFFICIALS, DOSSIERS)}


@dataclass(frozen=True)
class RowProblem:
    """One bad cell: spreadsheet row number, the column as named in the file, a code and messages."""

    row: int
    column: str
    code: str
    message_vi: str
    message_en: str


@dataclass(frozen=True)
class FrameImport:
    """The result of an import: good rows in `frame` (canonical columns) and every problem found."""

    kind: str
    frame: pd.DataFrame
    problems: list[RowProblem]
    total_rows: int

    @property
    def bad_rows(self) -> list[int]:
        """Spreadsheet row numbers left out of `frame`."""
        return sorted({problem.row for problem in self.problems})

    def preview(self, rows: int = 10) -> pd.DataFrame:
        """The first good rows, for the analyst to check the mapping before drawing."""
        return self.frame.head(rows)

    def problems_frame(self) -> pd.DataFrame:
        """The bad-row report as a table (row, column, code, message_vi, message_en)."""
        columns = ["row", "column", "code", "message_vi", "message_en"]
        return pd.DataFrame([vars(problem) for problem in self.problems], columns=columns)

    def summary(self) -> dict:
        """Counts for a one-line report: rows read, kept, left out, problems."""
        return {"total_rows": self.total_rows, "good_rows": len(self.frame),
                "bad_rows": len(self.bad_rows), "problems": len(self.problems)}


def read_table(source, sheet: str | None = None, file_format: str | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX file (path or binary file object) into a table indexed by spreadsheet row."""
    file_format = file_format or Path(getattr(source, "name", str(source))).suffix.lstrip(".").lower()
    if file_format in ("xlsx", "xlsm"):
        return _read_xlsx(source, sheet)
    if file_format in ("csv", "txt"):
        return _read_csv(source)
    raise refuse("file_format", f"Không hỗ trợ định dạng '{file_format}'; dùng CSV hoặc XLSX.",
                 f"unsupported file format '{file_format}'; use CSV or XLSX.")


def preview_source(source, rows: int = 10, sheet: str | None = None, file_format: str | None = None):
    """The first raw rows of a file, so the user can choose the column mapping."""
    return read_table(source, sheet, file_format).head(rows)


def import_frame(source, kind: str, mapping: Mapping[str, str], known_units: Iterable[str] | None = None,
                 sheet: str | None = None, file_format: str | None = None) -> FrameImport:
    """Read a file and validate it as a frame of `kind` ("officials" or "dossiers")."""
    return validate_frame(read_table(source, sheet, file_format), kind, mapping, known_units)


def validate_frame(table: pd.DataFrame, kind: str, mapping: Mapping[str, str],
                   known_units: Iterable[str] | None = None) -> FrameImport:
    """Map columns ({field: header in the file}), check every row, keep the good ones.

    Problems are reported against the table's index, which `read_table` sets to spreadsheet row numbers."""
    frame_kind = _frame_kind(kind)
    _check_mapping(table, frame_kind, mapping)
    canonical = pd.DataFrame({field: _clean(table[header]) for field, header in mapping.items()},
                             index=table.index)
    identity = _identity_fields(frame_kind, mapping)
    problems = (_empty_cells(canonical, frame_kind, identity, mapping)
                + _unknown_units(canonical, known_units, mapping)
                + _duplicate_ids(canonical, identity, mapping))
    for field in frame_kind.dates:
        canonical[field], date_problems = _parse_dates(canonical[field], mapping[field])
        problems += date_problems
    problems.sort(key=lambda problem: (problem.row, problem.column))
    good = canonical[~canonical.index.isin([problem.row for problem in problems])]
    return FrameImport(frame_kind.name, _finish(good, identity), problems, len(table))


def _read_csv(source) -> pd.DataFrame:
    # utf-8-sig: Excel writes a byte-order mark in front of Vietnamese CSV files.
    try:
        table = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise refuse("file", f"Không đọc được tệp CSV: {error}", f"cannot read the CSV file: {error}")
    table.columns = [str(column).strip() for column in table.columns]
    table.index = range(2, len(table) + 2)
    return table


def _read_xlsx(source, sheet: str | None) -> pd.DataFrame:
    from questionnaires.workbook import WorkbookRefused, read_workbook  # caps on size, rows and columns

    try:
        sheets = read_workbook(source.read() if hasattr(source, "read") else source)
    except WorkbookRefused as refused:
        raise refuse("file", refused.message_vi, refused.message_en)
    if sheet and sheet not in sheets:
        raise refuse("file", f"Tệp XLSX không có trang tính '{sheet}'.", f"the XLSX file has no sheet '{sheet}'.")
    return _rows_to_table(sheets[sheet] if sheet else next(iter(sheets.values())))


def _rows_to_table(rows: list[tuple]) -> pd.DataFrame:
    """Header row + data rows → table indexed by spreadsheet row; fully blank rows are skipped."""
    if not rows:
        raise refuse("file", "Trang tính trống.", "the sheet is empty.")
    header = [str(cell).strip() if cell is not None else "" for cell in rows[0]]
    records = {number: [_cell_text(cell) for cell in row]
               for number, row in enumerate(rows[1:], start=2)
               if any(cell not in (None, "") for cell in row)}
    return pd.DataFrame.from_dict(records, orient="index", columns=header)


def _cell_text(cell):
    """Cells as text, except dates (kept for date columns); 12345.0 from Excel becomes '12345'."""
    if cell is None:
        return ""
    if isinstance(cell, (dt.datetime, dt.date)):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _frame_kind(kind: str) -> FrameKind:
    if kind not in FRAME_KINDS:
        raise refuse("kind", f"Loại khung mẫu '{kind}' không hợp lệ.",
                     f"unknown frame kind '{kind}'; use one of {sorted(FRAME_KINDS)}.")
    return FRAME_KINDS[kind]


def _check_mapping(table: pd.DataFrame, frame_kind: FrameKind, mapping: Mapping[str, str]) -> None:
    allowed = frame_kind.required + frame_kind.optional
    missing = [field for field in frame_kind.required if field not in mapping]
    if frame_kind is OFFICIALS and not {"staff_id", "name"} & set(mapping):
        missing.append("staff_id or name")
    unknown_fields = [field for field in mapping if field not in allowed]
    absent_headers = [header for header in mapping.values() if header not in table.columns]
    if missing or unknown_fields or absent_headers:
        raise refuse("mapping", f"Ánh xạ cột chưa đúng: thiếu {missing}, trường lạ {unknown_fields}, "
                     f"cột không có trong tệp {absent_headers}; các cột trong tệp: {list(table.columns)}.",
                     f"column mapping is wrong: missing {missing}, unknown fields {unknown_fields}, "
                     f"headers not in the file {absent_headers}; the file has {list(table.columns)}.")


def _identity_fields(frame_kind: FrameKind, mapping: Mapping[str, str]) -> tuple[str, ...]:
    """Officials without staff ids are identified by unit and name."""
    if frame_kind is OFFICIALS and "staff_id" not in mapping:
        return ("unit", "name")
    return frame_kind.identity


def _clean(column: pd.Series) -> pd.Series:
    return column.map(lambda value: value.strip() if isinstance(value, str) else value)


def _problem(row: int, column: str, code: str, **values) -> RowProblem:
    message_vi, message_en = MESSAGES[code]
    return RowProblem(int(row), column, code, message_vi.format(column=column, **values),
                      message_en.format(column=column, **values))


def _empty_cells(frame, frame_kind, identity, mapping) -> list[RowProblem]:
    fields = dict.fromkeys(frame_kind.required + identity)
    return [_problem(row, mapping[field], "empty")
            for field in fields for row in frame.index[frame[field].eq("")]]


def _unknown_units(frame, known_units, mapping) -> list[RowProblem]:
    if known_units is None:
        return []
    unknown = ~frame["unit"].isin(set(known_units)) & frame["unit"].ne("")
    return [_problem(row, mapping["unit"], "unknown_unit", value=value)
            for row, value in frame.loc[unknown, "unit"].items()]


def _duplicate_ids(frame, identity, mapping) -> list[RowProblem]:
    """Every row sharing an identifier is reported: which one is right is the analyst's call."""
    keys = _identity_keys(frame, identity)
    filled = frame[list(identity)].ne("").all(axis=1)
    duplicated = keys[filled & keys.duplicated(keep=False)]
    rows_by_key = duplicated.groupby(duplicated).groups
    return [_problem(row, mapping[identity[-1]], "duplicate_id", value=key,
                     other_rows=", ".join(str(other) for other in rows_by_key[key] if other != row))
            for row, key in duplicated.items()]


def _parse_dates(column: pd.Series, header: str) -> tuple[pd.Series, list[RowProblem]]:
    """Accept dd/mm/yyyy, ISO yyyy-mm-dd, and real date cells from XLSX (vectorised: frames are big)."""
    is_text = column.map(lambda value: isinstance(value, str))
    text = column.where(is_text, "")
    parsed = (pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
              .fillna(pd.to_datetime(text, format="%Y-%m-%d", errors="coerce"))
              .fillna(pd.to_datetime(column.where(~is_text), errors="coerce").dt.normalize()))
    bad = parsed.isna() & column.ne("")
    problems = [_problem(row, header, "bad_date", value=value) for row, value in column[bad].items()]
    return parsed, problems


def _identity_keys(frame: pd.DataFrame, identity: tuple[str, ...]) -> pd.Series:
    keys = frame[identity[0]].astype(str)
    for field in identity[1:]:
        keys = keys + "/" + frame[field].astype(str)
    return keys


def _finish(good: pd.DataFrame, identity: tuple[str, ...]) -> pd.DataFrame:
    """Add `member_id` and `source_row`; the frame is ready for the draw functions."""
    good = good.copy()
    good.insert(0, "member_id", _identity_keys(good, identity))
    good["source_row"] = good.index
    return good.reset_index(drop=True)
