"""The printable questionnaire: A4 pages from the same definition as the web form, one numbered copy after another.

Each copy carries its number on every page and, on its first page, a QR code opening its one-time online link
(the copy answered online cannot be keyed, and the other way round). Boxes carry the digit codes the keying page
takes (questionnaires/paper.py); conditions are printed as sentences before the questions they guard.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from fpdf import FPDF

from questionnaires.paper import answer_codes, is_coded, item_numbers, printed_text, skip_instructions
from survey_app.core.pdf import FONT_FAMILY, vietnamese_pdf
from survey_app.units.qr import nfc, qr_image

MARGIN = 15.0
WIDTH = 210.0 - 2 * MARGIN
QR_SIDE = 30.0
BOX = 3.6  # a tick box, millimetres
LINE = 5.0
INK, GREY, NAVY = (17, 24, 39), (75, 85, 99), (13, 59, 122)
INSTRUCTIONS = ("Cách trả lời: đánh dấu X vào ô phù hợp; số nhỏ cạnh mỗi ô là mã dùng khi nhập liệu. "
                "Câu có dấu * là câu bắt buộc. Viết rõ ràng vào chỗ trống.")
ONLINE = ("Trả lời trực tuyến thay cho phiếu giấy: quét mã QR bằng camera điện thoại. "
          "Mỗi phiếu chỉ trả lời một lần, trên giấy hoặc trực tuyến.")


WRITE_IN_GAPS = {"date": "Ngày ....... / ....... / ...............", "time": "Lúc ....... giờ ....... phút",
                 "datetime": "Ngày ....... / ....... / ............... lúc ....... giờ ....... phút"}


@dataclass(frozen=True)
class PrintedCopy:
    serial: int
    online_url: str


def copy_label(serial: int) -> str:
    """How a copy's number is printed and shown: six digits."""
    return f"{serial:06d}"


def paper_pdf(definition, campaign_name: str, unit_name: str, copies: Iterable[PrintedCopy]) -> bytes:
    """The copies as one A4 PDF, each starting on a new page."""
    document = vietnamese_pdf()
    document.set_margins(MARGIN, MARGIN + 4, MARGIN)
    document.set_auto_page_break(True, margin=MARGIN)
    document.set_title(nfc(f"Phiếu khảo sát – {definition.title.get('vi', '')}"))
    numbers, skips = item_numbers(definition), skip_instructions(definition)
    for printed in copies:
        _one_copy(document, definition, nfc(campaign_name), nfc(unit_name), printed, numbers, skips)
    buffer = io.BytesIO()
    document.output(buffer)
    return buffer.getvalue()


def paper_pdf_from_dict(definition_data: dict, campaign_name: str, unit_name: str,
                        copies: list[PrintedCopy]) -> bytes:
    """paper_pdf for the staff pages' worker process: a definition's dict pickles (its parsed conditions do not)."""
    from questionnaires import Questionnaire

    return paper_pdf(Questionnaire.from_dict(definition_data), campaign_name, unit_name, copies)


def _one_copy(document: FPDF, definition, campaign_name: str, unit_name: str, printed: PrintedCopy,
              numbers: dict, skips: dict) -> None:
    first_page = document.page + 1
    label = copy_label(printed.serial)

    def header() -> None:  # fpdf2 calls it on every new page: the copy's number on each of its pages
        with document.local_context(text_color=GREY):
            document.set_font(FONT_FAMILY, size=8)
            document.set_xy(MARGIN, 8)
            page_of_copy = document.page - first_page + 1
            document.cell(WIDTH, 4, f"{campaign_name} · Phiếu số {label} · trang {page_of_copy}", align="R")
        document.set_xy(MARGIN, MARGIN + 4)

    document.header = header
    document.add_page()
    _first_page_top(document, definition, campaign_name, unit_name, printed, label)
    for section in definition.sections:
        _section(document, section, numbers, skips)
    document.ln(4)
    _paragraph(document, "Xin trân trọng cảm ơn ông/bà!", WIDTH, LINE, 10, "B", x=MARGIN)


def _paragraph(document: FPDF, text: str, width: float, line_height: float, size: float, style: str = "",
               align: str = "L", x: float | None = None) -> None:
    """Wrapped text from the current position down, one cell per line. The same labels repeat on every copy
    (a scale's six labels on every rating question): each distinct text is broken into lines once."""
    x = document.get_x() if x is None else x
    document.set_font(FONT_FAMILY, style=style, size=size)
    for line in _lines(nfc(text), width, style, size):
        document.set_x(x)
        document.cell(width, line_height, line, align=align, new_x="LEFT", new_y="NEXT")


