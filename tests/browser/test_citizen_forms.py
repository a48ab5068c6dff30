"""The citizen's forms in a real headless Chromium at 360×640 (issue #19): one-tap scales, a section checked before
moving on, the SIPAS form in at most 60 taps, and axe-core with no serious or critical violation on any citizen page."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from questionnaires import load_shipped
from survey_app.core.settings import Settings
from survey_app.core.tokens import form_url
from tests.browser.test_phone_flow import browser, live_server  # noqa: F401 (fixtures)

PHONE = {"width": 360, "height": 640}
MOST_TAPS = 60


def citizen_url(live_server: str, counter: str, campaign: str) -> str:  # noqa: F811
    keys = Settings.from_env({"SECRET_KEY": "browser-test"}).signing_keys
    return form_url(live_server, keys, counter, campaign)


class Person:
    """Answers like a person with one finger: every click is one tap, a drop-down two (open, choose)."""

    def __init__(self, page):
        self.page, self.taps = page, 0

    def tap(self, selector: str) -> None:
        self.page.click(selector)
        self.taps += 1

    def choose(self, selector: str, value: str) -> None:
        self.page.select_option(selector, value)
        self.taps += 2

    def answer(self, item, rating: str = "4") -> None:
        if item.type == "rating5":
            self.tap(f'label[for="q-{item.key}-{rating}"]')
        elif item.type == "domain":
            self.choose(f"#q-{item.key}", item.choices[0].value)
        elif item.type in ("single", "multiple"):
            value = "co" if item.key == "gave_feedback" else item.choices[0].value  # the longest path: every question
            self.tap(f'#item-{item.key} input[value="{value}"]')


def serious(page) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in found if v["impact"] in ("serious", "critical")]


def test_a_rating_is_one_row_of_48_px_targets_and_works_from_the_keyboard(live_server, browser):  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    page.goto(citizen_url(live_server, "H01-Q1", "QUAY-2026"))
    boxes = [page.locator(f'label[for="q-reception-{n}"]').bounding_box() for n in range(1, 6)]
    assert len({round(box["y"]) for box in boxes}) == 1  # one row, inline CSS applied under the CSP
    assert all(box["width"] >= 48 and box["height"] >= 48 for box in boxes)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.focus("#q-reception-3")
    page.keyboard.press("ArrowRight")
    assert page.is_checked("#q-reception-4")
    assert page.is_hidden("text=Góp ý")  # its only question shows after a low rating
    page.click('label[for="q-publicity-1"]')
    assert page.is_visible("text=Góp ý")
    page.close()


def test_a_section_is_checked_before_moving_on_with_one_summary_that_clears(live_server, browser):  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    page.goto(citizen_url(live_server, "H01-Q1", "SIPAS-2026"))
    assert page.is_visible("text=Phần 1/9") and page.is_hidden("text=Phần 2/9")
    page.click("text=Tiếp theo")
    assert page.is_visible("text=Phần 1/9")  # not moved on
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator('[role="alert"]').count() == 1
    required = [i for i in load_shipped()["sipas_citizen"].sections[0].items if i.required]
    assert page.locator("#error-summary li").count() == len(required) == 6
    page.click("#error-summary a >> nth=1")  # "Giới tính": to the question, focus on its first answer
    assert page.evaluate("document.activeElement.id") == "q-gender-1"
    page.click('#item-gender input[value="nu"]')
    assert page.locator("#item-gender .error").count() == 0 and page.locator("#error-summary li").count() == 5
    page.close()


def test_the_sipas_form_is_answered_in_at_most_60_taps(live_server, browser):  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    page.goto(citizen_url(live_server, "H01-Q1", "SIPAS-2026"))
    person = Person(page)
    sections = load_shipped()["sipas_citizen"].sections
    for number, section in enumerate(sections, start=1):
        assert page.is_visible(f"text=Phần {number}/{len(sections)}")
        for item in section.items:
            if item.required and page.is_visible(f"#item-{item.key}"):
                person.answer(item)
        person.tap("text=Tiếp theo" if number < len(sections) else "button[type=submit]")
    page.wait_for_url("**/thanks*")
    assert "cảm ơn ông/bà" in page.text_content("#sent")
    criteria = sum(len(f.criteria) for f in load_shipped()["sipas_citizen"].scoring.factors)
    print(f"SIPAS form: {person.taps} taps ({criteria} criteria)")
    assert criteria == 22 and person.taps <= MOST_TAPS
    page.close()


def citizen_pages(live_server: str) -> dict[str, str]:  # noqa: F811
    counter = citizen_url(live_server, "H03-Q1", "QUAY-2026")
    return {"counter form": counter, "counter form, English": counter + "?lang=en",
            "SIPAS form": citizen_url(live_server, "H03-Q1", "SIPAS-2026"), "privacy notice": f"{live_server}/privacy",
            "officials' code page": f"{live_server}/o", "not found": f"{live_server}/q/not-a-token"}


@pytest.mark.parametrize("name", ["counter form", "counter form, English", "SIPAS form", "privacy notice",
                                  "officials' code page", "not found"])
def test_no_serious_accessibility_violation_at_360_px(live_server, browser, name):  # noqa: F811
    page = browser.new_page(viewport=PHONE)
    page.goto(citizen_pages(live_server)[name])
    assert serious(page) == []
    page.close()


def test_no_serious_accessibility_violation_with_errors_and_on_the_thank_you_page(live_server, browser):  # noqa: F811
    """The server's error summary (an empty post, as a phone without JavaScript sends it), then the thank-you page.
    axe runs in the page, so the page keeps its script; the route turns the page load into that post."""
    page = browser.new_page(viewport=PHONE)
    url = citizen_url(live_server, "H03-Q1", "QUAY-2026")
    page.route(url, lambda route: route.continue_(
        method="POST", post_data="_lang=vi", headers={**route.request.headers,
                                                      "content-type": "application/x-www-form-urlencoded"}))
    page.goto(url)
    page.unroute(url)
    assert re.search(r"Vui lòng trả lời", page.text_content("#error-summary"))
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert serious(page) == []
    for item in load_shipped()["counter_rating"].items:
        if item.type == "rating5":
            page.check(f'#q-{item.key}-5')
        elif item.type == "domain":
            page.select_option(f"#q-{item.key}", "ho_tich")
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks*")
    assert "Đã gửi" in page.text_content("#sent")
    assert serious(page) == []
    page.close()
