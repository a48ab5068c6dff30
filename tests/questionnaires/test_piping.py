"""Label piping: `${key}` in a label or hint shows that answer (a choice by its label); the loader refuses a
reference to no item, to a note or to the item itself; XLSForm names are renamed to keys, unknown ones refused."""

from __future__ import annotations

import pytest

from questionnaires import DefinitionError, load_definition
from questionnaires.paper import item_numbers, printed_text
from questionnaires.piping import answer_text, parts, piped_text
from questionnaires.xlsform import load_xlsform
from questionnaires.xlsform_export import export_xlsform
from tests.questionnaires.forms import form_yaml, section
from tests.questionnaires.test_xlsform import write_workbook

PIPED = form_yaml("piped", section("""
    - {key: name, type: text, label: {vi: Tên, en: Name}}
    - {key: fruit, type: multiple, label: {vi: Quả, en: Fruit},
       choices: [{value: tao, label: {vi: Táo, en: Apple}}, {value: le, label: {vi: Lê, en: Pear}}]}
    - {key: born, type: date, label: {vi: Ngày sinh, en: Born}}
""", "a"), section("""
    - {key: why, type: text, label: {vi: "Vì sao ${name} chọn ${fruit}?", en: "Why did ${name} pick ${fruit}?"},
       hint: {vi: "Sinh ngày ${born}", en: "Born ${born}"}}
""", "b", "{vi: Hai, en: Two}"), layout="paged")


def test_a_label_shows_the_answers_choice_labels_and_dates():
    definition = load_definition(PIPED)
    answers = {"name": "An", "fruit": ["tao", "le"], "born": "2000-01-31"}
    assert piped_text(definition.item("why").label["vi"], definition, answers) == "Vì sao An chọn Táo, Lê?"
    assert piped_text(definition.item("why").label["en"], definition, answers, "en") == "Why did An pick Apple, Pear?"
    assert piped_text(definition.item("why").hint["vi"], definition, answers) == "Sinh ngày 31/01/2000"
    assert piped_text(definition.item("why").label["vi"], definition, {}) == "Vì sao … chọn …?"
    assert answer_text(definition.item("name"), 3.0) == "3"
    assert parts("a ${x} b") == [(False, "a "), (True, "x"), (False, " b")]


@pytest.mark.parametrize("label, words", [
    ("Vì sao ${nosuch}?", "'nosuch', which is not an item key"),
    ("Vì sao ${why}?", "cannot depend on its own answer"),
])
def test_the_loader_refuses_a_reference_to_no_item_or_to_itself(label, words):
    with pytest.raises(DefinitionError) as raised:
        load_definition(PIPED.replace("Vì sao ${name} chọn ${fruit}?", label))
    assert words in str(raised.value)


def test_paper_says_which_question_a_piped_answer_comes_from():
    definition = load_definition(PIPED)
    assert printed_text(definition.item("why").label["vi"], item_numbers(definition)) == \
        "Vì sao (câu 1) chọn (câu 2)?"


def test_xlsform_piping_round_trips_and_names_become_keys(tmp_path):
    definition = load_definition(PIPED)
    path = tmp_path / "piped.xlsx"
    path.write_bytes(export_xlsform(definition))
    back, notes = load_xlsform(path)
    assert back.to_dict() == definition.to_dict() and notes == []
    survey = [["type", "name", "label", "hint"], ["text", "First_Name", "Tên", None],
              ["text", "why", "Vì sao ${First_Name}?", "${nosuch}"]]
    with pytest.raises(DefinitionError) as raised:
        load_xlsform(write_workbook(tmp_path / "bad.xlsx", {"survey": survey}))
    assert [(problem.line, problem.field) for problem in raised.value.problems] == [(3, "survey.hint")]
    survey[2][3] = None
    imported, _ = load_xlsform(write_workbook(tmp_path / "good.xlsx", {"survey": survey}))
    assert imported.item("why").label["vi"] == "Vì sao ${first_name}?"
