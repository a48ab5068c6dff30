"""Reading an .xlsx (or legacy .xls) workbook someone uploaded, within caps: a small file must not expand into minutes of work.

A 23 KB workbook can declare a cell at column XFD or row 1,048,576, or hold 5 MB of compressed XML; openpyxl
then builds every empty cell in between. Here the archive's declared sizes (zipfile stops reading an entry at its
declared size) are checked before parsing, rows are read at most `columns` wide, and reading stops past `rows`.
Every refusal is a WorkbookRefused with a Vietnamese and an English message.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path


@dataclass(frozen=True)
class WorkbookCaps:
    expanded_bytes: int = 20 * 1024 * 1024
    rows: int = 100_000
    columns: int = 200


# a form or a unit list; pyxform's XLSForm spec workbook expands to 2.2 MB
UPLOAD_CAPS = WorkbookCaps(expanded_bytes=6 * 1024 * 1024, rows=10_000, columns=100)


class WorkbookRefused(ValueError):
    def __init__(self, message_vi: str, message_en: str):
        super().__init__(message_en)
        self.message_vi, self.message_en = message_vi, message_en


OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the start of every Excel 97 (.xls) file
UNREADABLE = ("Không đọc được tệp .xlsx (tệp hỏng, bị cắt ngắn hoặc không phải Excel): {detail}",
              "the .xlsx file is malformed, truncated or not an Excel file: {detail}")


def read_workbook(source: Path | str | bytes, caps: WorkbookCaps = WorkbookCaps()) -> dict[str, list[tuple]]:
    """Sheet title → its rows (tuples of cell values, at most `caps.columns` wide), in the workbook's order."""
    if isinstance(source, (str, Path)):
        source = Path(source).read_bytes()
    try:
        if source.startswith(OLE_SIGNATURE):
            return _read_legacy_sheets(source, caps)
        source = io.BytesIO(source)
        check_expanded_size(source, caps)
        return _read_sheets(source, caps)
    except WorkbookRefused:
        raise
    except Exception as error:  # openpyxl, zipfile and the XML parser raise many types for a damaged file
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        raise WorkbookRefused(UNREADABLE[0].format(detail=detail), UNREADABLE[1].format(detail=detail)) from None


def _read_legacy_sheets(data: bytes, caps: WorkbookCaps) -> dict[str, list[tuple]]:
    """An Excel 97 (.xls) workbook, read with xlrd (what pyxform uses); the format itself stops at 65,536 rows."""
    import xlrd

    book = xlrd.open_workbook(file_contents=data, ragged_rows=True, on_demand=True)
    sheets = {}
    for index in range(book.nsheets):
        sheet = book.sheet_by_index(index)
        rows = (tuple(_legacy_value(book, cell) for cell in sheet.row(number)) for number in range(sheet.nrows))
        # the format stops at 65,536 rows and 256 columns (each row read as long as its data): no cap is needed
        # against far cells, and real forms use extra columns and rows
        sheets[sheet.name] = _capped_rows(sheet.name, rows, replace(caps, rows=max(caps.rows, 65_536),
                                                                    columns=max(caps.columns, 256)))
    if not sheets:
        raise WorkbookRefused("Tệp .xls không có trang tính nào.", "the .xls file has no sheets.")
    return sheets


def _legacy_value(book, cell):
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate_as_datetime(cell.value, book.datemode)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    return cell.value


def check_expanded_size(source, caps: WorkbookCaps) -> None:
    with zipfile.ZipFile(source) as archive:
        expanded = sum(entry.file_size for entry in archive.infolist())
    if expanded > caps.expanded_bytes:
        megabytes = caps.expanded_bytes // (1024 * 1024)
        raise WorkbookRefused(f"Tệp .xlsx khi giải nén lớn hơn {megabytes} MB; hãy chia nhỏ tệp.",
                              f"the .xlsx file expands to more than {megabytes} MB; split it.")
    if hasattr(source, "seek"):
        source.seek(0)


def _read_sheets(source, caps: WorkbookCaps) -> dict[str, list[tuple]]:
    import openpyxl

    workbook = openpyxl.load_workbook(source, read_only=True, data_only=True)
    try:
        if not workbook.worksheets:
            raise WorkbookRefused("Tệp .xlsx không có trang tính nào.", "the .xlsx file has no sheets.")
        # one column past the cap, only to tell a sheet that uses it; openpyxl pads every row to max_col
        return {sheet.title: _capped_rows(sheet.title, sheet.iter_rows(max_col=caps.columns + 1, values_only=True),
                                          caps)
                for sheet in workbook.worksheets}
    finally:
        workbook.close()


def _capped_rows(title: str, sheet_rows, caps: WorkbookCaps) -> list[tuple]:
    rows, empty_run, filler = [], 0, None
    for row in sheet_rows:
        # openpyxl yields one shared filler tuple for each missing row up to the declared dimension: telling it by
        # identity keeps LibreOffice's 1,048,576 declared rows at a fraction of a second
        if row is filler or row.count(None) + row.count("") == len(row):
            filler = row
            empty_run += 1  # kept only if data follows: LibreOffice declares and styles rows up to 1,048,576
            continue
        if len(rows) + empty_run >= caps.rows:
            raise WorkbookRefused(f"Trang “{title}” có hơn {caps.rows} dòng; tối đa {caps.rows} dòng.",
                                  f"sheet '{title}' has more than {caps.rows} rows (the most allowed).")
        if any(cell not in (None, "") for cell in row[caps.columns:]):
            raise WorkbookRefused(f"Trang “{title}” có dữ liệu quá cột {caps.columns}; tối đa {caps.columns} cột.",
                                  f"sheet '{title}' has data beyond column {caps.columns} (the most allowed).")
        rows.extend([()] * empty_run)
        empty_run = 0
        rows.append(row[:caps.columns])
    width = max((_used_width(row) for row in rows), default=0)
    return [tuple(row[:width]) + (None,) * (width - len(row[:width])) for row in rows]  # as wide as the data


def _used_width(row: tuple) -> int:
    end = len(row)
    while end and row[end - 1] in (None, ""):
        end -= 1
    return end
