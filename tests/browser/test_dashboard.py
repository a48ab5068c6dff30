"""Real headless Chromium at 1280 px: the analyst signs in, opens a campaign's dashboard, sees the province index
the index API gives for the whole province; with UPDATE_SCREENSHOTS=1 the page is kept as
docs/screenshots/dashboard.png (otherwise in the test's own folder, so a run leaves the checkout as it was)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from tests.browser.test_accessibility import signed_in_page
from tests.browser.test_phone_flow import browser, live_server  # noqa: F401 (module fixtures)

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "dashboard.png"


def test_analyst_signs_in_and_opens_the_dashboard(live_server, browser, tmp_path):  # noqa: F811
    page = signed_in_page(browser, live_server, "analyst", viewport={"width": 1280, "height": 900})
    page.click("text=Đợt khảo sát")
    page.click('a[href="/analyst/campaigns/QUAY-2026/dashboard"]')
    assert page.url.endswith("/analyst/campaigns/QUAY-2026/dashboard")
    shown = page.text_content("#province-index")
    province = httpx.get(f"{live_server}/api/v1/units/DEMO/index?campaign=QUAY-2026").json()["index"]["overall"]
    assert shown == f"{province:.1f}".replace(".", ",") + " %"
    assert page.evaluate("document.querySelectorAll('img.chart').length") == 2
    assert page.evaluate("Array.from(document.images).every(image => image.complete && image.naturalWidth > 0)")
    keep = os.environ.get("UPDATE_SCREENSHOTS") == "1"
    page.screenshot(path=str(SCREENSHOT if keep else tmp_path / SCREENSHOT.name), full_page=False)


def test_analyst_downloads_the_report_and_its_pdf_reads_in_vietnamese(live_server, browser):  # noqa: F811
    import unicodedata

    from pypdf import PdfReader

    page = signed_in_page(browser, live_server, "analyst", "/analyst/campaigns/QUAY-2026/dashboard",
                          accept_downloads=True)
    with page.expect_download(timeout=120_000) as download_info:
        page.click('a[href="/analyst/campaigns/QUAY-2026/report.pdf"]')
    download = download_info.value
    assert download.suggested_filename == "bao-cao-QUAY-2026.pdf"
    text = unicodedata.normalize("NFC", "".join(page_.extract_text() for page_ in PdfReader(download.path()).pages))
    assert "Báo cáo kết quả khảo sát mức độ hài lòng" in text
    assert "Sở Tư pháp" in text and "Xã An Hòa" in text
    page.context.close()
