"""axe-core (axe-playwright-python) on every citizen, official and staff page at 360 px and 1280 px in real headless
Chromium: no serious or critical violation, and no page wider than the phone's screen. With UPDATE_SCREENSHOTS=1
the main staff pages are kept in docs/screenshots/ (otherwise in the test's own folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from survey_app.core.settings import Settings
from survey_app.core.tokens import form_url
from tests.browser.test_phone_flow import answer_all, browser, live_server  # noqa: F401 (module fixtures)

WIDTHS = (360, 1280)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SERIOUS = ("serious", "critical")
STAFF_PAGES = {
    "analyst": ["/staff", "/analyst/campaigns", "/analyst/campaigns/new", "/analyst/campaigns/QUAY-2026",
                "/analyst/campaigns/QUAY-2026/edit", "/analyst/campaigns/QUAY-2026/dashboard",
                "/analyst/campaigns/QUAY-2026/quality", "/analyst/campaigns/QUAY-2026/comments",
                "/analyst/sampling", "/analyst/sampling/PAR-SO-2026", "/analyst/sampling/PAR-SO-2026/draw",
                "/analyst/campaigns/PAR-SO-2026", "/account/password", "/staff/units/H01/counters",
                "/analyst/campaigns/QUAY-2026/webhooks"],
    "admin": ["/admin/units", "/admin/units/changes", "/admin/counters", "/admin/domains", "/admin/users",
              "/admin/questionnaires", "/admin/audit", "/admin/tokens"],
    "h01": ["/manager/units/H01", "/manager/units/H01/comments", "/staff/units/H01/counters"],
}
# The main staff pages, kept as docs/screenshots/staff-<name>.png
SCREENSHOT_PAGES = {"/analyst/campaigns": "campaigns", "/analyst/campaigns/new": "campaign-new",
                    "/analyst/campaigns/QUAY-2026": "campaign", "/analyst/campaigns/QUAY-2026/quality": "quality",
                    "/analyst/campaigns/QUAY-2026/comments": "comments", "/admin/counters": "counters",
                    "/admin/users": "users", "/manager/units/H01": "manager",
                    "/analyst/sampling/PAR-SO-2026": "sample-tracking", "/admin/units/changes": "unit-changes"}


def problems_on(page, label: str) -> list[str]:
    """axe's serious and critical violations on the page, and a page wider than its viewport, as readable lines."""
    from axe_playwright_python.sync_playwright import Axe

    found = []
    width = page.viewport_size["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        found.append(f"{label} @{width}: page is {scroll_width} px wide")
    for violation in Axe().run(page).response["violations"]:
        if violation["impact"] in SERIOUS:
            targets = [node["target"] for node in violation["nodes"][:3]]
            found.append(f"{label} @{width}: {violation['impact']} {violation['id']} {targets}")
    return found


def checked(page, url: str, label: str | None = None) -> list[str]:
    """The page at both widths (loaded again at each, as a person on that screen would)."""
    found = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(url)
        found += problems_on(page, label or url)
    return found


def signed_in_page(browser, live_server: str, username: str, landing: str = "/staff", **context_options):  # noqa: F811
    """A new page signed in through the login form, on `landing` (its `next`); `context_options` go to the new
    browser context, by default bypassing the CSP so that axe-core can be injected."""
    page = browser.new_context(**(context_options or {"bypass_csp": True})).new_page()
    page.goto(f"{live_server}/login" + (f"?next={landing}" if landing != "/staff" else ""))
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', "demo-sipas-2026")
    page.click("button[type=submit]")
    page.wait_for_url("**" + landing)
    return page


def test_citizen_and_official_pages_have_no_serious_accessibility_problem(live_server, browser):  # noqa: F811
    keys = Settings.from_env({"SECRET_KEY": "browser-test"}).signing_keys
    page = browser.new_context(bypass_csp=True).new_page()
    found = []
    for path in ("/results", "/results/DEMO", "/results/H01?campaign=QUAY-2026", "/privacy", "/login", "/o",
                 "/o?lang=en"):
        found += checked(page, live_server + path, path)
    for campaign in ("QUAY-2026", "SIPAS-2026"):
        found += checked(page, form_url(live_server, keys, "H01-Q1", campaign), f"form {campaign}")
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(form_url(live_server, keys, "H05-Q1", "QUAY-2026"))
    page.click("button[type=submit]")  # nothing answered: the page with every error marked
    found += problems_on(page, "form with errors")
    answer_all(page)
    page.click("button[type=submit]")
    page.wait_for_url("**/thanks*")
    found += problems_on(page, "thanks")
    found += official_pages(page, live_server)
    page.context.close()
    assert found == []


def printed_codes(live_server) -> list[str]:  # noqa: F811
    """The invitation codes `survey demo` printed for its officials' campaign."""
    line = next(line for line in live_server.demo_output.splitlines() if "Officials' survey" in line)
    return re.findall(r"\b([A-Z0-9]{4}(?:-[A-Z0-9]{1,4})+) \(SO\d+\)", line)


def official_pages(page, live_server) -> list[str]:  # noqa: F811
    """An official enters a code the demo printed: the questionnaire's first section opens (a working code)."""
    codes = printed_codes(live_server)
    assert codes, live_server.demo_output
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(f"{live_server}/o")
    page.fill("#code", codes[0])
    page.click("button[type=submit]")
    page.wait_for_url("**/o/**")
    assert page.locator("form fieldset, form .item").count() > 0
    found = problems_on(page, "official section")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    return found + problems_on(page, "official section")


def test_staff_pages_have_no_serious_accessibility_problem_and_fit_a_phone(live_server, browser, tmp_path):  # noqa: F811
    keep = os.environ.get("UPDATE_SCREENSHOTS") == "1"
    found = []
    for username, paths in STAFF_PAGES.items():
        page = signed_in_page(browser, live_server, username)
        for path in paths:
            found += checked(page, live_server + path, f"{username} {path}")
            if path in SCREENSHOT_PAGES:
                name = f"staff-{SCREENSHOT_PAGES[path]}.png"
                page.screenshot(path=str(SCREENSHOTS / name if keep else tmp_path / name), full_page=False)
        if username == "analyst":
            found += analyst_follow_ups(page, live_server)
        page.context.close()
    assert found == []


def analyst_follow_ups(page, live_server: str) -> list[str]:
    """Pages reached by a click: one flagged response, the confirmation before closing a campaign, and the
    frame upload's preview (column mapping, strata)."""
    found = []
    page.goto(f"{live_server}/analyst/campaigns/new")
    page.fill('input[name="code"]', "AXE-DRAW")
    page.fill('input[name="name"]', "Mẫu thử")
    officials_form = page.locator('select[name="questionnaire"] option', has_text="par_index_so").first
    page.select_option('select[name="questionnaire"]', officials_form.get_attribute("value"))
    page.fill('input[name="starts_on"]', "2026-01-01")
    page.fill('input[name="ends_on"]', "2026-12-31")
    page.check('input[name="mode"][value="invitation"]')
    page.check('#unit-tree > ul > li > label > input[name="with_children"]')
    page.click("form.stacked button[type=submit]")
    page.goto(f"{live_server}/analyst/sampling/AXE-DRAW/draw")
    found += problems_on(page, "draw upload")
    rows = "\n".join(f"SO07,{role},SO07-{role}-{n},Cán bộ {n}" for role in ("lanh_dao_phong", "cong_chuc")
                     for n in range(6))
    page.set_input_files("#file", files=[{"name": "danh-sach.csv", "mimeType": "text/csv",
                                          "buffer": ("Mã đơn vị,Chức vụ,Mã CB,Họ tên\n" + rows).encode()}])
    page.click("text=Tải lên và xem trước")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        found += problems_on(page, "draw preview")
    page.goto(f"{live_server}/analyst/campaigns/QUAY-2026/quality")
    response_link = page.locator('a[href*="/responses/"]').first.get_attribute("href")
    found += checked(page, live_server + response_link, "analyst response")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{live_server}/analyst/campaigns/QUAY-2026")
        page.click("#close-campaign")
        assert re.search("không mở lại được", page.text_content("#consequence"))
        found += problems_on(page, "close confirmation")
    return found


def test_no_page_reloads_itself_under_its_reader():
    """Pages of long work update a part of themselves (static/progress.js); a <meta http-equiv="refresh"> reloads
    the whole page every few seconds, which axe-core counts critical (meta-refresh, WCAG 2.2.1)."""
    templates = Path(__file__).resolve().parents[2] / "survey_app" / "templates"
    reloading = [path.name for path in templates.glob("*.html") if 'http-equiv="refresh"' in path.read_text()]
    assert reloading == []
