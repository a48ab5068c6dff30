"""The four-language form read in French and in Khmer, in real headless Chromium: axe-core finds nothing serious
(valid lang attributes on the page and on each translated text), and the language switch leads to each language."""

from __future__ import annotations

from pathlib import Path

import pytest_asyncio
from axe_playwright_python.sync_playwright import Axe

from tests.app.test_form_languages import client, languages_form  # noqa: F401 (fixtures)
from tests.browser.test_phone_flow import browser  # noqa: F401 (fixture)

STATIC = Path(__file__).resolve().parents[2] / "static"


@pytest_asyncio.fixture(scope="module")
async def pages(client, languages_form) -> dict[str, str]:  # noqa: F811
    return {lang: (await client.get(languages_form, params={"lang": lang})).text for lang in ("fr", "km", "vi")}


def test_a_translated_form_has_no_serious_accessibility_problem(pages, browser):  # noqa: F811
    for lang, html in pages.items():
        page = browser.new_page(viewport={"width": 360, "height": 640})
        page.set_content(html)
        page.add_script_tag(content=(STATIC / "form.js").read_text(encoding="utf-8"))
        assert page.evaluate("document.documentElement.lang") == "vi"
        found = Axe().run(page).response["violations"]
        assert [(lang, v["id"]) for v in found if v["impact"] in ("serious", "critical")] == []
        switch = page.locator("p.lang a")
        assert [switch.nth(index).get_attribute("lang") for index in range(switch.count())] == \
            [code for code in ("vi", "en", "fr", "km") if code != lang]
        page.close()
    french = browser.new_page()
    french.set_content(pages["fr"])
    assert french.locator('legend >> nth=0').inner_text().startswith("Fruit préféré")
    assert french.locator('[lang="fr"]').count() > 5
    french.close()
