"""docs/questionnaires.md shows one loadable example per item type."""

import pathlib
import re

from questionnaires import load_definition
from questionnaires.standard import ITEM_TYPES
from tests.questionnaires.forms import form_yaml, section

DOCS = pathlib.Path(__file__).parents[2] / "docs" / "questionnaires.md"


def example_items() -> str:
    section = DOCS.read_text(encoding="utf-8").split("### One example per item type", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def test_every_item_type_has_a_loadable_example():
    items = example_items()
    assert {re.search(r"type: (\w+)", line).group(1) for line in items.splitlines()} == set(ITEM_TYPES)
    choices = "[" + ", ".join(f"{{value: {value}, label: {{vi: {value}, en: {value}}}}}" for value in "abcd") + "]"
    definition = form_yaml("docs", section(items, "main", "{vi: Chính, en: Main}"), title="{vi: Tài liệu, en: Docs}")
    definition += f"choice_lists:\n  genders: {choices}\n  improvements: {choices}\n  domains: {choices}\n"
    assert len(load_definition(definition).items) == len(ITEM_TYPES) + 1
