"""Writers for survey microdata: CSV, JSON lines, XLSX with a codebook sheet, SPSS .sav and Stata .dta.

Pure: they take a codebook (``Variable`` list) and pandas chunks whose columns follow it; reading a database is
the caller's business. CSV, JSON lines and XLSX are written chunk by chunk, so memory stays flat; pyreadstat
writes a whole data frame at once, so .sav and .dta hold the (compactly coded) data in memory.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
STATA_LABEL_LIMIT = 80  # Stata keeps at most 80 characters of a variable label
STATA_NAME_LIMIT = 32
CODEBOOK_HEADER = ("biến / variable", "câu hỏi (vi)", "question (en)", "kiểu / type", "nhãn giá trị / value labels",
                   "giá trị khuyết / missing codes")


@dataclass(frozen=True)
class Variable:
    """One exported column: its name, question text in Vietnamese and English, kind and value labels."""

    name: str
    label_vi: str
    label_en: str = ""
    kind: str = "numeric"  # numeric or string
    value_labels: dict = field(default_factory=dict)  # code → Vietnamese label
    value_labels_en: dict = field(default_factory=dict)
    missing_codes: tuple = ()  # codes SPSS should treat as user-missing (e.g. 9 = không áp dụng)

    @property
    def is_string(self) -> bool:
        return self.kind == "string"


class ExportFormatError(ValueError):
    """A codebook or data frame that cannot be written in the asked format."""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def neutralise_formula(value):
    """Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame, codebook: list[Variable]) -> pd.DataFrame:
    """A copy whose string columns cannot start a formula in Excel or LibreOffice."""
    safe = frame.copy()
    for variable in codebook:
        if variable.is_string:
            safe[variable.name] = safe[variable.name].map(neutralise_formula)
    return safe


# CSV and JSON lines: bytes per chunk, so a web response can stream them.

def csv_header(codebook: list[Variable]) -> bytes:
    """The UTF-8 byte-order mark (Excel then reads Vietnamese correctly) and the header line."""
    return "\ufeff".encode() + (",".join(variable.name for variable in codebook) + "\r\n").encode()


def csv_chunk(frame: pd.DataFrame, codebook: list[Variable]) -> bytes:
    safe = spreadsheet_safe(frame, codebook)
    return safe.to_csv(index=False, header=False, lineterminator="\r\n").encode()


