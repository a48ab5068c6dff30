"""A repeat's "Thêm một người/lượt" in a real headless Chromium with static/form.js: the button posts the form
natively (the script's queue would drop the button's name), and the resumed draft never overrides the number of
blocks the server shows; axe-core finds nothing serious."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import jinja2
from axe_playwright_python.sync_playwright import Axe

from questionnaires import load_definition
from survey_app.core.templating import label, piped
from tests.browser.test_phone_flow import browser  # noqa: F401 (fixture)
from tests.questionnaires.test_repeats import household_yaml

ROOT = Path(__file__).resolve().parents[2]
VISITS = household_yaml(repeat="{maximum: 3}")


def page_html(definition, blocks: int, values: dict) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT / "survey_app" / "templates"),
                                     autoescape=True)
    environment.filters.update(label=label, piped=piped)
    section = definition.repeats[0]
    repeat = environment.get_template("_repeat.html").render(
        section=section, definition=definition, member_blocks={section.key: blocks}, errors={}, values=values,
        lang="vi")
    return (f'<!doctype html><html lang="vi"><head><title>Phiếu</title></head><body><main><h1>Phiếu</h1>'
            f'<form method="post" action="/f" data-autosave data-layout="single_page">'
            f'<input type="hidden" name="_key" value="k1"><section>{repeat}</section>'
            f'<button type="submit">Gửi</button></form></main>'
            f'<script>{(ROOT / "static" / "form.js").read_text(encoding="utf-8")}</script></body></html>')


def test_add_one_more_posts_the_form_and_keeps_the_servers_blocks(browser):  # noqa: F811
    definition = load_definition(VISITS)
    posted = []

    def serve(route, request):
        if request.method == "POST":
            posted.append(parse_qs(request.post_data, keep_blank_values=True))
            fields = {name: values[0] for name, values in posted[-1].items()}
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=page_html(definition, 2, fields))
        else:
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=page_html(definition, 1, {}))

    page = browser.new_page(viewport={"width": 360, "height": 640})
    page.route("http://phone.test/**", serve)
    page.goto("http://phone.test/f")
    page.fill("#q-members-1-name", "Lan")
    page.fill("#q-members-1-age", "40")
    page.click("button[name=_more]")
    page.wait_for_selector("#q-members-2-name")
    assert posted[0]["_more"] == ["members"] and posted[0]["members.1.name"] == ["Lan"]
    assert page.locator('input[name="members._count"]').input_value() == "2"  # not the draft's "1"
    assert page.locator("#q-members-1-name").input_value() == "Lan"
    assert page.locator("fieldset.member").count() == 2
    found = Axe().run(page).response["violations"]
    assert [v["id"] for v in found if v["impact"] in ("serious", "critical")] == []
    page.close()
