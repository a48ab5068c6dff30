"""Writers for survey microdata: CSV, JSON lines, XLSX with a codebook sheet, SPSS .sav and Stata .dta.

Pure: they take a codebook (``Variable`` list) and pandas chunks whose columns follow it; reading a database is
the caller's business. Every format is written chunk by chunk, so memory stays flat whatever the number of rows
(.sav and .dta: pyreadstat writes each chunk, analysis/stat_files.py joins them).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from analysis import stat_files

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
STATA_LABEL_LIMIT = 80  # Stata keeps at most 80 characters of a variable label
STATA_NAME_LIMIT = 32
STATA_MISSING_LETTERS = "abcdefghijklmnopqrstuvwxyz"  # .a … .z
SPSS_DATE_FORMAT = "EDATE10"  # dd.mm.yyyy
STATA_DATE_FORMAT = "%td"  # 01mar2026; a custom %tdDD/NN/CCYY would not read back as a date in pyreadstat
CODEBOOK_HEADER = ("biến / variable", "câu hỏi (vi)", "question (en)", "kiểu / type", "nhãn giá trị / value labels",
                   "giá trị khuyết / missing codes")


@dataclass(frozen=True)
class Variable:
    """One exported column: its name, question text in Vietnamese and English, kind and value labels."""

    name: str
    label_vi: str
    label_en: str = ""
    kind: str = "numeric"  # numeric, string, or date (dd/mm/yyyy text in chunks; a date variable in .sav/.dta)
    value_labels: dict = field(default_factory=dict)  # code → Vietnamese label
    value_labels_en: dict = field(default_factory=dict)
    missing_codes: tuple = ()  # codes SPSS should treat as user-missing (e.g. 9 = không áp dụng)

    @property
    def is_string(self) -> bool:
        return self.kind == "string"

    @property
    def is_date(self) -> bool:
        return self.kind == "date"


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
    lines = [json.dumps({key: _json_value(value) for key, value in record.items()}, ensure_ascii=False)
             for record in _records(frame)]
    return ("\n".join(lines) + "\n").encode() if lines else b""


def _records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts of Python values, None for every kind of missing (NaN, pd.NA)."""
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def _json_value(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value.item() if hasattr(value, "item") else value


# XLSX: rust_xlsxwriter (through rustpy-xlsxwriter) in constant-memory mode writes each row to disk as it goes.

def write_xlsx(path: Path, codebook: list[Variable], chunks: Iterable[pd.DataFrame], notes: Iterable[str] = (),
               tables: Iterable[tuple[str, list[Variable], Iterable[pd.DataFrame]]] = ()) -> int:
    """Data on sheet "du_lieu" from an iterable of chunks, the codebook on "so_ma", notes on "ghi_chu" (when any);
    each of `tables` (name, codebook, chunks: a repeat's long table) on a sheet of its own after "du_lieu".
    Returns the number of data rows. Text goes in as text cells (never a formula) and is neutralised as well."""
    from rustpy_xlsxwriter import FastExcel

    counter = _RowCounter()
    book = FastExcel(str(path)).sheet("du_lieu", _data_rows(iter(chunks), codebook, counter))
    for name, table_codebook, table_chunks in tables:
        book.sheet(name, _data_rows(iter(table_chunks), table_codebook, _RowCounter()))
    book.sheet("so_ma", [dict(zip(CODEBOOK_HEADER, map(neutralise_formula, codebook_row(variable))))
                         for variable in codebook])
    notes = list(notes)
    if notes:
        book.sheet("ghi_chu", [{"ghi chú / note": neutralise_formula(note)} for note in notes])
    book.save()
    return counter.rows


class _RowCounter:
    rows = 0


def _data_rows(chunks: Iterator[pd.DataFrame], codebook: list[Variable], counter: _RowCounter):
    """Rows as dicts, read lazily by the writer; the header comes from the first row's keys, so with no rows at
    all an empty frame gives the header alone."""
    first = next(chunks, None)
    if first is None:
        return pd.DataFrame(columns=[variable.name for variable in codebook])

    def records():
        for chunk in itertools.chain([first], chunks):
            counter.rows += len(chunk)
            yield from _records(spreadsheet_safe(chunk, codebook))

    return records()


def codebook_row(variable: Variable) -> tuple:
    labels = "; ".join(f"{code} = {label}" + (f" ({variable.value_labels_en[code]})" if variable.value_labels_en.get(code) else "")
                       for code, label in variable.value_labels.items())
    missing = ", ".join(str(code) for code in variable.missing_codes)
    return (variable.name, variable.label_vi, variable.label_en, variable.kind, labels, missing)


# SPSS and Stata through pyreadstat (ReadStat), chunk by chunk (analysis/stat_files.py).

def write_sav(path: Path, codebook: list[Variable], chunks: Iterable[pd.DataFrame], file_label: str = "") -> int:
    """SPSS .sav: Vietnamese variable and value labels; missing codes (9 = không áp dụng) declared user-missing.
    Returns the number of rows."""
    import pyreadstat

    def write_frame(frame: pd.DataFrame, target: Path) -> None:
        pyreadstat.write_sav(
            frame, str(target), file_label=nfc(file_label)[:64],
            column_labels={variable.name: variable.label_vi for variable in codebook},
            variable_value_labels={v.name: v.value_labels for v in codebook if v.value_labels},
            missing_ranges={v.name: list(v.missing_codes) for v in codebook if v.missing_codes},
            variable_measure={variable.name: "nominal" for variable in codebook if variable.is_string},
            variable_format={variable.name: SPSS_DATE_FORMAT for variable in codebook if variable.is_date},
        )

    return _write_stat_file(path, codebook, chunks, write_frame, stat_files.join_sav)


def write_dta(path: Path, codebook: list[Variable], chunks: Iterable[pd.DataFrame], file_label: str = "") -> int:
    """Stata .dta (version 15, UTF-8): variable labels cut to Stata's 80 characters, value labels kept; missing
    codes become Stata's extended missing values (9 = không áp dụng is .a, labelled). Returns the number of rows."""
    import pyreadstat

    too_long = [variable.name for variable in codebook if len(variable.name) > STATA_NAME_LIMIT]
    if too_long:
        raise ExportFormatError(f"Stata variable names have at most {STATA_NAME_LIMIT} characters: {too_long}")
    letters = {v.name: dict(zip(v.missing_codes, STATA_MISSING_LETTERS)) for v in codebook if v.missing_codes}
    value_labels = {v.name: {letters.get(v.name, {}).get(code, code): label for code, label in v.value_labels.items()}
                    for v in codebook if v.value_labels}

    def write_frame(frame: pd.DataFrame, target: Path) -> None:
        for name, letter_of in letters.items():
            frame[name] = _with_missing_letters(frame[name].to_numpy(), letter_of)
        pyreadstat.write_dta(
            frame, str(target), file_label=nfc(file_label)[:STATA_LABEL_LIMIT],
            column_labels={variable.name: stata_label(variable.label_vi) for variable in codebook},
            variable_value_labels=value_labels,
            missing_user_values={name: list(letter_of.values()) for name, letter_of in letters.items()},
            variable_format={variable.name: STATA_DATE_FORMAT for variable in codebook if variable.is_date},
        )

    return _write_stat_file(path, codebook, chunks, write_frame, stat_files.join_dta)


def _with_missing_letters(numbers: np.ndarray, letter_of: dict) -> np.ndarray:
    """Codes as pyreadstat takes Stata's extended missing values: the letter in place of the number."""
    values = numbers.astype(object)
    for code, letter in letter_of.items():
        values[numbers == code] = letter
    return values


def _write_stat_file(path: Path, codebook: list[Variable], chunks: Iterable[pd.DataFrame], write_frame,
                     join) -> int:
    typed = (pd.DataFrame(stat_columns(chunk, codebook), copy=False) for chunk in chunks)
    texts = [variable.name for variable in codebook if variable.is_string]
    empty = pd.DataFrame({variable.name: np.array([], dtype="float64" if variable.kind == "numeric" else object)
                          for variable in codebook})
    return stat_files.write_chunked(path, typed, texts, write_frame, join, empty)


def stata_label(text: str) -> str:
    return text if len(text) <= STATA_LABEL_LIMIT else text[:STATA_LABEL_LIMIT - 1] + "…"


def stat_columns(frame: pd.DataFrame, codebook: list[Variable]) -> dict:
    """A chunk's columns as pyreadstat writes them, compactly: codes as float32 (pyreadstat writes a double, as
    before; 4 bytes a cell where float64 takes 8), other numbers as float64, texts as they are (categorical or
    object; readstat writes a missing text as '')."""
    typed = {}
    for variable in codebook:
        column = frame[variable.name]
        if variable.is_string:
            typed[variable.name] = column.array if isinstance(column.dtype, pd.CategoricalDtype) else column.to_numpy(object)
        elif variable.is_date:
            typed[variable.name] = _dates(column)
        elif variable.value_labels and (pd.api.types.is_integer_dtype(column.dtype) or column.dtype == np.float32):
            typed[variable.name] = column.to_numpy("float32", na_value=np.nan)
        else:
            typed[variable.name] = pd.to_numeric(column, errors="raise").to_numpy("float64", na_value=np.nan)
    return typed


def _dates(column: pd.Series) -> np.ndarray:
    """dd/mm/yyyy texts as dates (None where missing), parsed once per distinct day: a chunk holds a few."""
    days = column.astype(object)
    parsed = {day: None if pd.isna(day) else dt.datetime.strptime(day, "%d/%m/%Y").date() for day in days.unique()}
    return days.map(parsed).to_numpy(object)
