"""The question partial carries a cascading filter for the page script: the rules on the item, each choice's
filter values on its label (escaped JSON), nothing on an item without a filter."""

from __future__ import annotations

import html
import json
from pathlib import Path

import jinja2

from questionnaires.items import Choice, Item
from survey_app.core.templating import label, piped

TEMPLATES = Path(__file__).resolve().parents[2] / "survey_app" / "templates"


def rendered(item: Item) -> str:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    environment.filters.update(label=label, piped=piped)
    return environment.get_template("_item.html").render(item=item, errors={}, values={}, lang="vi")


def test_a_filtered_question_carries_its_rules_and_each_choice_its_values():
    county = Item(key="county", type="single", label={"vi": "Huyện", "en": "County"},
                  choices=[Choice("king", {"vi": "King", "en": "King"}, {"cf": "wa"}),
                           Choice("o'brien", {"vi": "O'Brien", "en": "O'Brien"}, {"cf": 'a"b'})],
                  choice_filter=({"column": "cf", "item": "state"},))
    page = rendered(county)
    rules = page.split('data-choice-filter="')[1].split('"')[0]
    assert json.loads(html.unescape(rules)) == [{"column": "cf", "item": "state"}]
    filters = [json.loads(html.unescape(part.split('"')[0])) for part in page.split('data-filters="')[1:]]
    assert filters == [{"cf": "wa"}, {"cf": 'a"b'}]
    plain = Item(key="state", type="single", label={"vi": "Tỉnh", "en": "State"},
                 choices=[Choice("wa", {"vi": "WA", "en": "WA"})])
    assert "data-choice-filter" not in rendered(plain) and "data-filters" not in rendered(plain)


def test_appearances_lay_out_the_choices_or_give_a_drop_down():
    choices = [Choice("yes", {"vi": "Có", "en": "Yes"}), Choice("no", {"vi": "Không", "en": "No"})]
    likert = rendered(Item(key="a", type="single", label={"vi": "A", "en": "A"}, choices=choices, appearance="likert"))
    assert 'class="choices single likert"' in likert and 'type="radio"' in likert
    minimal = rendered(Item(key="b", type="single", label={"vi": "B", "en": "B"}, choices=choices,
                            appearance="minimal"))
    assert '<select id="q-b" name="b">' in minimal and '<option value="no">Không</option>' in minimal
    assert "<fieldset" not in minimal and '<label for="q-b">' in minimal
