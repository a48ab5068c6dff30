"""Real headless Chromium: the analyst defines a weighting plan on the campaign's weighting page (raking on unit and
domain to counts uploaded as CSV, trimming), runs it, and the dashboard says it uses the new version; axe-core finds
no serious or critical problem on either page (issue #24)."""

from __future__ import annotations

import io
import re

import pandas as pd

from tests.browser.test_accessibility import problems_on, signed_in_page
from tests.browser.test_phone_flow import browser, live_server  # noqa: F401 (module fixtures)

CAMPAIGN = "SIPAS-2026"


def population_csv(page, live_server) -> str:  # noqa: F811
    """Counts per unit and domain (40 dossiers a response), from the campaign's own CSV export."""
    export = page.request.get(f"{live_server}/analyst/campaigns/{CAMPAIGN}/export/csv")
    assert export.ok
    frame = pd.read_csv(io.BytesIO(export.body()), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    units = frame["unit_code"].value_counts() * 40
    domains = frame["domain_code"].replace("", "(none)").value_counts() * 40
    rows = [f"unit,{unit},{count}" for unit, count in units.items()] + [f"domain,{domain},{count}" for domain, count in domains.items()]
    return "margin,level,count\n" + "\n".join(rows) + "\n"


def test_analyst_runs_a_plan_and_the_dashboard_uses_the_new_version(live_server, browser, tmp_path):  # noqa: F811
    page = signed_in_page(browser, live_server, "analyst")
    population = tmp_path / "so-ho-so.csv"
    population.write_text(population_csv(page, live_server), encoding="utf-8")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/analyst/campaigns/{CAMPAIGN}")
    page.click("#weighting-link")
    problems = problems_on(page, "weighting")
    page.select_option("#calibration", "rake")
    for margin in ("unit", "domain"):
        page.check(f'input[name="margins"][value="{margin}"]')
    page.fill("#upper", "150")
    page.set_input_files("#file", str(population))
    page.click('#plan-form button[type="submit"]')
    assert page.is_visible("#plan-saved"), page.text_content("body")
    before = page.locator("#versions tbody tr").count() if page.is_visible("#versions") else 0
    page.click("#run-plan")
    if page.locator("#weighting-status").count():  # running: the status line updates in place, never the page
        page.wait_for_selector("#weighting-status:not([data-refresh])", timeout=180_000)  # the worker process starts on first use
        assert "Đã chạy xong" in page.text_content("#weighting-status")
        problems += problems_on(page, "weighting once its run is done")
        page.click("#weighting-status a >> text=Đã chạy xong")
    # newest first: the new version is the first row, in use once its run is done
    page.wait_for_function(f"document.querySelectorAll('#versions tbody tr').length === {before + 1} && "
                           "document.querySelector('#versions tbody tr:first-child #in-use') !== null", timeout=180_000)  # the worker process starts on first use
    newest = int(page.get_attribute("#versions tbody tr:first-child", "data-version"))
    assert page.is_visible("#diagnostics") and "Hiệu chỉnh theo số liệu tổng thể bằng cào" in page.text_content("#method")
    problems += problems_on(page, "weighting after a run")
    page.goto(f"{live_server}/analyst/campaigns/{CAMPAIGN}/dashboard")
    shown = page.text_content("#weight-version")
    assert re.search(rf"Trọng số: phiên bản {newest} \(chạy bởi analyst", shown), shown
    problems += problems_on(page, "dashboard")
    assert problems == []
