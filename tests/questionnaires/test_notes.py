"""`note` items: text to read, never an answer, never required; kept by the YAML loader, the XLSForm import and
export (pyxform converts it), the phone form (no input), paper (plain text, no number, nothing keyed) and the
exports (no column)."""

from __future__ import annotations

import io

import pytest
from pyxform.xls2xform import convert

from questionnaires import DefinitionError, load_definition
from questionnaires.paper import item_numbers, keyed_to_raw, skip_instructions
from questionnaires.xlsform import load_xlsform
from questionnaires.xlsform_export import export_xlsform
from tests.questionnaires.test_pyxform_fixtures import FIXTURES
from tests.questionnaires.forms import form_yaml, section

WITH_NOTES = form_yaml("noted", section("""
    - {key: intro, type: note, label: {vi: Xin cảm ơn ông/bà đã tham gia., en: Thank you for taking part.},
       hint: {vi: Phiếu mất 5 phút., en: It takes 5 minutes.}}
    - {key: visited, type: single, required: true, label: {vi: Đã đến chưa, en: Visited},
       choices: [{value: co, label: {vi: Có, en: "Yes"}}, {value: khong, label: {vi: Không, en: "No"}}]}
    - {key: thanks, type: note, show_if: "visited == 'co'", label: {vi: Cảm ơn lần đến của ông/bà., en: Thanks.}}
    - {key: why, type: text, show_if: "visited == 'co'", label: {vi: Vì sao, en: Why}}
""", title="{vi: Phần một, en: Part one}"), title="{vi: Phiếu có ghi chú, en: With notes}", layout="paged")


def noted():
    return load_definition(WITH_NOTES)


def test_a_note_is_never_an_answer_and_never_required():
    definition = noted()
    assert [item.type for item in definition.items] == ["note", "single", "note", "text"]
    clean, errors = definition.validate_answers({"intro": "forged", "thanks": "x", "visited": "co", "why": "gần"})
    assert errors == {} and clean == {"visited": "co", "why": "gần"}
    assert definition.validate_answers({})[1].keys() == {"visited"}
    assert "thanks" in definition.visible_keys({"visited": "co"})
    assert "thanks" not in definition.visible_keys({"visited": "khong"})


@pytest.mark.parametrize("change, where, words", [
    ("{key: thanks, type: note, show_if: \"visited == 'co'\",", "{key: thanks, type: note, required: true,",
     "cannot be required"),
    ('{key: why, type: text, show_if: "visited == \'co\'"', '{key: why, type: text, show_if: "answered(intro)"',
     "'intro' is a note"),
    ("{key: thanks, type: note,", "{key: thanks, type: note, max_length: 5,", "does not apply to a 'note'"),
])
def test_the_loader_refuses_a_required_note_a_condition_on_a_note_and_limits_on_it(change, where, words):
    text = WITH_NOTES.replace(change, where)
    assert text != WITH_NOTES
    with pytest.raises(DefinitionError) as raised:
        load_definition(text)
    assert words in str(raised.value)


def test_the_xlsform_import_keeps_a_note_with_its_relevant_and_the_export_round_trips(tmp_path):
    path = tmp_path / "noted.xlsx"
    path.write_bytes(export_xlsform(noted()))
    converted = convert(xlsform=str(path), validate=False)
    assert converted.warnings == [] and '<input ref="/data/s/thanks">' in converted.xform
    back, notes = load_xlsform(path)
    assert back.to_dict() == noted().to_dict() and notes == []
    # pyxform's own table-list fixture opens with a note: it is imported as one, not dropped
    table_list, _ = load_xlsform(FIXTURES / "example_xls/table-list.xls")
    assert table_list.items[0].key == "intro" and table_list.items[0].type == "note"


def test_a_note_without_a_name_gets_a_key_from_its_row(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    survey = workbook.active
    survey.title = "survey"
    for row in (["type", "name", "label"], ["note", None, "Đọc kỹ"], ["integer", "age", "Tuổi"]):
        survey.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    (tmp_path / "nameless.xlsx").write_bytes(buffer.getvalue())
    questionnaire, _ = load_xlsform(tmp_path / "nameless.xlsx")
    assert [(item.key, item.type) for item in questionnaire.items] == [("note_2", "note"), ("age", "integer")]


def test_on_paper_a_note_has_no_number_and_nothing_is_keyed_for_it():
    definition = noted()
    assert item_numbers(definition) == {"visited": 1, "why": 2}
    assert skip_instructions(definition) == {"why": "Nếu câu 1 là 'Có', trả lời câu 2; nếu không, bỏ qua và kết "
                                                    "thúc phiếu."}
    raw, errors = keyed_to_raw(definition, {"intro": "7", "visited": "1", "why": "gần"})
    assert errors == {} and raw == {"visited": "co", "why": "gần"}
