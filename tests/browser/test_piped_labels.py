"""Label piping live in a real headless Chromium: the single-page form's script (static/form.js) writes the answer
typed or the choice ticked into the later label as text (never HTML); axe-core finds nothing serious."""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

from questionnaires import load_definition
from tests.app.test_piped_labels import rendered
from tests.browser.test_phone_flow import browser  # noqa: F401 (fixture)
from tests.questionnaires.test_piping import PIPED

STATIC = Path(__file__).resolve().parents[2] / "static"


def test_a_piped_label_follows_the_answers_as_they_are_given(browser):  # noqa: F811
    definition = load_definition(PIPED)
    items = "".join(rendered(item, definition, {}) for item in definition.items)
    page = browser.new_page(viewport={"width": 360, "height": 640})
    page.set_content(f'<!doctype html><html lang="vi"><head><title>Phiếu</title></head><body><main><h1>Phiếu</h1>'
                     f'<form method="post" action="/f" data-autosave data-layout="single_page">{items}</form>'
                     f'</main></body></html>')
    page.add_script_tag(content=(STATIC / "form.js").read_text(encoding="utf-8"))
    label = page.locator('label[for="q-why"]')
    assert label.inner_text() == "Vì sao … chọn …?"
    page.fill("#q-name", "<b>An</b>")
    page.click('label[for="q-fruit-2"]')
    assert label.inner_text() == "Vì sao <b>An</b> chọn Lê?"  # the markup typed shows as text
    assert page.locator('label[for="q-why"] b').count() == 0
    page.click('label[for="q-fruit-1"]')
    assert label.inner_text() == "Vì sao <b>An</b> chọn Táo, Lê?"
    found = Axe().run(page).response["violations"]
    assert [v["id"] for v in found if v["impact"] in ("serious", "critical")] == []
    page.close()
