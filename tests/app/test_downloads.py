"""Analysts download a campaign's responses and its report from the workspace; others cannot."""

from __future__ import annotations

import io
import unicodedata

import openpyxl
from pypdf import PdfReader

from survey_app.core.tables import Campaign, Response


async def stored_count(code: str) -> int:
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == code).first()
    return await Response.count().where(Response.campaign == campaign["id"])


async def test_csv_streams_every_response_with_a_bom(analyst):
    response = await analyst.get("/analyst/campaigns/QUAY-2026/export/csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="QUAY-2026.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) - 1 == await stored_count("QUAY-2026")


async def test_xlsx_opens_with_data_and_codebook(analyst):
    response = await analyst.get("/analyst/campaigns/QUAY-2026/export/xlsx")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    assert {"du_lieu", "so_ma"} <= set(workbook.sheetnames)
    assert workbook["du_lieu"].max_row - 1 == await stored_count("QUAY-2026")


async def test_report_pdf_carries_vietnamese_text(analyst):
    response = await analyst.get("/analyst/campaigns/QUAY-2026/report.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = unicodedata.normalize("NFC", "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages))
    assert "Báo cáo kết quả khảo sát mức độ hài lòng" in text
    assert "Sở Tư pháp" in text and "Xã An Hòa" in text


async def test_unknown_campaign_and_format_get_a_message_not_a_file(analyst):
    unknown = await analyst.get("/analyst/campaigns/KHONG-CO/export/csv")
    assert unknown.status_code == 422 and "KHONG-CO" in unknown.text
    assert "attachment" not in unknown.headers.get("content-disposition", "")
    bad_format = await analyst.get("/analyst/campaigns/QUAY-2026/export/exe")
    assert bad_format.status_code == 422 and "csv" in bad_format.text
