"""QR codes and posters: the images decode back to the signed URL, posters have the right size and every Vietnamese
letter, `survey qr` writes a ZIP for a unit and fails cleanly on unknown codes.

The PNG codes are read back by a small decoder written here from the QR standard (sample the modules, read the
format bits, unmask, follow the zigzag, de-interleave the blocks, parse the segments), so a wrong module anywhere
in the data changes the decoded text; only the standard's tables come from the `qrcode` package.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile

import pytest
from PIL import Image, ImageChops, ImageDraw
from qrcode import util as qr_util
from qrcode.base import rs_blocks
from typer.testing import CliRunner

from survey_app.units import qr
from survey_app.units.posters import QrCommandError, build, parse_expiry
from survey_app.core.tokens import form_url, verify

URLS = [
    "http://127.0.0.1:8000/q/SO01-Q1.QUAY-2026.k1.0.AbCdEfGhIjKlMnOp",
    "https://khaosat.minhhoa.gov.vn/q/H03X1-Q2.SIPAS-2026.k2.20261231.Zz_-09aBcDeFgHiJ",
    "https://dichvucong-khaosat.tinh-minh-hoa.gov.vn/phan-anh/q/TRUNG-TAM-HCC-QUAY-12.DANH-GIA-QUAY-2026"
    ".k3.20271231.ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",  # long enough for version 7+ (version information)
]
ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


# --- a QR reader from the standard --------------------------------------------------------------------------------


def function_modules(version: int) -> list[list[bool]]:
    """Finder patterns with separators, timing, alignment, format and version areas, the dark module."""
    size = 17 + 4 * version
    used = [[False] * size for _ in range(size)]

    def mark(top: int, left: int, height: int, width: int) -> None:
        for row in range(max(0, top), min(size, top + height)):
            for column in range(max(0, left), min(size, left + width)):
                used[row][column] = True

    for top, left in ((0, 0), (0, size - 8), (size - 8, 0)):
        mark(top, left, 8, 8)
    centres = qr_util.pattern_position(version)
    for row in centres:
        for column in centres:
            if not used[row][column]:  # alignment patterns skip the finders, not the timing lines
                mark(row - 2, column - 2, 5, 5)
    mark(6, 0, 1, size)
    mark(0, 6, size, 1)
    mark(8, 0, 1, 9)
    mark(0, 8, 9, 1)
    mark(8, size - 8, 1, 8)
    mark(size - 8, 8, 8, 1)
    if version >= 7:
        mark(0, size - 11, 6, 3)
        mark(size - 11, 0, 3, 6)
    return used


def read_format(modules: list[list[bool]]) -> tuple[int, int]:
    """Error correction level and mask, from the copy of the format bits beside the top-left finder."""
    size = len(modules)
    positions = [(i, 8) if i < 6 else (i + 1, 8) if i < 8 else (size - 15 + i, 8) for i in range(15)]
    bits = sum(int(modules[row][column]) << i for i, (row, column) in enumerate(positions))
    best = min(range(32), key=lambda data: bin(qr_util.BCH_type_info(data) ^ bits).count("1"))
    assert bin(qr_util.BCH_type_info(best) ^ bits).count("1") <= 3, "format information unreadable"
    return best >> 3, best & 7


def decode_modules(modules: list[list[bool]]) -> str:
    size = len(modules)
    version = (size - 17) // 4
    assert size == 17 + 4 * version, f"{size} modules is no QR size"
    level, mask_pattern = read_format(modules)
    mask = qr_util.mask_func(mask_pattern)
    used = function_modules(version)
    bits: list[int] = []
    column, upward = size - 1, True
    while column > 0:
        if column == 6:
            column -= 1
        for row in (range(size - 1, -1, -1) if upward else range(size)):
            for c in (column, column - 1):
                if not used[row][c]:
                    bits.append(int(modules[row][c]) ^ int(mask(row, c)))
        upward = not upward
        column -= 2
    codewords = [int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits) - 7, 8)]
    blocks = rs_blocks(version, level)
    data_blocks: list[list[int]] = [[] for _ in blocks]
    position = 0
    for index in range(max(block.data_count for block in blocks)):
        for number, block in enumerate(blocks):
            if index < block.data_count:
                data_blocks[number].append(codewords[position])
                position += 1
    stream = "".join(f"{word:08b}" for block in data_blocks for word in block)
    cursor = 0

    def take(count: int) -> int:
        nonlocal cursor
        cursor += count
        return int(stream[cursor - count:cursor], 2)

    band = 0 if version <= 9 else 1 if version <= 26 else 2
    text = b""
    while cursor + 4 <= len(stream):
        mode = take(4)
        if mode == 0:
            break
        if mode == 0b0100:
            text += bytes(take(8) for _ in range(take((8, 16, 16)[band])))
        elif mode == 0b0010:
            count = take((9, 11, 13)[band])
            for _ in range(count // 2):
                pair = take(11)
                text += (ALPHANUMERIC[pair // 45] + ALPHANUMERIC[pair % 45]).encode()
            if count % 2:
                text += ALPHANUMERIC[take(6)].encode()
        elif mode == 0b0001:
            count = take((10, 12, 14)[band])
            for _ in range(count // 3):
                text += f"{take(10):03d}".encode()
            if count % 3:
                text += f"{take(4 if count % 3 == 1 else 7):0{count % 3}d}".encode()
        else:
            raise AssertionError(f"unexpected segment mode {mode:04b}")
    return text.decode("utf-8")


def sample(image: Image.Image, left: int, top: int, box: float, count: int) -> list[list[bool]]:
    """Dark or light at the centre of each module."""
    gray = image.convert("L")
    return [[gray.getpixel((int(left + (column + 0.5) * box), int(top + (row + 0.5) * box))) < 128
             for column in range(count)] for row in range(count)]


def decode_png(data: bytes, box: int = qr.BOX_SIZE, border: int = qr.BORDER) -> str:
    image = Image.open(io.BytesIO(data))
    count = image.width // box - 2 * border
    assert image.width == image.height == (count + 2 * border) * box
    # The quiet zone is light all round.
    assert not any(any(row) for row in sample(image, 0, 0, box, border))
    return decode_modules(sample(image, border * box, border * box, box, count))


def decode_poster(image: Image.Image) -> str:
    """Find the code on a poster (its only pure black pixels), measure a module on the finder, read it."""
    red, green, blue = Image.eval(image.convert("RGB"), lambda value: 255 if value == 0 else 0).split()
    mask = ImageChops.darker(ImageChops.darker(red, green), blue)
    left, top, right, bottom = mask.getbbox()
    assert right - left == bottom - top, "the code is not square"
    finder = 0
    while image.getpixel((left + finder, top)) == (0, 0, 0):
        finder += 1
    box = finder / 7
    count = round((right - left) / box)
    return decode_modules(sample(image, left, top, (right - left) / count, count))


# --- the code -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", URLS)
def test_png_decodes_back_to_the_exact_url(url):
    data = qr.qr_png(url)
    assert data.startswith(b"\x89PNG")
    assert decode_png(data) == url


def test_png_modules_match_the_code_qrcode_builds_at_level_m():
    import qrcode

    url = URLS[1]
    reference = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    reference.add_data(url)
    reference.make(fit=True)
    image = Image.open(io.BytesIO(qr.qr_png(url)))
    assert sample(image, 0, 0, qr.BOX_SIZE, len(reference.get_matrix())) == reference.get_matrix()
    inner = [row[qr.BORDER:-qr.BORDER] for row in reference.get_matrix()[qr.BORDER:-qr.BORDER]]
    assert read_format(inner)[0] == qrcode.constants.ERROR_CORRECT_M


def test_decoder_notices_a_wrong_module():
    data = qr.qr_png(URLS[0])
    image = Image.open(io.BytesIO(data)).convert("L")
    modules = sample(image, qr.BORDER * qr.BOX_SIZE, qr.BORDER * qr.BOX_SIZE, qr.BOX_SIZE,
                     image.width // qr.BOX_SIZE - 2 * qr.BORDER)
    modules[-1][-1] = not modules[-1][-1]  # first data module: bit 1 of the mode indicator
    with pytest.raises((AssertionError, UnicodeDecodeError, IndexError, ValueError)):
        assert decode_modules(modules) == URLS[0]


@pytest.mark.parametrize("url", URLS)
def test_svg_is_well_formed_with_one_square_per_dark_module(url):
    data = qr.qr_svg(url)
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    matrix = qr.qr_matrix(url)
    assert root.get("viewBox") == f"0 0 {len(matrix)} {len(matrix)}"
    path = root.find("{http://www.w3.org/2000/svg}path").get("d")
    squares = re.findall(r"M(\d+) (\d+)h1v1h-1z", path)
    assert len(squares) == path.count("M") == sum(map(sum, matrix))
    drawn = [[False] * len(matrix) for _ in matrix]
    for x, y in squares:
        drawn[int(y)][int(x)] = True
    assert drawn == matrix
    # Rasterised, the SVG's squares read back to the URL too.
    box = 6
    image = Image.new("L", (len(matrix) * box,) * 2, 255)
    draw = ImageDraw.Draw(image)
    for x, y in squares:
        draw.rectangle((int(x) * box, int(y) * box, (int(x) + 1) * box - 1, (int(y) + 1) * box - 1), fill=0)
    assert decode_modules(sample(image, 4 * box, 4 * box, box, len(matrix) - 8)) == url


# --- posters --------------------------------------------------------------------------------------------------------

NAMES = ("Sở Văn hóa, Thể thao và Du lịch", "Quầy số 1", "Đánh giá tại quầy năm 2026 (Quyết định 766)")


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_poster_png_has_the_page_size_at_300_dpi_and_carries_the_code(size):
    data = qr.poster(URLS[0], *NAMES, size=size, format="png")
    image = Image.open(io.BytesIO(data))
    assert image.size == qr.PAGE_SIZES[size]
    assert [round(value) for value in image.info["dpi"]] == [300, 300]
    assert decode_poster(image.convert("RGB")) == URLS[0]


@pytest.mark.parametrize(("size", "points"), [("A4", (595, 842)), ("A5", (420, 595))])
def test_poster_pdf_page_size_in_points(size, points):
    data = qr.poster(URLS[0], *NAMES, size=size, format="pdf")
    assert data.startswith(b"%PDF-")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert len(boxes) == 1, "one page"
    width, height = (float(value) for value in boxes[0])
    assert abs(width - points[0]) <= 1 and abs(height - points[1]) <= 1


def test_long_names_are_wrapped_inside_the_margins():
    name = "Trung tâm Phục vụ hành chính công tỉnh Minh Họa – Bộ phận tiếp nhận và trả kết quả " * 3
    block = qr.fitted(name, 104, 2140, 3, bold=True)
    assert len(block.lines) <= 3
    assert all(block.face.getlength(line) <= 2140 for line in block.lines)
    assert " ".join(block.lines) == qr.nfc(" ".join(name.split()))
    image = qr.poster_image(URLS[1], name, "Quầy tiếp nhận hồ sơ đất đai số 12", name, "A5")
    assert decode_poster(image) == URLS[1]


def test_posters_normalise_text_to_nfc():
    decomposed = [unicodedata.normalize("NFD", text) for text in NAMES]
    assert decomposed != list(NAMES)
    same = ImageChops.difference(qr.poster_image(URLS[0], *decomposed, "A5"), qr.poster_image(URLS[0], *NAMES, "A5"))
    assert same.getbbox() is None


def vietnamese_letters() -> list[str]:
    """Every Vietnamese letter, lower and upper case: 12 vowels × 6 tones, đ, and the plain consonants."""
    vowels = "aăâeêioôơuưy"
    tones = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]  # huyền, sắc, hỏi, ngã, nặng
    letters = [unicodedata.normalize("NFC", vowel + tone) for vowel in vowels for tone in tones]
    letters += list("đbcdghklmnpqrstvx")
    return letters + [letter.upper() for letter in letters]


@pytest.mark.parametrize("bold", [False, True])
def test_every_vietnamese_letter_has_a_real_glyph(bold):
    from fontTools.ttLib import TTFont

    letters = vietnamese_letters()
    assert len(letters) == 2 * (72 + 17) and all(len(letter) == 1 for letter in letters)  # NFC: one code point each
    cmap = TTFont(str(qr.font_path(bold))).getBestCmap()
    missing = "\U0010fffd"
    assert ord(missing) not in cmap
    assert [letter for letter in letters if ord(letter) not in cmap] == []

    face = qr.font(64, bold)

    def rendering(text: str) -> Image.Image:
        image = Image.new("L", (140, 140), 0)
        ImageDraw.Draw(image).text((70, 70), text, font=face, fill=255, anchor="mm")
        return image

    notdef = rendering(missing)
    for text in [*letters, *"Ý KIẾN, Hồ sơ, Quầy số 1, ỹ ữ ặ".replace(" ", "").replace(",", "")]:
        glyph = rendering(text)
        assert glyph.getbbox() is not None, text
        assert ImageChops.difference(glyph, notdef).getbbox() is not None, f"{text!r} renders as .notdef"


def test_slugs_are_ascii_file_names():
    assert qr.slug("SO01-Q1") == "SO01-Q1"
    assert qr.slug("Quầy số 1/Đất đai") == "Quay-so-1-Dat-dai"
    assert qr.slug("../../etc") == "etc"
    assert qr.slug("ỹ") == "y" and qr.slug("日本") == "counter"


def test_zip_of_posters_names_and_contents():
    entries = [qr.PosterEntry(URLS[0], "SO01-Q1", "Quầy số 1", NAMES[0], NAMES[2]),
               qr.PosterEntry(URLS[1], "Quầy/1", "Quầy số 2", NAMES[0], NAMES[2]),
               qr.PosterEntry(URLS[1], "Quầy:1", "Quầy số 3", NAMES[0], NAMES[2])]
    with zipfile.ZipFile(io.BytesIO(qr.zip_of_posters(entries, size="A5"))) as archive:
        names = archive.namelist()
        assert names == ["SO01-Q1.png", "SO01-Q1.pdf", "Quay-1.png", "Quay-1.pdf", "Quay-1-2.png", "Quay-1-2.pdf"]
        image = Image.open(io.BytesIO(archive.read("Quay-1.png")))
        assert image.size == qr.PAGE_SIZES["A5"]
        assert decode_poster(image.convert("RGB")) == URLS[1]


def test_expiry_parsing():
    assert parse_expiry("31/12/2026", today=dt.date(2026, 1, 1)) == dt.date(2026, 12, 31)
    assert parse_expiry(None) is None
    for wrong in ("2026-12-31", "31/13/2026", "1/1/2020"):
        with pytest.raises(QrCommandError):
            parse_expiry(wrong, today=dt.date(2026, 1, 1))


# --- `survey qr` on the demo database ---------------------------------------------------------------------------------


async def test_unit_gives_a_zip_with_one_png_and_one_pdf_per_active_counter(app, settings):
    from survey_app.core.tables import Counter, Unit

    unit = await Unit.select(Unit.id).where(Unit.code == "SO01").first()
    active = await Counter.select(Counter.code).where((Counter.unit == unit["id"]) & (Counter.active == True))  # noqa: E712
    result = await build(settings, "QUAY-2026", unit_code="SO01", size="A5")
    assert result.format == "zip" and sorted(result.counters) == sorted(row["code"] for row in active)
    with zipfile.ZipFile(io.BytesIO(result.data)) as archive:
        names = archive.namelist()
        assert sorted(names) == sorted(f"{row['code']}{suffix}" for row in active for suffix in (".png", ".pdf"))
        poster = Image.open(io.BytesIO(archive.read("SO01-Q2.png"))).convert("RGB")
    url = decode_poster(poster)
    assert url == form_url(settings.base_url, settings.signing_keys, "SO01-Q2", "QUAY-2026")
    token = verify(settings.signing_keys, url.rsplit("/q/", 1)[1], dt.date.today())
    assert (token.counter_code, token.campaign_code) == ("SO01-Q2", "QUAY-2026")


async def test_inactive_counters_are_left_out_and_refused(app, settings):
    from survey_app.core.tables import Counter, Unit

    unit = Unit(code="QRTEST", name="Đơn vị thử mã QR", level="xa")
    await unit.save()
    counters = [Counter(code="QRTEST-Q1", unit=unit.id, name="Quầy 1"),
                Counter(code="QRTEST-Q2", unit=unit.id, name="Quầy 2 (nghỉ)", active=False)]
    await Counter.insert(*counters)
    try:
        result = await build(settings, "QUAY-2026", unit_code="QRTEST")
        assert result.counters == ["QRTEST-Q1"]
        with zipfile.ZipFile(io.BytesIO(result.data)) as archive:
            assert archive.namelist() == ["QRTEST-Q1.png", "QRTEST-Q1.pdf"]
        with pytest.raises(QrCommandError, match="inactive"):
            await build(settings, "QUAY-2026", counter_code="QRTEST-Q2")
    finally:
        await Counter.delete().where(Counter.unit == unit.id)
        await Unit.delete().where(Unit.id == unit.id)


async def test_single_counter_code_poster_and_expiry(app, settings):
    expires = dt.date.today() + dt.timedelta(days=30)
    svg = await build(settings, "QUAY-2026", counter_code="SO01-Q1", format="svg", expires_on=expires)
    root = ET.fromstring(svg.data)
    assert root.tag.endswith("svg")
    code = await build(settings, "QUAY-2026", counter_code="SO01-Q1", format="png", code_only=True,
                       expires_on=expires)
    url = decode_png(code.data)
    assert url == form_url(settings.base_url, settings.signing_keys, "SO01-Q1", "QUAY-2026", expires)
    assert verify(settings.signing_keys, url.rsplit("/q/", 1)[1], dt.date.today()).expires_on == expires
    pdf = await build(settings, "QUAY-2026", counter_code="SO01-Q1", format="pdf", size="a4")
    assert pdf.data.startswith(b"%PDF-")


@pytest.mark.parametrize(("options", "message"), [
    ({"counter_code": "NO-SUCH"}, "no counter with code 'NO-SUCH'"),
    ({"unit_code": "NO-SUCH"}, "no unit with code 'NO-SUCH'"),
    ({"campaign_code": "NO-SUCH", "counter_code": "SO01-Q1"}, "no campaign with code 'NO-SUCH'"),
    ({"unit_code": "SO01", "format": "png"}, "use --format zip"),
    ({"counter_code": "SO01-Q1", "unit_code": "SO01"}, "not both"),
    ({"counter_code": "SO01-Q1", "size": "A3"}, "--size"),
])
async def test_unknown_or_contradictory_options_fail_with_a_message(app, settings, options, message):
    options = {"campaign_code": "QUAY-2026", **options}
    with pytest.raises(QrCommandError, match=re.escape(message)):
        await build(settings, **options)


def test_command_writes_a_unit_zip_and_writes_nothing_on_an_unknown_counter(cli_env, tmp_path):
    from survey_app.cli import app as cli

    target = tmp_path / "out" / "so02.zip"
    result = CliRunner().invoke(cli, ["qr", "--campaign", "QUAY-2026", "--unit", "SO02", "--size", "A5",
                                      "-o", str(target)], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "2 counters" in result.output
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["SO02-Q1.pdf", "SO02-Q1.png", "SO02-Q2.pdf", "SO02-Q2.png"]

    missing = tmp_path / "missing.png"
    result = CliRunner().invoke(cli, ["qr", "--campaign", "QUAY-2026", "--counter", "NO-SUCH", "-o", str(missing)],
                                env=cli_env)
    assert result.exit_code == 1
    assert "no counter with code 'NO-SUCH'" in result.output
    assert list(tmp_path.iterdir()) == [tmp_path / "out"] and not missing.exists()
