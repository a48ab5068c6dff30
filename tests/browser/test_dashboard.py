"""Real headless Chromium at 1280 px: the analyst signs in, opens a campaign's dashboard, sees the province index
the index API gives for the whole province; with UPDATE_SCREENSHOTS=1 the page is kept as
docs/screenshots/dashboard.png (otherwise in the test's own folder, so a run leaves the checkout as it was)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from survey_app.core.static_assets import StaticAssets
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


def report_progress_page(code: str, path: str) -> str:
    """The page a report still being built answers (survey_app/templates/report_progress.html, its content block
    and script filled in): served here by the test, as whether the server's build takes over a second varies."""
    root = Path(__file__).resolve().parents[2]
    template = (root / "survey_app" / "templates" / "report_progress.html").read_text(encoding="utf-8")
    content = template.split("{% block content %}")[1].split("{% endblock %}")[0]
    script = StaticAssets.load(root / "static").url("progress.js")
    content = content.replace("{{ code }}", code).replace("{{ path }}", path)
    return f'<!doctype html><html lang="vi"><head><script src="{script}" defer></script></head><body><main>{content}</main></body></html>'


def test_a_report_still_being_built_opens_once_it_is_ready_without_reloading_meanwhile(live_server, browser):  # noqa: F811
    path = "/analyst/campaigns/QUAY-2026/report.pdf"
    page = signed_in_page(browser, live_server, "analyst", "/analyst/campaigns/QUAY-2026/dashboard",
                          accept_downloads=True)
    asked = []

    def still_building_twice(route) -> None:
        asked.append(route.request.resource_type)
        if len(asked) <= 2:  # the click, then the page's first look: still being built
            route.fulfill(status=202, content_type="text/html; charset=utf-8", body=report_progress_page(
                "QUAY-2026", path))
        else:
            route.continue_()  # the server's report

    page.route(f"{live_server}{path}", still_building_twice)
    page.click(f'a[href="{path}"]')
    page.wait_for_selector("#report-progress")
    with page.expect_download(timeout=60_000) as download_info:  # the page opens the report once it is ready
        page.wait_for_selector("#report-status a >> text=Báo cáo đã xong", timeout=60_000)
    assert download_info.value.suggested_filename == "bao-cao-QUAY-2026.pdf"
    # the click, looks at the page (the server's own build may still take a look or two), and opening it once
    assert asked[0] == asked[-1] == "document" and set(asked[1:-1]) == {"fetch"} and len(asked) >= 4, asked
    page.context.close()