def jsonl_chunk(frame: pd.DataFrame) -> bytes:
    """One JSON object per response; missing values are null."""
    lines = []
    for record in frame.to_dict(orient="records"):
        clean = {key: _json_value(value) for key, value in record.items()}
        lines.append(json.dumps(clean, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _json_value(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value.item() if hasattr(value, "item") else value


# XLSX: XlsxWriter in constant-memory mode writes each row to disk as it goes.

class XlsxBook:
    """Data on sheet "du_lieu" appended chunk by chunk, then the codebook on "so_ma" and notes on "ghi_chu"."""

    def __init__(self, path: Path, codebook: list[Variable]):
        import xlsxwriter

        self.codebook = codebook
        self.workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                                        "strings_to_urls": False, "strings_to_numbers": False})
        self.data_sheet = self.workbook.add_worksheet("du_lieu")
        self.data_sheet.write_row(0, 0, [variable.name for variable in codebook])
        self.rows_written = 0

    def append(self, chunk: pd.DataFrame) -> None:
        safe = spreadsheet_safe(chunk, self.codebook)
        for values in safe.itertuples(index=False, name=None):
            self.rows_written += 1
            self.data_sheet.write_row(self.rows_written, 0, [None if _is_missing(value) or value == "" else value
                                                             for value in values])

    def close(self, notes: Iterable[str] = ()) -> None:
        _write_rows(self.workbook.add_worksheet("so_ma"), [CODEBOOK_HEADER, *map(codebook_row, self.codebook)])
        notes = list(notes)
        if notes:
            _write_rows(self.workbook.add_worksheet("ghi_chu"), [("ghi chú / note",), *[(note,) for note in notes]])
        self.workbook.close()


def write_xlsx(path: Path, codebook: list[Variable], chunks: Iterable[pd.DataFrame], notes: Iterable[str] = ()) -> int:
    """The whole workbook from an iterable of chunks; returns the number of data rows."""
    book = XlsxBook(path, codebook)
    try:
        for chunk in chunks:
            book.append(chunk)
    finally:
        book.close(notes)
    return book.rows_written


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def codebook_row(variable: Variable) -> tuple:
    labels = "; ".join(f"{code} = {label}" + (f" ({variable.value_labels_en[code]})" if variable.value_labels_en.get(code) else "")
                       for code, label in variable.value_labels.items())
    missing = ", ".join(str(code) for code in variable.missing_codes)
    return (variable.name, variable.label_vi, variable.label_en, variable.kind, labels, missing)


def _write_rows(sheet, rows: list[tuple]) -> None:
    for row_number, row in enumerate(rows):
        sheet.write_row(row_number, 0, [neutralise_formula(value) for value in row])


# SPSS and Stata through pyreadstat (ReadStat).

def write_sav(path: Path, codebook: list[Variable], frame: pd.DataFrame, file_label: str = "") -> None:
    """SPSS .sav: Vietnamese variable and value labels; missing codes (9 = không áp dụng) declared user-missing."""
    import pyreadstat

    pyreadstat.write_sav(
        _typed(frame, codebook), str(path), file_label=nfc(file_label)[:64],
        column_labels={variable.name: variable.label_vi for variable in codebook},
        variable_value_labels={variable.name: variable.value_labels for variable in codebook if variable.value_labels},
        missing_ranges={variable.name: list(variable.missing_codes) for variable in codebook if variable.missing_codes},
        variable_measure={variable.name: "nominal" for variable in codebook if variable.is_string},
    )


def write_dta(path: Path, codebook: list[Variable], frame: pd.DataFrame, file_label: str = "") -> None:
    """Stata .dta (version 15, UTF-8): variable labels cut to Stata's 80 characters, value labels kept."""
    import pyreadstat

    too_long = [variable.name for variable in codebook if len(variable.name) > STATA_NAME_LIMIT]
    if too_long:
        raise ExportFormatError(f"Stata variable names have at most {STATA_NAME_LIMIT} characters: {too_long}")
    pyreadstat.write_dta(
        _typed(frame, codebook), str(path), file_label=nfc(file_label)[:STATA_LABEL_LIMIT],
        column_labels={variable.name: stata_label(variable.label_vi) for variable in codebook},
        variable_value_labels={variable.name: variable.value_labels for variable in codebook if variable.value_labels},
    )


def stata_label(text: str) -> str:
    return text if len(text) <= STATA_LABEL_LIMIT else text[:STATA_LABEL_LIMIT - 1] + "…"


def _typed(frame: pd.DataFrame, codebook: list[Variable]) -> pd.DataFrame:
    """Numeric columns as float (missing = NaN), string columns as str with '' for missing."""
    typed = {}
    for variable in codebook:
        column = frame[variable.name]
        if variable.is_string:
            typed[variable.name] = column.map(lambda value: "" if _is_missing(value) else str(value)).astype(object)
        else:
            typed[variable.name] = pd.to_numeric(column, errors="raise").astype("float64")
    return pd.DataFrame(typed, index=frame.index)


def concatenated(chunks: Iterable[pd.DataFrame], codebook: list[Variable]) -> pd.DataFrame:
    """Chunks joined into one compact frame: numbers as float64, strings as shared objects."""
    parts = [_typed(chunk, codebook) for chunk in chunks]
    if not parts:
        return pd.DataFrame({variable.name: [] for variable in codebook})
    return pd.concat(parts, ignore_index=True)


def iter_bytes(header: bytes, chunks: Iterable[pd.DataFrame], encode) -> Iterator[bytes]:
    yield header
    for chunk in chunks:
        yield encode(chunk)