@lru_cache(maxsize=4096)
def _lines(text: str, width: float, style: str, size: float) -> tuple[str, ...]:
    measure = _measuring_document()
    measure.set_font(FONT_FAMILY, style=style, size=size)
    return tuple(measure.multi_cell(width, 1, text, dry_run=True, output="LINES"))


@lru_cache(maxsize=1)
def _measuring_document() -> FPDF:
    measure = vietnamese_pdf()
    measure.add_page()
    return measure


def _first_page_top(document: FPDF, definition, campaign_name: str, unit_name: str, printed: PrintedCopy,
                    label: str) -> None:
    top, text_width = document.get_y(), WIDTH - QR_SIDE - 6
    document.image(qr_image(printed.online_url, 6).convert("L"), x=MARGIN + WIDTH - QR_SIDE, y=top,
                   w=QR_SIDE, h=QR_SIDE)
    document.set_text_color(*NAVY)
    _paragraph(document, definition.title.get("vi", ""), text_width, 6.5, 14, "B", x=MARGIN)
    document.set_text_color(*INK)
    _paragraph(document, campaign_name, text_width, LINE, 10, x=MARGIN)
    _paragraph(document, f"Đơn vị: {unit_name}", text_width, LINE, 10, x=MARGIN)
    document.set_font(FONT_FAMILY, style="B", size=13)
    document.cell(text_width, 8, f"Phiếu số: {label}", new_x="LMARGIN", new_y="NEXT")
    document.set_font(FONT_FAMILY, size=7.5)
    document.set_text_color(*GREY)
    document.set_y(top + QR_SIDE + 1)
    _paragraph(document, ONLINE, QR_SIDE + 8, 3.2, 7.5, align="C", x=MARGIN + WIDTH - QR_SIDE - 8)
    document.set_y(max(document.get_y(), top + QR_SIDE + 16))
    document.set_text_color(*INK)
    if definition.description:
        _paragraph(document, definition.description.get("vi", ""), WIDTH, 4.6, 9.5, x=MARGIN)
    _paragraph(document, INSTRUCTIONS, WIDTH, 4.4, 9, "I", x=MARGIN)
    document.ln(2)


def _section(document: FPDF, section, numbers: dict, skips: dict) -> None:
    if section.title:  # never alone at the foot of a page: room for its first question too
        _keep_room(document, 22 + (_body_height(document, section.items[0]) if section.items else 0))
        document.ln(2)
        document.set_text_color(*NAVY)
        _paragraph(document, section.title.get("vi", ""), WIDTH, 6, 11, "B", x=MARGIN)
        document.set_text_color(*INK)
    for item in section.items:
        if item.key in numbers:
            _item(document, item, numbers, skips.get(item.key))
        elif item.type == "note":  # its text only, no number and no box (a calculate is not printed at all)
            _note(document, item, numbers)


def _note(document: FPDF, item, numbers: dict) -> None:
    document.ln(1)
    text = " ".join(filter(None, (item.label.get("vi"), item.hint.get("vi"))))
    _paragraph(document, nfc(printed_text(text, numbers)), WIDTH, LINE, 10, x=MARGIN)


def _keep_room(document: FPDF, height: float) -> None:
    """A new page unless `height` millimetres fit: a question never starts at the foot of a page."""
    if document.get_y() + height > document.page_break_trigger:
        document.add_page()


def _item(document: FPDF, item, numbers: dict, skip: str | None) -> None:
    _keep_room(document, 10 + _body_height(document, item))
    if skip:
        _paragraph(document, "→ " + skip, WIDTH, 4.4, 9, "BI", x=MARGIN)
    document.ln(1)
    star = " *" if item.required else ""
    label = printed_text(item.label.get("vi", ""), numbers)
    _paragraph(document, f"Câu {numbers[item.key]}. {label}{star}", WIDTH, LINE, 10, "B", x=MARGIN)
    notes = [nfc(printed_text(item.hint["vi"], numbers))] if item.hint.get("vi") else []
    if item.type == "multiple":
        notes.append(f"Có thể chọn nhiều ô{f', tối đa {item.max_choices}' if item.max_choices else ''}.")
    if notes:
        _paragraph(document, " ".join(notes), WIDTH, 4, 8.5, "I", x=MARGIN)
    if item.type == "rating5":
        _scale_row(document, item)
    elif is_coded(item):
        _choice_grid(document, item)
    else:
        _write_in(document, item)
    document.ln(1.5)


