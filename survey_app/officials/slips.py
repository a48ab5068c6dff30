"""Printable invitation slips: A4 pages of 8 slips (2 × 4) with dashed cut lines.

Each slip carries the survey title, the unit (and role), the one-time code in large type, a QR code that opens
`/o?code=…` on BASE_URL, and short instructions in Vietnamese with an English line under them. No name and no
staff id unless the analyst asks for names (`with_names`), and then only from the codes file written at draw time:
names are never stored. The staff reference prefix (a keyed hash, as in the reminders list) is printed small so
whoever hands the slips out can match them against the codes file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

from fpdf import FPDF

from sampling.codes import format_code, normalize_code
from survey_app.core.pdf import FONT_DIR, vietnamese_pdf
from survey_app.units.qr import nfc, qr_image

PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0  # A4, millimetres
COLUMNS, ROWS = 2, 4
SLIP_WIDTH, SLIP_HEIGHT = PAGE_WIDTH / COLUMNS, PAGE_HEIGHT / ROWS
PADDING = 6.0
QR_SIDE = 34.0
QR_BOX_PIXELS = 6  # per module: the image is scaled to QR_SIDE, this only keeps the edges sharp when printed
MONO = "DejaVuMono"

CODE_LABEL = "Mã khảo sát / Survey code"
INSTRUCTIONS_VI = ("Quét mã QR bằng camera điện thoại hoặc mở {address} và nhập mã trên. "
                   "Mỗi mã chỉ dùng một lần; phiếu trả lời không ghi tên.")
INSTRUCTIONS_EN = "Scan the QR code or open {address} and type the code. One use only; answers are anonymous."


@dataclass(frozen=True)
class Slip:
    """What one slip shows; `name` is printed only when the analyst asked for it."""

    code: str
    unit_name: str
    role: str = ""
    staff_ref: str = ""
    name: str = ""


def code_url(base_url: str, code: str) -> str:
    """The address the slip's QR code opens: the code page with the code filled in."""
    return f"{base_url.rstrip('/')}/o?code={normalize_code(code)}"


def slips_pdf(slips: Iterable[Slip], survey_title: str, base_url: str, with_names: bool = False) -> bytes:
    """The slips as an A4 PDF, 8 to a page, cut lines between them."""
    document = _document()
    address = f"{base_url.rstrip('/')}/o"
    for index, slip in enumerate(slips):
        if index % (COLUMNS * ROWS) == 0:
            document.add_page()
            _cut_lines(document)
        position = index % (COLUMNS * ROWS)
        left, top = (position % COLUMNS) * SLIP_WIDTH, (position // COLUMNS) * SLIP_HEIGHT
        _draw_slip(document, slip, left, top, nfc(survey_title), address, base_url, with_names)
    buffer = io.BytesIO()
    document.output(buffer)
    return buffer.getvalue()


def slips_from_rows(rows: Iterable[Mapping], unit_names: Mapping[str, str]) -> list[Slip]:
    """Rows of the codes file (unit, role, staff_ref, name, code) → slips, unit codes shown with their names."""
    return [Slip(code=str(row["code"]), role=str(row.get("role") or ""), staff_ref=str(row.get("staff_ref") or ""),
                 name=str(row.get("name") or ""),
                 unit_name=_unit_label(str(row["unit"]), unit_names.get(str(row["unit"]))))
            for row in rows]


def _unit_label(code: str, name: str | None) -> str:
    return f"{name} ({code})" if name else code


def _document() -> FPDF:
    document = vietnamese_pdf()
    document.add_font(MONO, style="B", fname=str(FONT_DIR / "DejaVuSansMono-Bold.ttf"))
    document.set_auto_page_break(False)
    document.set_margins(0, 0, 0)
    document.set_title("Phiếu mời khảo sát / Survey invitation slips")
    return document


def _cut_lines(document: FPDF) -> None:
    """Dashed lines between slips (not at the paper's edge) to cut along."""
    document.set_draw_color(150, 150, 150)
    document.set_line_width(0.2)
    with document.local_context():
        document.set_dash_pattern(dash=2, gap=1.5)
        for column in range(1, COLUMNS):
            document.line(column * SLIP_WIDTH, 0, column * SLIP_WIDTH, PAGE_HEIGHT)
        for row in range(1, ROWS):
            document.line(0, row * SLIP_HEIGHT, PAGE_WIDTH, row * SLIP_HEIGHT)


def _draw_slip(document: FPDF, slip: Slip, left: float, top: float, title: str, address: str, base_url: str,
               with_names: bool) -> None:
    inner_width = SLIP_WIDTH - 2 * PADDING
    text_width = inner_width - QR_SIDE - 3
    document.set_text_color(13, 59, 122)
    _text(document, left + PADDING, top + PADDING, inner_width, title, size=10, style="B", line_height=4.4, lines=2)
    document.set_text_color(17, 24, 39)
    unit_line = slip.unit_name + (f" · {slip.role}" if slip.role else "")
    _text(document, left + PADDING, top + PADDING + 9.5, inner_width, unit_line, size=8, line_height=3.6, lines=1)
    if with_names and slip.name:
        _text(document, left + PADDING, top + PADDING + 13.5, inner_width, slip.name, size=8, style="B",
              line_height=3.6, lines=1)
    body_top = top + PADDING + 18
    document.image(qr_image(code_url(base_url, slip.code), QR_BOX_PIXELS).convert("L"),
                   x=left + SLIP_WIDTH - PADDING - QR_SIDE, y=body_top, w=QR_SIDE, h=QR_SIDE)
    document.set_text_color(75, 85, 99)
    _text(document, left + PADDING, body_top, text_width, CODE_LABEL, size=6.5, line_height=3, lines=1)
    document.set_text_color(17, 24, 39)
    document.set_font(MONO, style="B", size=17)
    document.set_xy(left + PADDING, body_top + 3.5)
    document.cell(text_width, 8, format_code(normalize_code(slip.code)))
    _text(document, left + PADDING, body_top + 13, text_width, INSTRUCTIONS_VI.format(address=address), size=7,
          line_height=3.1, lines=5)
    document.set_text_color(75, 85, 99)
    _text(document, left + PADDING, body_top + 29, text_width, INSTRUCTIONS_EN.format(address=address), size=6,
          style="I", line_height=2.7, lines=3)
    if slip.staff_ref:
        _text(document, left + PADDING, top + SLIP_HEIGHT - PADDING - 2.5, inner_width, f"Ref. {slip.staff_ref}",
              size=5.5, line_height=2.5, lines=1)


def _text(document: FPDF, x: float, y: float, width: float, text: str, *, size: float, line_height: float,
          lines: int, style: str = "") -> None:
    """Wrapped text, cut to `lines` lines so a long title never runs into the next block."""
    document.set_font("DejaVu", style=style, size=size)
    for number, line in enumerate(_wrapped(nfc(text), width, lines, style, size)):
        document.set_xy(x, y + number * line_height)
        document.cell(width, line_height, line)


@lru_cache(maxsize=1024)
def _wrapped(text: str, width: float, lines: int, style: str, size: float) -> tuple[str, ...]:
    """Line breaking is the slow part of a slip, and the title and instructions repeat on every slip: each
    distinct text is broken once, on a document kept for measuring only."""
    measure = _measuring_document()
    measure.set_font("DejaVu", style=style, size=size)
    wrapped = measure.multi_cell(width, 1, text, dry_run=True, output="LINES")
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1].rstrip(" ,;–-") + "…"
    return tuple(wrapped)


@lru_cache(maxsize=1)
def _measuring_document() -> FPDF:
    measure = _document()
    measure.add_page()
    return measure
