"""Real headless Chromium: an analyst prints a paper copy, two operators key it with the keyboard only (the copy
number, then each answer's digits, Enter to move on); the identical entries store one paper response. axe-core
finds no serious or critical problem on any paper page."""

from __future__ import annotations

import os
import re

from questionnaires import load_shipped
from tests.app.test_paper import keyed_copy
from tests.browser.test_accessibility import SCREENSHOTS, checked, problems_on, signed_in_page
from tests.browser.test_phone_flow import browser, live_server  # noqa: F401 (module fixtures)
from tests.browser.test_staff_walkthrough import pdf_text

CAMPAIGN = "SIPAS-2026"


def print_one_copy(page, live_server: str) -> str:  # noqa: F811
    page.goto(f"{live_server}/analyst/campaigns/{CAMPAIGN}/paper")
    page.select_option("#unit", "SO01")
    page.fill("#copies", "1")
    with page.expect_download() as download_info:
        page.click("form.stacked button[type=submit]")
    found = re.search(r"Phiếu số: (\d{6})", pdf_text(download_info.value.path()))
    assert found, "the printed copy carries no number"
    return found.group(1)


def key_with_the_keyboard(page, live_server: str, serial: str, keyed: dict, item_keys: list[str]) -> str:  # noqa: F811
    """Only keys pressed: the copy number and Enter, then each answer (or nothing) and Enter; the notice shown."""
    page.goto(f"{live_server}/staff/paper/{CAMPAIGN}")
    assert page.evaluate("document.activeElement.id") == "copy"
    page.keyboard.type(serial)
    page.keyboard.press("Enter")
    page.wait_for_selector("#keying-form")
    assert page.text_content("#copy-label") == serial
    for index, key in enumerate(item_keys):
        assert page.evaluate("document.activeElement.id") == f"k-{key}", f"focus is not on question {index + 1}"
        if keyed.get(key):
            page.keyboard.type(keyed[key])
        if index + 1 < len(item_keys):
            page.keyboard.press("Enter")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # Enter on the last answer sends the entry
    return page.text_content("#notice")


def test_two_operators_key_a_printed_copy_with_the_keyboard_only(live_server, browser):  # noqa: F811
    definition = load_shipped()["sipas_citizen"]
    keyed, item_keys = keyed_copy(definition), [item.key for item in definition.items]
    analyst = signed_in_page(browser, live_server, "analyst")
    found = checked(analyst, f"{live_server}/analyst/campaigns/{CAMPAIGN}/paper", "paper page")
    serial = print_one_copy(analyst, live_server)
    found += checked(analyst, f"{live_server}/staff/paper", "paper campaigns")
    found += checked(analyst, f"{live_server}/staff/paper/{CAMPAIGN}?copy={serial}", "keying form")
    analyst.set_viewport_size({"width": 1280, "height": 800})

    notice = key_with_the_keyboard(analyst, live_server, serial, keyed, item_keys)
    assert f"Đã lưu lần nhập 1 của phiếu số {serial}" in notice
    found += problems_on(analyst, "keying page after an entry")
    analyst.goto(f"{live_server}/staff/paper/{CAMPAIGN}?copy={serial}")
    assert "lần nhập kia phải do một người khác làm" in analyst.text_content("#copy-error")
    found += problems_on(analyst, "keying page refusing the same operator")

    admin = signed_in_page(browser, live_server, "admin")
    admin.set_viewport_size({"width": 1280, "height": 800})
    notice = key_with_the_keyboard(admin, live_server, serial, keyed, item_keys)
    assert f"Phiếu số {serial}: các lần nhập khớp nhau, đã lưu một phiếu trả lời" in notice
    analyst.goto(f"{live_server}/analyst/campaigns/{CAMPAIGN}/paper")
    assert int(analyst.text_content("#paper-counts tbody td:nth-child(4)")) >= 1
    for page in (analyst, admin):
        page.context.close()
    assert found == []


def test_the_keying_page_works_without_javascript_tab_to_move_enter_to_save(live_server, browser):  # noqa: F811
    definition = load_shipped()["counter_rating"]  # the demo's QUAY-2026 campaign: a short form
    analyst = signed_in_page(browser, live_server, "analyst")
    analyst.goto(f"{live_server}/analyst/campaigns/QUAY-2026/paper")
    analyst.select_option("#unit", "SO01")
    analyst.fill("#copies", "1")
    with analyst.expect_download() as download_info:
        analyst.click("form.stacked button[type=submit]")
    serial = re.search(r"Phiếu số: (\d{6})", pdf_text(download_info.value.path())).group(1)
    cookies = analyst.context.cookies()
    analyst.context.close()

    context = browser.new_context(java_script_enabled=False, bypass_csp=True)
    context.add_cookies(cookies)  # the same signed-in session, in a browser without JavaScript
    page = context.new_page()
    page.goto(f"{live_server}/staff/paper/QUAY-2026")
    page.keyboard.type(serial)
    page.keyboard.press("Enter")
    page.wait_for_selector("#keying-form")
    keyed, one_line = keyed_copy(definition), [item.key for item in definition.items if item.type != "text"]
    for index, key in enumerate(one_line):  # the form's last answer is a text box, where Enter is a new line
        assert page.evaluate("document.activeElement.id") == f"k-{key}"
        page.keyboard.type(keyed.get(key, ""))
        if index + 1 < len(one_line):
            page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"Đã lưu lần nhập 1 của phiếu số {serial}" in page.text_content("#notice")
    context.close()


def start_run(page, live_server: str, copies: int) -> None:  # noqa: F811
    page.goto(f"{live_server}/analyst/campaigns/{CAMPAIGN}/paper")
    page.select_option("#unit", "SO02")
    page.fill("#copies", str(copies))
    with page.expect_navigation():
        page.click("form.stacked button[type=submit]")


def test_a_large_print_run_shows_its_progress_and_a_second_start_says_why_it_waits(live_server, browser,  # noqa: F811
                                                                                  tmp_path):
    """More copies than a page prints at once: the run's page (waiting or rendering, then done) and the notice of a
    second start while it runs, at both widths, with no serious accessibility problem."""
    keep = os.environ.get("UPDATE_SCREENSHOTS") == "1"
    analyst = signed_in_page(browser, live_server, "analyst")
    start_run(analyst, live_server, 201)  # a five-page copy: about 20 s of rendering for the whole run
    run_url = analyst.url
    assert "/paper/runs/" in run_url and analyst.locator("#print-waiting, #print-progress").count() == 1
    found = checked(analyst, run_url, "print run")
    analyst.screenshot(path=str((SCREENSHOTS if keep else tmp_path) / "staff-print-run.png"))
    start_run(analyst, live_server, 201)
    assert analyst.url.split("?")[0] == run_url and analyst.locator("#print-busy").count() == 1
    found += checked(analyst, analyst.url, "second start while a run goes on")
    # the page is not reloaded: its status part is read again and swapped in place until the run ends
    analyst.wait_for_selector("#print-ready, #refusal", timeout=240_000)
    assert "201 phiếu" in analyst.text_content("#print-ready")
    assert analyst.get_attribute("#print-status", "aria-live") == "polite"
    found += checked(analyst, run_url, "print run done")
    analyst.context.close()
    assert found == []
