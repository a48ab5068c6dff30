"""Real headless Chromium at 360×640: scan URL → fill → submit → the unit's index moves as the rule says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from survey_app.core.settings import Settings
from survey_app.core.tokens import form_url
from tests.app.test_dockerfile import free_port, wait_ready
from tests.conftest import CHROMIUM, require_tool

SURVEY = Path(sys.executable).parent / "survey"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class LiveServer(str):
    """The server's base URL, carrying what `survey demo` printed (its sample invitation codes)."""

    def __new__(cls, base: str, demo_output: str) -> "LiveServer":
        server = super().__new__(cls, base)
        server.demo_output = demo_output
        return server


@pytest.fixture(scope="module")
def live_server(app, database_url, tmp_path_factory):
    """`survey demo` loads the data, `survey serve` serves it: the two commands a newcomer runs."""
    url = database_url if not database_url.startswith("sqlite") else f"sqlite:///{tmp_path_factory.mktemp('live') / 'live.db'}"
    # stored_count reads the public index: RESULTS_MAX_AGE_SECONDS=0 makes it count every stored answer at once
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "browser-test", "RESULTS_MAX_AGE_SECONDS": "0"}
    demo = subprocess.run([str(SURVEY), "demo", "--no-serve"], env=env, check=True, capture_output=True, text=True,
                          timeout=300)
    port = free_port()
    server = subprocess.Popen([str(SURVEY), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    assert wait_ready(f"{base}/readyz", server)
    yield LiveServer(base, demo.stdout)
    server.terminate()
    server.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    require_tool(CHROMIUM, "Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def expected_overall_after_one_all_satisfied(index: dict) -> float:
    """Each criterion (one item each here) gains one satisfied valid answer; means go up the tree."""
    factor_values = []
    for factor in index["factors"]:
        criteria = [
            (round(c["value"] * c["valid_count"] / 100) + 1) / (c["valid_count"] + 1) * 100 for c in factor["criteria"]
        ]
        factor_values.append(sum(criteria) / len(criteria))
    return sum(factor_values) / len(factor_values)


def test_citizen_rates_a_counter_on_a_phone(live_server, browser):
    from questionnaires import load_shipped

    api = f"{live_server}/api/v1/units/H01/index?campaign=QUAY-2026"
    before = httpx.get(api).json()["index"]
    page = browser.new_page(viewport={"width": 360, "height": 640}, java_script_enabled=False)
    keys = Settings.from_env({"SECRET_KEY": "browser-test"}).signing_keys
    page.goto(form_url(live_server, keys, "H01-Q1", "QUAY-2026"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling on a phone
    for item in load_shipped()["counter_rating"].items:
        if item.type == "rating5":
            page.check(f'input[name="{item.key}"][value="5"]')
        elif item.type == "domain":
            page.select_option(f'select[name="{item.key}"]', "ho_tich")
    page.click("button[type=submit]")
    assert "Đã gửi" in page.text_content("#sent")

    page.goto(f"{live_server}/results/H01?campaign=QUAY-2026")
    shown = page.text_content("#overall-index")
    after = httpx.get(api).json()["index"]
    assert after["response_count"] == before["response_count"] + 1
    assert after["overall"] == pytest.approx(expected_overall_after_one_all_satisfied(before))
    assert shown == f"{after['overall']:.1f}".replace(".", ",") + " %"
    page.close()


def stored_count(live_server: str, unit_code: str) -> int:
    return httpx.get(f"{live_server}/api/v1/units/{unit_code}/index?campaign=QUAY-2026").json()["index"]["response_count"]


def open_form(browser, live_server: str, counter_code: str, query: str = ""):
    keys = Settings.from_env({"SECRET_KEY": "browser-test"}).signing_keys
    page = browser.new_page(viewport={"width": 360, "height": 640})
    page.goto(form_url(live_server, keys, counter_code, "QUAY-2026") + query)
    return page


def answer_all(page, rating: str = "4") -> None:
    from questionnaires import load_shipped

    for item in load_shipped()["counter_rating"].items:
        if item.type == "rating5":
            page.check(f'input[name="{item.key}"][value="{rating}"]')
        elif item.type == "domain":
            page.select_option(f'select[name="{item.key}"]', "dat_dai")


def on_first_post(page, first) -> list:
    """`first(route)` handles the form's first POST, later ones reach the server; the posted bodies, in order."""
    posts = []

    def handle(route):
        if route.request.method != "POST":
            return route.continue_()
        posts.append(route.request.post_data)
        return first(route) if len(posts) == 1 else route.continue_()

    page.route("**/q/*", handle)
    return posts


def test_lost_acknowledgement_is_retried_and_stored_exactly_once(live_server, browser):
    """The first post reaches the server but its answer is lost on the way back; the script retries."""
    before = stored_count(live_server, "H02")
    page = open_form(browser, live_server, "H02-Q1")

    def lose_the_answer(route):
        route.fetch()  # the server stores it…
        route.abort("connectionreset")  # …but the phone never hears back

    posts = on_first_post(page, lose_the_answer)
    answer_all(page)
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks*", timeout=20000)
    assert "Đã gửi" in page.text_content("#sent")
    assert len(posts) >= 2 and len(set(posts)) == 1  # the retry carried the same idempotency key and answers
    assert stored_count(live_server, "H02") == before + 1
    page.close()


def test_a_server_that_could_not_store_keeps_the_answers_and_retries(live_server, browser):
    """503 (database unavailable: tests/app/test_database_outage.py): the page says the answers were not saved
    and are kept, the form still holds them, and the retry is stored once."""
    before = stored_count(live_server, "H04")
    page = open_form(browser, live_server, "H04-Q1")
    posts = on_first_post(page, lambda route: route.fulfill(
        status=503, content_type="text/html; charset=utf-8", body="<p>Câu trả lời của ông/bà chưa được lưu.</p>"))
    answer_all(page)
    page.click("button[type=submit]")
    page.wait_for_function("document.getElementById('send-status').textContent.includes('Máy chủ chưa lưu')")
    assert page.is_checked('input[name="reception"][value="4"]')  # the answers are still on the page
    page.wait_for_url("**/thanks*", timeout=20000)
    assert len(posts) == 2 and posts[0] == posts[1]  # the same idempotency key and answers
    assert stored_count(live_server, "H04") == before + 1
    page.close()


def test_offline_submission_waits_and_says_so_then_sends(live_server, browser):
    before = stored_count(live_server, "H03")
    page = open_form(browser, live_server, "H03-Q1")
    answer_all(page)
    page.context.set_offline(True)
    page.click("button[type=submit]")
    page.wait_for_selector("#send-status:not([hidden])")
    assert "mất kết nối" in page.text_content("#send-status")
    assert stored_count(live_server, "H03") == before
    page.context.set_offline(False)
    page.wait_for_url("**/thanks*", timeout=40000)
    assert stored_count(live_server, "H03") == before + 1
    page.close()


def test_reload_mid_form_restores_the_answers(live_server, browser):
    page = open_form(browser, live_server, "H04-Q1")
    answer_all(page, rating="2")
    key_before = page.input_value('input[name="_key"]')
    page.reload()
    assert page.is_checked('input[name="reception"][value="2"]')
    assert page.input_value('input[name="_key"]') == key_before  # a retry after reload stays idempotent
    page.close()


def test_kiosk_returns_to_a_blank_form_after_submitting(live_server, browser):
    page = open_form(browser, live_server, "H05-Q1", "?kiosk=1")
    answer_all(page, rating="5")
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks*kiosk=1*", timeout=20000)
    page.wait_for_url("**/q/*?kiosk=1*", timeout=20000)
    page.wait_for_selector("form[data-kiosk]")
    assert not page.is_checked('input[name="reception"][value="5"]')  # nothing left on screen for the next person
    page.close()


def test_why_question_appears_only_after_a_low_rating(live_server, browser):
    page = open_form(browser, live_server, "H06-Q1")
    assert not page.is_visible("#item-why")
    page.check('input[name="reception"][value="2"]')
    assert page.is_visible("#item-why")
    page.check('input[name="reception"][value="5"]')
    assert not page.is_visible("#item-why")
    page.close()


def test_paged_questionnaire_shows_one_section_at_a_time(live_server, browser):
    keys = Settings.from_env({"SECRET_KEY": "browser-test"}).signing_keys
    page = browser.new_page(viewport={"width": 360, "height": 640})
    page.goto(form_url(live_server, keys, "H01-Q1", "SIPAS-2026"))
    sections = page.locator("form section")
    visible = [index for index in range(sections.count()) if sections.nth(index).is_visible()]
    assert visible == [0] and sections.count() > 2
    assert not page.is_visible("button[type=submit]")
    from questionnaires import load_shipped

    for item in load_shipped()["sipas_citizen"].sections[0].items:  # the section is checked before moving on
        if item.required and item.type == "domain":
            page.select_option(f"#q-{item.key}", item.choices[0].value)
        elif item.required:
            page.check(f"#q-{item.key}-1")
    page.click("text=Tiếp theo")
    assert sections.nth(1).is_visible() and not sections.nth(0).is_visible()
    page.close()
