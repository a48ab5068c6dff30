"""Broken definitions: every problem is reported, with file, line, field and a message from the catalogue."""

import textwrap

import pytest

from questionnaires import DefinitionError, load_definition, parse_definition
from questionnaires.errors import Code, Problem
from tests.questionnaires.forms import demo_yaml, form_yaml

HEADER = form_yaml("demo", title="{vi: Thử, en: Test}")


def problems_of(text: str) -> list[str]:
    """Problems as 'line: field: message' (the file part is always <text> here)."""
    with pytest.raises(DefinitionError) as raised:
        load_definition(textwrap.dedent(text))
    return [f"{problem.line}: {problem.field}: {problem.message}" for problem in raised.value.problems]


def test_problem_prints_as_file_line_field_message():
    problem = Problem("a.yaml", 3, "sections[0].key", "bad")
    assert str(problem) == "a.yaml:3: sections[0].key: bad"


def test_malformed_yaml_gives_the_line():
    text = HEADER + "sections:\n  - key: main\n    title: {vi: a, en: b\n    items: []\n"
    (problem,) = problems_of(text)
    assert problem.startswith("7: (file): the file is not valid YAML")


def test_unknown_type_and_unknown_field_are_both_reported():
    text = demo_yaml("""
        - key: age
          type: number
          colour: red
          label: {vi: Tuổi, en: Age}
    """)
    assert problems_of(text) == [
        "9: sections[0].items[0].type: " + Code.UNKNOWN_TYPE.format(
            value="number", allowed="single, multiple, rating5, integer, decimal, text, date, time, datetime, unit, domain, "
                                    "dossier_code, note, calculate"),
        "10: sections[0].items[0].colour: " + Code.UNKNOWN_FIELD.format(
            name="colour", allowed="key, type, label, hint, required, choices, show_if, max_length, minimum, "
                                   "maximum, pattern, scale, max_choices, constraint_message, choice_filter, "
                                   "appearance, calculation, earliest, latest"),
    ]


def test_duplicate_item_keys_and_duplicate_yaml_keys():
    text = demo_yaml("""
        - {key: q1, type: rating5, label: {vi: Một, en: One}}
        - {key: q1, type: rating5, label: {vi: Hai, en: Two}}
        - key: q3
          type: text
          type: integer
          label: {vi: Ba, en: Three}
    """)
    assert problems_of(text) == [
        "9: sections[0].items[1].key: " + Code.DUPLICATE_KEY.format(what="item", value="q1", first_line=8),
        "12: sections[0].items[2].type: " + Code.DUPLICATE_YAML_KEY.format(name="type", first_line=11),
    ]


def test_show_if_unknown_item_self_reference_syntax_and_cycle():
    text = demo_yaml("""
        - {key: a, type: rating5, label: {vi: A, en: A}, show_if: "b <= 2"}
        - {key: b, type: rating5, label: {vi: B, en: B}, show_if: "a <= 2"}
        - {key: c, type: rating5, label: {vi: C, en: C}, show_if: "c == 1 or ghost == 1"}
        - {key: d, type: rating5, label: {vi: D, en: D}, show_if: "a = 1"}
    """)
    problems = problems_of(text)
    assert problems[0] == "8: sections[0].items[0].show_if: " + Code.SHOW_IF_CYCLE.format(cycle="a → b → a")
    assert problems[1].startswith("10: sections[0].items[2].show_if: refers to 'ghost'")
    assert problems[2] == "10: sections[0].items[2].show_if: " + Code.SHOW_IF_SELF.format()
    assert problems[3] == ("11: sections[0].items[3].show_if: cannot parse the expression: unexpected '=' at "
                           "column 3; use '==' to compare.")
    assert len(problems) == 4


