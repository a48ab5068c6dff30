"""QR codes and printable counter posters: pure rendering, no database.

`qr_png` and `qr_svg` draw the code a counter's URL (`tokens.form_url`) needs; `poster` sets an A4 or A5 page at
300 dpi with the unit's and counter's names, short Vietnamese instructions, the printed URL and an English line;
`zip_of_posters` bundles one PNG and one PDF per counter. Every text is normalised to NFC and set in DejaVu Sans
(matplotlib's bundled copy), which carries every Vietnamese letter.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

from questionnaires import load_shipped

BORDER = 4  # quiet zone in modules, as the QR standard asks
BOX_SIZE = 10  # pixels per module in qr_png
ERROR_CORRECTION = qrcode.constants.ERROR_CORRECT_M  # ~15 % of the code may be smudged or torn
DPI = 300
PAGE_SIZES = {"A4": (2480, 3508), "A5": (1748, 2480)}  # pixels at 300 dpi (210×297 mm, 148×210 mm)
FORMATS = ("png", "pdf")

NAVY = (13, 59, 122)  # title band; white on it has a contrast of about 11:1
INK = (17, 24, 39)
ACCENT = (176, 28, 28)  # counter name; about 6.8:1 on white
GREY = (75, 85, 99)  # secondary lines; about 7.5:1 on white
GREEN = (21, 101, 52)
WHITE = (255, 255, 255)

# The poster promises what the counter form asks: its required questions (domain and four ratings today)
COUNTER_QUESTIONS = sum(1 for item in load_shipped()["counter_rating"].items if item.required)
TEXT = {
    "title": "Ý KIẾN CỦA ÔNG/BÀ GIÚP CHÚNG TÔI PHỤC VỤ TỐT HƠN",
    "steps": ("Mở camera điện thoại", "Quét mã QR", f"Trả lời {COUNTER_QUESTIONS} câu hỏi trong 1 phút"),
    "privacy": "Không cần đăng nhập · Không thu thập số điện thoại",
    "or_open": "Hoặc mở địa chỉ:",
    "valid_until": "Mã có hiệu lực đến {date}",
    "english": "Your feedback helps us serve you better: scan the code with your phone camera and answer "
               f"{COUNTER_QUESTIONS} questions in 1 minute. No login, no phone number collected.",
}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --- the code itself -------------------------------------------------------------------------------------------


def qr_matrix(url: str) -> list[list[bool]]:
    """The code's modules (True = dark), quiet zone included: what qr_png and qr_svg draw."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=BORDER)
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


def qr_image(url: str, box_size: int = BOX_SIZE) -> Image.Image:
    """A 1-bit image, `box_size` pixels per module, quiet zone included."""
    matrix = qr_matrix(url)
    modules = len(matrix)
    small = Image.new("1", (modules, modules), 1)
    small.putdata([0 if dark else 1 for row in matrix for dark in row])
    return small.resize((modules * box_size, modules * box_size), Image.Resampling.NEAREST)


def qr_png(url: str, box_size: int = BOX_SIZE) -> bytes:
    buffer = io.BytesIO()
    qr_image(url, box_size).save(buffer, "PNG", optimize=True, dpi=(DPI, DPI))
    return buffer.getvalue()


def qr_svg(url: str) -> bytes:
    """A scalable code: one path, one unit square per dark module, the viewBox in modules."""
    matrix = qr_matrix(url)
    modules = len(matrix)
    squares = "".join(f"M{x} {y}h1v1h-1z" for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {modules} {modules}" width="{modules * 4}mm" '
        f'height="{modules * 4}mm" shape-rendering="crispEdges">'
        f'<rect width="{modules}" height="{modules}" fill="#fff"/>'
        f'<path fill="#000" d="{squares}"/></svg>\n'
    ).encode()


# --- fonts and text ---------------------------------------------------------------------------------------------


def font_path(bold: bool = False, mono: bool = False) -> Path:
    import matplotlib

    name = "DejaVuSans" + ("Mono" if mono else "") + ("-Bold" if bold else "") + ".ttf"
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False, mono: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(bold, mono)), size)


