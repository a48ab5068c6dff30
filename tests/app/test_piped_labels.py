"""The phone form shows a piped answer in the label, from the answers the server already has (the paged form
without JavaScript), HTML-escaped, inside a <span data-pipe> that form.js keeps live on the single-page form."""

from __future__ import annotations

from pathlib import Path

import jinja2

from questionnaires import load_definition
from survey_app.core.templating import label, piped
from tests.questionnaires.test_piping import PIPED

TEMPLATES = Path(__file__).resolve().parents[2] / "survey_app" / "templates"


def rendered(item, definition, values) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    environment.filters.update(label=label, piped=piped)
    return environment.get_template("_item.html").render(item=item, definition=definition, errors={},
                                                         values=values, lang="vi")


def test_the_label_shows_earlier_answers_escaped():
    definition = load_definition(PIPED)
    page = rendered(definition.item("why"), definition,
                    {"name": "<b>An</b> & Bình", "fruit": ["le"], "born": "31/01/2000"})
    assert ('<label for="q-why">Vì sao <span class="piped" data-pipe="name">&lt;b&gt;An&lt;/b&gt; &amp; Bình</span>'
            ' chọn <span class="piped" data-pipe="fruit">Lê</span>?</label>') in page
    assert '<span class="piped" data-pipe="born">31/01/2000</span>' in page
    unanswered = rendered(definition.item("why"), definition, {})
    assert '<span class="piped" data-pipe="name">…</span>' in unanswered


def test_without_a_definition_the_label_is_escaped_text():
    definition = load_definition(PIPED.replace("Vì sao ${name}", "Vì sao <i>${name}"))
    page = rendered(definition.item("why"), None, {})
    assert "Vì sao &lt;i&gt;${name} chọn ${fruit}?" in page and "data-pipe" not in page

