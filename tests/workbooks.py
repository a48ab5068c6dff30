"""Damaged and oversized .xlsx files for the upload-cap tests, built from a real workbook."""

from __future__ import annotations

import io
import re
import zipfile

from openpyxl import Workbook


def real_workbook(*rows: tuple, title: str = "Sheet") -> bytes:
    workbook = Workbook()
    workbook.active.title = title
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rewritten(data: bytes, change) -> bytes:
    """The workbook with each member's bytes passed through change(name, bytes)."""
    source, buffer = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(entry.filename, change(entry.filename, source.read(entry.filename)))
    return buffer.getvalue()


def truncated_sheet(data: bytes) -> bytes:
    """A sheet's XML cut in half (the archive itself is whole)."""
    return rewritten(data, lambda name, body: body[: len(body) // 2] if name.startswith("xl/worksheets/") else body)


def without_sheets(data: bytes) -> bytes:
    return rewritten(data, lambda name, body: re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", body, flags=re.S)
                     if name == "xl/workbook.xml" else body)


def far_cell(data: bytes, reference: bytes = b"XFD1048576") -> bytes:
    """One more cell at the far corner of the sheet, which the sheet's dimension declares: openpyxl pads every
    row to that width and fills in every row up to it."""
    cell = b'<row r="' + re.sub(rb"\D", b"", reference) + b'"><c r="' + reference + b'" t="n"><v>1</v></c></row>'

    def change(name: str, body: bytes) -> bytes:
        if not name.startswith("xl/worksheets/"):
            return body
        body = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:' + reference + b'"', body)
        return body.replace(b"</sheetData>", cell + b"</sheetData>")

    return rewritten(data, change)


def libreoffice_declared(data: bytes) -> bytes:
    """What LibreOffice writes: a dimension of A1:AMJ1048576 (1,048,576 rows x 1,024 columns) and an empty styled
    cell in the last row; openpyxl fills in every row up to it."""
    cell = b'<row r="1048576" customFormat="1"><c r="AMJ1048576" s="0"/></row>'

    def change(name: str, body: bytes) -> bytes:
        if not name.startswith("xl/worksheets/"):
            return body
        body = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:AMJ1048576"', body)
        return body.replace(b"</sheetData>", cell + b"</sheetData>")

    return rewritten(data, change)


def expanding(data: bytes, megabytes: int = 5) -> bytes:
    """A sheet padded with megabytes of XML whitespace: a few KB compressed."""
    return rewritten(data, lambda name, body: body.replace(b"</sheetData>", b"</sheetData>" + b" " * (megabytes << 20))
                     if name.startswith("xl/worksheets/") else body)