def _body_height(document: FPDF, item) -> float:
    if item.type == "rating5":
        return 14
    if is_coded(item):
        return 6 * -(-len(item.choices) // _columns(document, item))
    return 9 * _writing_lines(item)


def _columns(document: FPDF, item) -> int:
    document.set_font(FONT_FAMILY, size=9)
    widest = max(document.get_string_width(choice.label.get("vi", "")) for choice in item.choices) + 12
    return 3 if widest < WIDTH / 3 else 2 if widest < WIDTH / 2 else 1


def _tick_box(document: FPDF, x: float, y: float, code: str) -> None:
    document.rect(x, y + 0.7, BOX, BOX)
    with document.local_context(text_color=GREY):
        document.set_font(FONT_FAMILY, size=6.5)
        document.set_xy(x + BOX + 0.4, y)
        document.cell(3, 2.6, code)


def _choice_grid(document: FPDF, item) -> None:
    columns = _columns(document, item)
    column_width = WIDTH / columns
    codes = answer_codes(item)
    for start in range(0, len(codes), columns):
        y = document.get_y()
        for offset, (code, choice) in enumerate(codes[start:start + columns]):
            x = MARGIN + offset * column_width
            _tick_box(document, x, y, code)
            document.set_font(FONT_FAMILY, size=9)
            document.set_xy(x + BOX + 5, y)
            document.cell(column_width - BOX - 6, LINE, nfc(choice.label.get("vi", "")))
        document.set_xy(MARGIN, y + 6)


def _scale_row(document: FPDF, item) -> None:
    """The 1–5 scale as one row of boxes, the not-applicable box last, each with its label under it."""
    codes = answer_codes(item)
    column_width = WIDTH / len(codes)
    y = document.get_y() + 0.5
    for index, (code, choice) in enumerate(codes):
        x = MARGIN + index * column_width
        _tick_box(document, x + column_width / 2 - BOX / 2 - 1.5, y, code)
        document.set_y(y + BOX + 1.5)
        _paragraph(document, choice.label.get("vi", ""), column_width - 1, 3, 7, align="C", x=x + 0.5)
    document.set_xy(MARGIN, y + 13.5)


def _writing_lines(item) -> int:
    if item.type == "text":
        return 2 if (item.max_length or 2000) <= 300 else 3
    return 1


def _write_in(document: FPDF, item) -> None:
    """Dotted lines to write on (a number's range at the end of its line), or the day / month / year gaps."""
    document.set_font(FONT_FAMILY, size=9)
    if item.type in WRITE_IN_GAPS:
        document.cell(WIDTH, 8, WRITE_IN_GAPS[item.type] + (f"  {_limits(item)}" if _limits(item) else ""),
                      new_x="LMARGIN", new_y="NEXT")
        return
    limits = _limits(item)
    document.set_draw_color(150, 150, 150)
    for _ in range(_writing_lines(item)):
        y = document.get_y() + 6
        with document.local_context():
            document.set_dash_pattern(dash=0.8, gap=0.8)
            document.line(MARGIN, y, MARGIN + WIDTH - (45 if limits else 0), y)
        if limits:
            document.set_xy(MARGIN + WIDTH - 43, y - 4)
            document.cell(43, LINE, limits, align="R")
            limits = ""
        document.set_xy(MARGIN, y + 1.5)
    document.set_draw_color(0, 0, 0)


def _limits(item) -> str:
    """"(từ 1 đến 20)" for a number with a range, "(từ 01/01/1900 đến hôm nay)" for a date, else empty."""
    if item.type == "date" and (item.earliest or item.latest):
        days = {name: "hôm nay" if day == "today" else "/".join(reversed(day.split("-")))
                for name, day in (("earliest", item.earliest), ("latest", item.latest)) if day}
        parts = ([f"từ {days['earliest']}"] if "earliest" in days else []) + \
            ([f"đến {days['latest']}"] if "latest" in days else [])
        return f"({' '.join(parts)})"
    if item.type not in ("integer", "decimal") or (item.minimum is None and item.maximum is None):
        return ""
    parts = ([] if item.minimum is None else [f"từ {_plain(item.minimum)}"]) + \
        ([] if item.maximum is None else [f"đến {_plain(item.maximum)}"])
    return f"({' '.join(parts)})"


def _plain(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")