def _wrap_words(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str] | None:
    """Greedy word wrap; None when a single word is wider than the line."""
    lines: list[str] = []
    for word in text.split():
        if face.getlength(word) > width:
            return None
        if lines and face.getlength(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _wrap_chars(text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """For a URL: break after '/' or '.' when possible, else anywhere."""
    lines: list[str] = []
    rest = text
    while rest:
        cut = len(rest)
        while cut > 1 and face.getlength(rest[:cut]) > width:
            cut -= 1
        if cut < len(rest):
            breaks = [i + 1 for i, char in enumerate(rest[:cut]) if char in "/." and i + 1 > cut // 2]
            cut = breaks[-1] if breaks else cut
        lines.append(rest[:cut])
        rest = rest[cut:]
    return lines


@dataclass
class Block:
    """Some wrapped lines in one face and colour, centred on the page."""

    lines: list[str]
    face: ImageFont.FreeTypeFont
    fill: tuple[int, int, int]
    leading: float = 1.22

    @property
    def line_height(self) -> int:
        return round(self.face.size * self.leading)

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)

    def draw(self, draw: ImageDraw.ImageDraw, centre_x: int, top: int) -> int:
        for number, line in enumerate(self.lines):
            y = top + number * self.line_height + self.line_height // 2
            draw.text((centre_x, y), line, font=self.face, fill=self.fill, anchor="mm")
        return top + self.height


def fitted(text: str, size: int, width: int, max_lines: int, bold: bool = False, fill=INK,
           minimum: int = 12, leading: float = 1.22) -> Block:
    """Wrap `text` into `width`, shrinking the type until it holds in `max_lines` (long unit names)."""
    text = nfc(" ".join(text.split()))
    while True:
        face = font(size, bold)
        lines = _wrap_words(text, face, width)
        if lines is not None and len(lines) <= max_lines:
            return Block(lines, face, fill, leading)
        if size <= minimum:
            return Block(lines or _wrap_chars(text, face, width), face, fill, leading)
        size = max(minimum, int(size * 0.92))


# --- the poster -------------------------------------------------------------------------------------------------


def poster_image(url: str, unit_name: str, counter_name: str, campaign_name: str, size: str = "A4",
                 expires_on: dt.date | None = None) -> Image.Image:
    """The poster as an RGB image at 300 dpi."""
    if size not in PAGE_SIZES:
        raise ValueError(f"size must be one of {', '.join(PAGE_SIZES)}")
    width, height = PAGE_SIZES[size]
    s = width / PAGE_SIZES["A4"][0]  # A5 is A4 scaled by 1/√2; every measure below is for A4

    def px(value: float) -> int:
        return round(value * s)

    margin = px(170)
    text_width = width - 2 * margin
    title = fitted(TEXT["title"], px(124), text_width, 3, bold=True, fill=WHITE, leading=1.18)
    unit = fitted(unit_name, px(100), text_width, 3, bold=True, leading=1.15)
    counter = fitted(counter_name, px(150), text_width, 2, bold=True, fill=ACCENT, leading=1.15)
    campaign = fitted(campaign_name, px(62), text_width, 2, fill=GREY) if campaign_name.strip() else None
    steps = [fitted(step, px(76), text_width - px(170), 2, bold=True, leading=1.15) for step in TEXT["steps"]]
    privacy = fitted(TEXT["privacy"], px(62), text_width, 2, fill=GREEN)
    or_open = fitted(TEXT["or_open"], px(50), text_width, 1, fill=GREY)
    url_face = font(px(50), mono=True)
    url_block = Block(_wrap_chars(url, url_face, text_width), url_face, INK, 1.25)
    expiry = (fitted(TEXT["valid_until"].format(date=expires_on.strftime("%d/%m/%Y")), px(46), text_width, 1,
                     fill=GREY) if expires_on else None)
    english = fitted(TEXT["english"], px(46), text_width, 3, fill=GREY, leading=1.3)

    band_padding = px(100)
    band_height = title.height + 2 * band_padding
    step_height = max(px(130), max(step.height for step in steps))
    disc = px(100)
    step_face = font(px(62), bold=True)
    # The page top to bottom: (what, height, gap units after it); the QR code takes what is left, up to 62 %
    # of the width, and any space still left widens the gaps evenly.
    head = [(unit, 2), (counter, 1)] + ([(campaign, 1.2)] if campaign else [])
    tail = ([(privacy, 2), (or_open, 0.5), (url_block, 1)] + ([(expiry, 1.5)] if expiry else [(None, 0.5)])
            + [(english, 0)])
    items = ([(None, band_height, 3)] + [(block, block.height, units) for block, units in head]
             + [("qr", 0, 1.2)] + [("step", step_height, 0.4)] * 3 + [(None, 0, 2.6)]
             + [(block, block.height if block else 0, units) for block, units in tail])
    fixed = sum(height for _, height, _ in items) + margin
    units = sum(units for _, _, units in items)
    modules = len(qr_matrix(url))
    qr_side = min(round(0.62 * width), int(height - fixed - units * px(28)))
    qr = qr_image(url, max(2, qr_side // modules)).convert("RGB")
    gap = (height - fixed - qr.height) / units

    page = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(page)
    centre = width // 2
    draw.rectangle((0, 0, width, band_height), fill=NAVY)
    title.draw(draw, centre, band_padding)
    step_width = disc + px(40) + max(step.face.getlength(line) for step in steps for line in step.lines)
    left = centre - int(step_width) // 2
    steps_left = iter(enumerate(steps, 1))
    y = 0.0
    for block, block_height, units in items:
        top = round(y)
        if block == "qr":
            page.paste(qr, (centre - qr.width // 2, top))
            block_height = qr.height
        elif block == "step":
            number, step = next(steps_left)
            middle = top + step_height // 2
            draw.ellipse((left, middle - disc // 2, left + disc, middle + disc // 2), fill=NAVY)
            draw.text((left + disc // 2, middle), str(number), font=step_face, fill=WHITE, anchor="mm")
            text_top = middle - step.height // 2
            for index, line in enumerate(step.lines):
                draw.text((left + disc + px(40), text_top + index * step.line_height + step.line_height // 2),
                          line, font=step.face, fill=step.fill, anchor="lm")
        elif isinstance(block, Block):
            block.draw(draw, centre, top)
        y += block_height + units * gap
    return page


def poster(url: str, unit_name: str, counter_name: str, campaign_name: str, size: str = "A4",
           format: str = "png", expires_on: dt.date | None = None) -> bytes:
    """An A4 or A5 poster at 300 dpi as PNG or as a one-page PDF of the same size."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    image = poster_image(url, unit_name, counter_name, campaign_name, size, expires_on)
    return encode(image, format, nfc(f"{unit_name} – {counter_name}"))


def encode(image: Image.Image, format: str, title: str = "") -> bytes:
    """PNG, or a one-page PDF whose page size is the image's at 300 dpi (A4: 595×842 pt)."""
    buffer = io.BytesIO()
    if format == "png":
        image.save(buffer, "PNG", dpi=(DPI, DPI))
    else:
        # Pillow embeds RGB as JPEG; full chroma and high quality keep the code's edges and the text sharp.
        image.save(buffer, "PDF", resolution=DPI, quality=92, subsampling=0, title=title, creator="survey-sipas")
    return buffer.getvalue()


# --- many counters at once ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PosterEntry:
    url: str
    counter_code: str
    counter_name: str
    unit_name: str
    campaign_name: str


def slug(text: str) -> str:
    """An ASCII-safe file name: Vietnamese letters lose their marks, đ → d, anything else becomes '-'."""
    plain = unicodedata.normalize("NFKD", nfc(text).replace("đ", "d").replace("Đ", "D"))
    plain = "".join(char for char in plain if not unicodedata.combining(char)).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_-]+", "-", plain).strip("-") or "counter"


def zip_of_posters(entries: Iterable[PosterEntry], size: str = "A4", expires_on: dt.date | None = None) -> bytes:
    """One PNG and one PDF poster per counter, named after the counter code's slug."""
    buffer = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PNG and PDF are compressed already
        for entry in entries:
            name = base = slug(entry.counter_code)
            number = 1
            while name in used:
                number += 1
                name = f"{base}-{number}"
            used.add(name)
            image = poster_image(entry.url, entry.unit_name, entry.counter_name, entry.campaign_name, size,
                                 expires_on)
            title = nfc(f"{entry.unit_name} – {entry.counter_name}")
            for format in FORMATS:
                archive.writestr(f"{name}.{format}", encode(image, format, title))
    return buffer.getvalue()
