"""Printable invitation slips: the codes, the Vietnamese instructions and a QR code that opens /o with the code."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata

import zxingcpp
from pypdf import PdfReader

import sampling
from sampling.codes import format_code, normalize_code
from survey_app.officials import draws
from survey_app.officials.slips import INSTRUCTIONS_EN, INSTRUCTIONS_VI, Slip, code_url, slips_pdf
from survey_app.core.sampling_tables import Invitation
from tests.app.test_sample_cli import make_campaign, province_rows, run_survey, write_frame

BASE_URL = "https://khaosat.example.gov.vn"
TITLE = "Khảo sát xã hội học PAR INDEX 2026 – khối sở, ban, ngành"


def pdf_text(pdf: bytes) -> str:
    """All text, NFC, every run of whitespace made one space (the slips wrap their lines)."""
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text))


def decoded_qr_codes(pdf: bytes) -> list[str]:
    """Every image placed in the PDF, read back by a real QR decoder (zxing-cpp)."""
    return [result.text for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images
            for result in zxingcpp.read_barcodes(image.image)]


def sample_slips(count: int) -> list[Slip]:
    return [Slip(code=sampling.generate_code(), unit_name="Sở Tài nguyên và Môi trường (SO01)",
                 role="lanh_dao_phong", staff_ref=f"ref{number:07d}", name=f"Nguyễn Thị Hằng {number}")
            for number in range(count)]


def test_slips_carry_codes_instructions_and_a_qr_code_that_opens_the_code_page():
    printed = sample_slips(10)
    pdf = slips_pdf(printed, TITLE, BASE_URL)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2  # 8 slips a page
    width, height = (float(value) for value in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    text = pdf_text(pdf)
    assert INSTRUCTIONS_VI.format(address=f"{BASE_URL}/o") in text
    assert INSTRUCTIONS_EN.format(address=f"{BASE_URL}/o") in text
    assert TITLE in text and "Sở Tài nguyên và Môi trường (SO01)" in text
    for slip in printed:
        assert format_code(slip.code) in text and f"Ref. {slip.staff_ref}" in text
        assert slip.name not in text  # names only when the analyst asks
    assert decoded_qr_codes(pdf) == [f"{BASE_URL}/o?code={normalize_code(slip.code)}" for slip in printed]


def test_names_are_printed_only_on_request():
    printed = sample_slips(2)
    text = pdf_text(slips_pdf(printed, TITLE, BASE_URL, with_names=True))
    assert all(slip.name in text for slip in printed)


def test_a_long_title_is_cut_with_an_ellipsis_not_run_into_the_code():
    text = pdf_text(slips_pdf(sample_slips(1), "Khảo sát rất dài " * 20, BASE_URL))
    assert "…" in text and "Mã khảo sát / Survey code" in text


async def test_the_code_page_fills_in_the_code_from_the_qr_link_without_starting(client):
    code = sampling.generate_code()
    page = await client.get(code_url("http://testserver", code).removeprefix("http://testserver"))
    assert page.status_code == 200 and f'value="{code}"' in page.text
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    assert "official_session" not in page.headers.get("set-cookie", "")


async def test_draw_writes_slips_and_the_slips_command_reprints_only_open_codes(settings, app, tmp_path):
    campaign = await make_campaign("SLIPS-CLI")
    frame = write_frame(tmp_path / "officials.csv", [row for row in province_rows(3, 3) if row[0] in ("SO01", "SO02")])
    codes_file, slips_file = tmp_path / "codes.csv", tmp_path / "slips.pdf"
    result = run_survey(settings, "draw", "--campaign", campaign, "--frame", str(frame), "--quota",
                        "lanh_dao_phong=2", "--quota", "cong_chuc=2", "--seed", "4", "--codes-out", str(codes_file),
                        "--slips", str(slips_file))
    assert result.returncode == 0, result.stderr
    assert f"wrote 8 slip(s) to {slips_file} (1 A4 page(s)" in result.stdout
    assert slips_file.stat().st_mode & 0o077 == 0
    with codes_file.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    pdf = slips_file.read_bytes()
    text = pdf_text(pdf)
    assert all(format_code(row["code"]) in text for row in rows)
    assert not any(row["name"] in text or row["staff_id"] in text for row in rows)
    assert "PAR INDEX SLIPS-CLI" in text and len(decoded_qr_codes(pdf)) == 8

    # One member replaced, one invitation spent: a reprint leaves both out and says so.
    await draws.replace(settings.secret_key, campaign, rows[0]["staff_ref"], "nghỉ dài hạn")
    spent = sampling.hash_code(draws.code_key(settings.secret_key), rows[1]["code"])
    await Invitation.update({Invitation.used_at: dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc)}).where(Invitation.code_hash == spent)
    reprint = tmp_path / "reprint.pdf"
    result = run_survey(settings, "slips", str(codes_file), "-o", str(reprint), "--names")
    assert result.returncode == 0, result.stderr
    assert "wrote 6 slip(s)" in result.stdout and "row 2: left out, code replaced" in result.stdout
    assert "row 3: left out, code used" in result.stdout
    text = pdf_text(reprint.read_bytes())
    assert rows[2]["name"] in text and format_code(rows[0]["code"]) not in text


async def test_slips_from_a_bad_codes_file_are_refused_row_by_row(settings, app, tmp_path):
    campaign = await make_campaign("SLIPS-BAD")
    frame = write_frame(tmp_path / "officials.csv", [("SO01", "cong_chuc", f"B{number}", "") for number in range(3)])
    stored = await draws.draw_and_store(settings.secret_key, campaign, frame, None, ["cong_chuc=2"], seed=8)
    rows = stored.slips.to_dict("records")
    rows[0]["code"] = "ABCD"  # malformed
    rows[1]["code"] = sampling.generate_code()  # well formed but not in this sample
    bad = tmp_path / "bad.csv"
    with bad.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    output = tmp_path / "never.pdf"
    result = run_survey(settings, "slips", str(bad), "-o", str(output))
    assert result.returncode == 1 and not output.exists()
    assert "row 2: Mã phải gồm 10 ký tự" in result.stderr
    assert "row 3: Mã không thuộc mẫu của đợt khảo sát này." in result.stderr

    missing_column = tmp_path / "nocode.csv"
    missing_column.write_text("campaign,unit\nSLIPS-BAD,SO01\n", encoding="utf-8")
    result = run_survey(settings, "slips", str(missing_column), "-o", str(output))
    assert result.returncode == 1 and "thiếu: code" in result.stderr
