"""The content hash depends on content only, not on YAML formatting."""

from questionnaires import Questionnaire, load_definition

COMPACT = """
key: demo
version: "1"
title: {vi: Thử, en: Test}
choice_lists:
  yes_no: [{value: "yes", label: {vi: Có, en: "Yes"}}, {value: "no", label: {vi: Không, en: "No"}}]
sections:
  - {key: main, title: {vi: Chính, en: Main}, items: [
      {key: agree, type: single, choices: yes_no, label: {vi: "Đồng ý?", en: "Agree?"}},
      {key: age, type: integer, minimum: 18, maximum: 99.0, label: {vi: Tuổi, en: Age}, show_if: "agree=='yes'"}]}
"""

SPREAD = """
# same content, other formatting, other order of fields, the choice list written inline
title:
  en: Test
  vi: Thử
version: '1'
key: demo
sections:
- key: main
  title:
    vi: Chính
    en: Main
  items:
  - key: agree
    label:
      vi: Đồng ý?
      en: Agree?
    type: single
    choices:
    - value: "yes"
      label: {vi: Có, en: "Yes"}
    - value: "no"
      label: {vi: Không, en: "No"}
  - type: integer
    key: age
    show_if: agree   ==   'yes'
    label: {vi: Tuổi, en: Age}
    minimum: 18.0
    maximum: 99
"""


def test_hash_is_stable_across_formatting():
    assert load_definition(COMPACT).content_hash == load_definition(SPREAD).content_hash


def test_hash_changes_with_content():
    changed = COMPACT.replace("Tuổi", "Tuổi của ông/bà")
    assert load_definition(changed).content_hash != load_definition(COMPACT).content_hash


def test_hash_survives_decomposed_unicode():
    decomposed = COMPACT.replace("Thử", "Thu\u031b\u0309")  # 'Thử' typed as base letters + combining marks
    assert load_definition(decomposed).content_hash == load_definition(COMPACT).content_hash


def test_round_trip_through_dict():
    questionnaire = load_definition(COMPACT)
    again = Questionnaire.from_dict(questionnaire.to_dict())
    assert again.to_dict() == questionnaire.to_dict()
    assert again.content_hash == questionnaire.content_hash
    assert again.item("age").show_if == "agree == 'yes'"
