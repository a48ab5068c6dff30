"""Completed dossiers from a CSV or XLSX file (provinces whose one-stop system has no API): the same checks and
the same all-or-nothing store as the API. The file is read in a thread, never on the event loop."""

from __future__ import annotations

import asyncio
import csv
import io
import unicodedata
from pathlib import Path

import sampling
from survey_app.dossiers.services import FIELDS, DossiersRefused, RowProblem, StoredDossier, store_dossiers

# A header may be the field's name or its usual Vietnamese column title (case and spaces do not matter).
HEADER_ALIASES = {
    "code": ("mã hồ sơ", "ma ho so", "dossier_code"), "procedure": ("mã thủ tục", "thủ tục", "procedure_code"),
    "domain": ("lĩnh vực", "mã lĩnh vực"), "unit": ("mã đơn vị", "đơn vị", "unit_code"),
    "channel": ("kênh", "kênh tiếp nhận"), "received_on": ("ngày tiếp nhận", "received"),
    "due_on": ("ngày hẹn trả", "due"), "returned_on": ("ngày trả kết quả", "returned"),
}
FORMATS = ("csv", "xlsx")


def _header_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).strip().lower().split())


def field_of_header(header: str) -> str | None:
    key = _header_key(header)
    for name in FIELDS:
        if key == name or key in HEADER_ALIASES[name]:
            return name
    return None


def read_rows(data: bytes, filename: str) -> list[tuple[int, dict]]:
    """The file's rows as (spreadsheet row number, {field: value}); DossiersRefused for an unreadable file."""
    file_format = Path(filename).suffix.lstrip(".").lower()
    if file_format not in FORMATS:
        raise DossiersRefused([RowProblem(0, "file", "Tệp phải là .csv hoặc .xlsx.")])
    try:
        table = sampling.read_table(io.BytesIO(data), file_format=file_format)
    except sampling.SamplingError as error:
        raise DossiersRefused([RowProblem(0, "file", problem.message_vi) for problem in error.problems]) from error
    columns = {header: field_of_header(header) for header in table.columns}
    missing = [name for name in ("code", "procedure", "unit", "channel", "received_on", "returned_on")
               if name not in columns.values()]
    if missing:
        raise DossiersRefused([RowProblem(1, name, f"Tệp thiếu cột “{name}” ({HEADER_ALIASES[name][0]}).")
                               for name in missing])
    named = table.rename(columns=columns)[[name for name in columns.values() if name]]
    return [(int(number), {name: value for name, value in row.items()}) for number, row in
            zip(named.index, named.to_dict("records"))]


async def import_file(data: bytes, filename: str, secret_key: str) -> list[StoredDossier]:
    """Read the file off the event loop, then check and store every row, or none."""
    rows = await asyncio.to_thread(read_rows, data, filename)
    if not rows:
        raise DossiersRefused([RowProblem(0, "file", "Tệp không có dòng hồ sơ nào.")])
    return await store_dossiers(rows, secret_key, source="import")


def links_csv(stored: list[StoredDossier], base_url: str, secret_key: str) -> bytes:
    """Each stored dossier's code and rating link, for printing its QR code on the result slip (UTF-8 with BOM,
    so Excel reads the Vietnamese). The codes exist only in this file, not in the database."""
    from survey_app.dossiers.rating import rating_url

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "code", "rating_url"])
    writer.writerows([entry.row, entry.code, rating_url(base_url, secret_key, entry.link_id)] for entry in stored)
    return buffer.getvalue().encode("utf-8-sig")