def test_bad_constraints_are_reported():
    text = demo_yaml("""
        - {key: age, type: integer, minimum: 99, maximum: 18, label: {vi: Tuổi, en: Age}}
        - {key: code, type: text, pattern: "[A-Z", label: {vi: Mã, en: Code}}
        - {key: note, type: text, max_length: 0, label: {vi: Ghi chú, en: Note}}
        - {key: mood, type: rating5, maximum: 3, label: {vi: Tâm trạng, en: Mood}}
    """)
    problems = problems_of(text)
    assert problems[0] == "8: sections[0].items[0].minimum: " + Code.BAD_RANGE.format(minimum=99, maximum=18)
    assert problems[1].startswith("9: sections[0].items[1].pattern: the regular expression cannot be compiled")
    assert problems[2] == "10: sections[0].items[2].max_length: " + Code.BAD_LENGTH.format(found="the number 0")
    assert problems[3] == "11: sections[0].items[3].maximum: " + Code.FIELD_NOT_FOR_TYPE.format(
        name="maximum", type="rating5")


def test_missing_fields_translations_and_choice_lists():
    text = """\
key: Demo
title: {vi: Thử}
choice_lists:
  yes_no:
    - {value: "yes", label: {vi: Có, en: "Yes"}}
    - {value: "yes", label: {vi: Có, en: "Yes"}}
sections:
  - key: main
    title: {vi: Chính, en: Main}
    items:
      - {key: pick, type: single, choices: no_such_list, label: {vi: Chọn, en: Pick}}
      - {key: pick2, type: multiple, label: {vi: Chọn, en: Pick}}
"""
    problems = problems_of(text)
    assert problems == [
        "1: (file): " + Code.MISSING_FIELD.format(name="version"),
        "1: key: " + Code.BAD_KEY.format(value="Demo"),
        "2: title: " + Code.MISSING_TRANSLATION.format(language="en"),
        "6: choice_lists.yes_no[1].value: " + Code.DUPLICATE_CHOICE.format(value="yes"),
        "11: sections[0].items[0].choices: " + Code.UNKNOWN_CHOICE_LIST.format(value="no_such_list",
                                                                              allowed="yes_no"),
        "12: sections[0].items[1]: " + Code.CHOICES_REQUIRED.format(type="multiple"),
    ]


def test_scoring_map_problems():
    text = demo_yaml("""
        - {key: q1, type: rating5, label: {vi: Một, en: One}}
        - {key: age, type: integer, label: {vi: Tuổi, en: Age}}
    """) + """\
scoring:
  key: demo_index
  factors:
    - key: f1
      label: {vi: Nhóm, en: Group}
      criteria:
        - {key: c1, label: {vi: A, en: A}, items: [q1, age, ghost], max_points: -1}
        - {key: c2, label: {vi: B, en: B}, items: [q1]}
"""
    problems = problems_of(text)
    assert problems == [
        "16: scoring.factors[0].criteria[0].items[1]: " + Code.SCORING_NOT_RATING.format(value="age",
                                                                                       type="integer"),
        "16: scoring.factors[0].criteria[0].items[2]: " + Code.SCORING_UNKNOWN_ITEM.format(value="ghost"),
        "16: scoring.factors[0].criteria[0].max_points: " + Code.BAD_MAX_POINTS.format(found="the number -1"),
        "17: scoring.factors[0].criteria[1].items[0]: " + Code.SCORING_ITEM_TWICE.format(value="q1", first="c1"),
    ]


def test_not_a_mapping_and_empty_file():
    assert problems_of("- a\n- b\n") == ["1: (file): " + Code.NOT_A_MAPPING.format(found="a list")]
    assert problems_of("") == ["1: (file): " + Code.NOT_A_MAPPING.format(found="an empty file")]


def test_file_name_is_in_the_problem(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(HEADER + "sections: 3\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as raised:
        load_definition(path)
    assert str(raised.value).startswith(f"{path}:4: sections: expected a list")


def test_parse_definition_returns_problems_without_raising():
    questionnaire, problems = parse_definition(HEADER + "sections: []\n", "x.yaml")
    assert questionnaire is None
    assert [str(problem) for problem in problems] == ["x.yaml:4: sections: " + Code.EMPTY_SECTIONS.format()]
