"""Real headless Chromium, the staff side end to end: an analyst creates an officials' campaign, uploads the list
of officials, draws the sample, prints the slips; officials answer with printed codes; the analyst closes the
campaign (after its confirmation) and downloads the report. Then an administrator records that two communes
merged, and the district manager's trend carries the old commune's answers over to the new one."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from tests.browser.test_accessibility import signed_in_page
from tests.browser.test_phone_flow import browser, live_server  # noqa: F401 (module fixtures)

CAMPAIGN = "PAR-WEB-2026"


def sign_in(browser, live_server: str, username: str):  # noqa: F811
    return signed_in_page(browser, live_server, username, accept_downloads=True,
                          viewport={"width": 1280, "height": 900})


def pdf_text(path) -> str:
    from pypdf import PdfReader

    return unicodedata.normalize("NFC", "\n".join(page.extract_text() for page in PdfReader(path).pages))


def officials_file(folder) -> str:
    """One department's list: 6 heads of division and 5 civil servants, headers in Vietnamese."""
    path = folder / "danh-sach-can-bo.csv"
    rows = [f"SO05,{role},SO05-{role}-{n},Cán bộ {n}" for role, count in (("lanh_dao_phong", 6), ("cong_chuc", 5))
            for n in range(count)]
    path.write_text("Mã đơn vị,Chức vụ,Mã CB,Họ tên\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def create_and_draw(page, live_server: str, tmp_path) -> list[str]:  # noqa: F811
    today = dt.date.today()
    page.goto(f"{live_server}/analyst/campaigns/new")
    page.fill('input[name="code"]', CAMPAIGN)
    page.fill('input[name="name"]', "Điều tra xã hội học thử trên web")
    officials_form = page.locator('select[name="questionnaire"] option', has_text="par_index_so").first
    page.select_option('select[name="questionnaire"]', officials_form.get_attribute("value"))
    page.fill('input[name="starts_on"]', today.isoformat())
    page.fill('input[name="ends_on"]', (today + dt.timedelta(days=30)).isoformat())
    page.check('input[name="mode"][value="invitation"]')
    page.check('#unit-tree > ul > li > label > input[name="with_children"]')  # "chọn tất cả"
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(f"**/analyst/campaigns/{CAMPAIGN}")
    page.click("text=Mở nhận phiếu")
    assert page.text_content("#status") == "Đang mở"
    page.click("#draw-link")
    page.set_input_files("#file", officials_file(tmp_path))
    page.click("text=Tải lên và xem trước")
    assert page.input_value('select[name="map_role"]') == "Chức vụ"  # usual Vietnamese headers are recognised
    page.select_option('select[name="map_name"]', "Họ tên")
    page.fill("#quotas", "lanh_dao_phong=3, cong_chuc=3")
    page.click('button[value="preview"]')
    assert page.text_content("#draw-total") == "6"
    page.click('button[value="draw"]')
    assert "Đã rút 6 người" in page.text_content("#drawn")
    with page.expect_download() as download_info:
        page.click("#slips-link")
    text = pdf_text(download_info.value.path())
    codes = re.findall(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{2,4}\b", text)
    assert len(set(codes)) == 6, text
    return list(dict.fromkeys(codes))


def answer_as_official(browser, live_server: str, code: str) -> None:  # noqa: F811
    page = browser.new_page(viewport={"width": 360, "height": 800})
    page.goto(f"{live_server}/o")
    page.fill("#code", code)
    page.click("button[type=submit]")
    for _ in range(20):  # one page per section
        page.wait_for_load_state()
        if "/o/sent" in page.url:
            break
        for group in page.locator("fieldset .choices").all():
            options = group.locator("input")
            options.nth(min(3, options.count() - 1)).check()  # "4: hài lòng" where there is one
        page.click('button[value="next"], button[value="submit"]')
    assert "/o/sent" in page.url
    page.close()


def test_an_analyst_runs_an_officials_survey_from_the_browser(live_server, browser, tmp_path):  # noqa: F811
    analyst = sign_in(browser, live_server, "analyst")
    codes = create_and_draw(analyst, live_server, tmp_path)
    for code in codes[:5]:  # officials' answers are published for 5 or more in a unit
        answer_as_official(browser, live_server, code)
    analyst.goto(f"{live_server}/analyst/campaigns/{CAMPAIGN}")
    analyst.click("#close-campaign")
    assert "không mở lại được" in analyst.text_content("#consequence")
    analyst.fill("#reason", "Đủ số phiếu trả lời")
    analyst.click("button.danger")
    assert analyst.text_content("#status") == "Đã đóng"
    probe = analyst.request.get(f"{live_server}/analyst/campaigns/{CAMPAIGN}/report.pdf")
    assert probe.status == 200, (probe.status, probe.text()[:3000])
    with analyst.expect_download(timeout=120_000) as download_info:
        analyst.click(f'a[href="/analyst/campaigns/{CAMPAIGN}/report.pdf"]')
    report = pdf_text(download_info.value.path())
    assert "điều tra xã hội học" in report and "Sở Công Thương" in report
    analyst.context.close()


def test_an_administrator_merges_two_communes_and_the_trend_carries_over(live_server, browser):  # noqa: F811
    admin = sign_in(browser, live_server, "admin")
    admin.goto(f"{live_server}/admin/units")
    admin.click("text=Sáp nhập, chia tách đơn vị")
    admin.fill("#predecessors", "H01X2")
    admin.fill("#successor", "H01X1")
    admin.fill("#effective_on", (dt.date.today() + dt.timedelta(days=1)).isoformat())
    admin.click("form.stacked button[type=submit]")
    assert "Phường Thạch Thang sáp nhập vào Phường Hải Châu" in admin.text_content(".notice")
    admin.context.close()
    manager = sign_in(browser, live_server, "h01")
    manager.goto(f"{live_server}/manager/units/H01X1?campaign=QUAY-2026")
    row = manager.text_content('#manager-trend tr[data-campaign="QUAY-2026"]')
    assert "gồm số liệu của Phường Thạch Thang" in row
    assert "Phường Thạch Thang" in manager.text_content("#unit-history")
    manager.context.close()
