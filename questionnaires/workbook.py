"""Reading an .xlsx workbook someone uploaded, within caps: a small file must not expand into minutes of work.

A 23 KB workbook can declare a cell at column XFD or row 1,048,576, or hold 5 MB of compressed XML; openpyxl
then builds every empty cell in between. Here the archive's declared sizes (zipfile stops reading an entry at its
declared size) are checked before parsing, rows are read at most `columns` wide, and reading stops past `rows`.
Every refusal is a WorkbookRefused with a Vietnamese and an English message.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
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


UNREADABLE = ("Không đọc được tệp .xlsx (tệp hỏng, bị cắt ngắn hoặc không phải Excel): {detail}",
              "the .xlsx file is malformed, truncated or not an Excel file: {detail}")


def read_workbook(source: Path | str | bytes, caps: WorkbookCaps = WorkbookCaps()) -> dict[str, list[tuple]]:
    """Sheet title → its rows (tuples of cell values, at most `caps.columns` wide), in the workbook's order."""
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        check_expanded_size(source, caps)
        return _read_sheets(source, caps)
    except WorkbookRefused:
        raise
    except Exception as error:  # openpyxl, zipfile and the XML parser raise many types for a damaged file
        detail = " ".join(str(error).split())[:200] or type(error).__name__
        raise WorkbookRefused(UNREADABLE[0].format(detail=detail), UNREADABLE[1].format(detail=detail)) from None


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
        return {sheet.title: _sheet_rows(sheet, caps) for sheet in workbook.worksheets}
    finally:
        workbook.close()


def _sheet_rows(sheet, caps: WorkbookCaps) -> list[tuple]:
    rows = []
    # one column past the cap, only to tell a sheet that uses it; openpyxl pads every row to max_col
    for row in sheet.iter_rows(max_col=caps.columns + 1, values_only=True):
        if len(row) > caps.columns and row[caps.columns] not in (None, ""):
            raise WorkbookRefused(f"Trang “{sheet.title}” có dữ liệu quá cột {caps.columns}; tối đa {caps.columns} cột.",
                                  f"sheet '{sheet.title}' has data beyond column {caps.columns} (the most allowed).")
        if len(rows) >= caps.rows:
            raise WorkbookRefused(f"Trang “{sheet.title}” có hơn {caps.rows} dòng; tối đa {caps.rows} dòng.",
                                  f"sheet '{sheet.title}' has more than {caps.rows} rows (the most allowed).")
        rows.append(row[:caps.columns])
    width = max((_used_width(row) for row in rows), default=0)
    return [row[:width] for row in rows]  # as wide as the sheet's data, not the cap


def _used_width(row: tuple) -> int:
    end = len(row)
    while end and row[end - 1] in (None, ""):
        end -= 1
    return end
