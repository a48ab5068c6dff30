"""Repeat groups: a section asked once per member, its answers a list of per-member dicts under the section key."""

from __future__ import annotations

import pytest

from questionnaires import DefinitionError, Questionnaire, load_definition, load_shipped
from tests.questionnaires.forms import form_yaml, section


def household_yaml(key: str = "household", repeat: str = "{count: n_members, maximum: 10}", **header: str) -> str:
    """The household form: the head's questions, then one block per member (`repeat` says how many); `header`
    goes to form_yaml (version, layout)."""
    head = section("""
        - {key: n_members, type: integer, minimum: 0, maximum: 20, required: true, label: {vi: Số người, en: People}}
        - {key: urban, type: single, label: {vi: Thành thị, en: Urban},
           choices: [{value: 'yes', label: {vi: Có, en: 'Yes'}}, {value: 'no', label: {vi: Không, en: 'No'}}]}
    """, "head", "{vi: Chủ hộ, en: Head}")
    members = section("""
        - {key: name, type: text, required: true, label: {vi: Tên, en: Name}}
        - {key: age, type: integer, minimum: 0, maximum: 120, required: true, label: {vi: Tuổi, en: Age}}
        - {key: school, type: text, show_if: "age < 18 and urban == 'yes'", required: true,
           label: {vi: Trường, en: School}}
    """, "members", "{vi: Thành viên, en: Members}", repeat)
    return form_yaml(key, head, members, title="{vi: Hộ gia đình, en: Household}", **header)


HOUSEHOLD = household_yaml()


@pytest.fixture(scope="module")
def household() -> Questionnaire:
    return load_definition(HOUSEHOLD)


def test_members_are_checked_one_by_one_and_errors_name_the_member(household):
    clean, errors = household.validate_answers({"n_members": "2", "urban": "yes", "members": [
        {"name": "An", "age": "40", "school": "ignored: hidden for an adult"},
        {"name": "Bình", "age": "200"}]})
    assert errors == {"members.2.age": "Thành viên 2: Giá trị phải nhỏ hơn hoặc bằng 120."}
    assert clean["members"] == [{"name": "An", "age": 40}, {"name": "Bình"}]
    _, errors = household.validate_answers({"n_members": "1", "urban": "yes", "members": [{"name": "Chi", "age": "9"}]},
                                           lang="en")
    assert errors == {"members.1.school": "Member 1: This question is required."}


def test_the_server_enforces_the_repeat_count(household):
    member = {"name": "An", "age": "40"}
    clean, errors = household.validate_answers({"n_members": "2", "members": [member]})
    assert errors == {"members": "Cần đúng 2 thành viên theo câu trả lời trước; đã có 1."}
    clean, errors = household.validate_answers({"n_members": "2", "members": [member, member]})
    assert errors == {} and clean == {"n_members": 2, "members": [{"name": "An", "age": 40}] * 2}
    clean, errors = household.validate_answers({"n_members": "0"})
    assert errors == {} and clean == {"n_members": 0}


def test_minimum_and_maximum_without_a_count():
    definition = load_definition(household_yaml(repeat="{minimum: 1, maximum: 2}"))
    assert definition.validate_answers({"n_members": "1"})[1] == {"members": "Cần ít nhất 1 thành viên."}
    three = [{"name": "A", "age": "1"}, {"name": "B", "age": "2"}, {"name": "C", "age": "3"}, {"name": " "}]
    assert definition.validate_answers({"n_members": "1", "members": three})[1] == {
        "members": "Chỉ được tối đa 2 thành viên."}


def test_content_hash_of_definitions_without_repeats_is_unchanged_and_repeats_round_trip(household):
    for questionnaire in load_shipped().values():
        assert all("repeat" not in section for section in questionnaire.to_dict()["sections"])
    assert household.to_dict()["sections"][1]["repeat"] == {"count": "n_members", "maximum": 10}
    assert Questionnaire.from_dict(household.to_dict()) == household
    assert [item.key for item in household.items] == ["n_members", "urban"]
    assert [section.key for section in household.repeats] == ["members"]


@pytest.mark.parametrize("change, field, words", [
    ("count: n_members", "sections[1].repeat.count", "not an integer or calculate item asked once"),
    ("count: 0", "sections[1].repeat.count", "whole number from 1 to 50"),
    ("maximum: -1", "sections[1].repeat.maximum", "from 0 to 50"),
])
def test_bad_repeat_fields_are_reported_where_they_are(change, field, words):
    text = HOUSEHOLD.replace("count: n_members, maximum: 10", change)
    if change == "count: n_members":
        text = text.replace("n_members, type: integer", "n_members, type: text").replace(
            ", minimum: 0, maximum: 20, required", ", required")
    with pytest.raises(DefinitionError) as raised:
        load_definition(text)
    assert any(problem.field == field and words in str(problem) for problem in raised.value.problems), \
        raised.value.problems


def test_an_item_asked_once_cannot_read_a_member_answer_nor_a_label_show_one():
    text = HOUSEHOLD.replace("label: {vi: Thành thị", "show_if: 'age > 3', label: {vi: Thành thị")
    with pytest.raises(DefinitionError) as raised:
        load_definition(text)
    assert "asked once per member of the repeat 'members'" in str(raised.value.problems[0])
    with pytest.raises(DefinitionError) as raised:
        load_definition(HOUSEHOLD.replace("label: {vi: Tuổi, en: Age}", "label: {vi: 'Tuổi ${name}', en: Age}"))
    assert "cannot show a member's answer ('name')" in str(raised.value.problems[0])
    piped_outside = load_definition(HOUSEHOLD.replace("label: {vi: Tuổi, en: Age}",
                                                      "label: {vi: 'Tuổi (hộ ${n_members} người)', en: Age}"))
    assert piped_outside.item("age").label["vi"] == "Tuổi (hộ ${n_members} người)"


@pytest.mark.parametrize("repeat", ["count: n_members, maximum: 10", "count: 3", "minimum: 1, maximum: 4"])
def test_a_repeat_round_trips_through_an_xlsform_that_pyxform_converts(repeat, tmp_path):
    from pyxform.xls2xform import convert

    from questionnaires.xlsform import load_xlsform
    from questionnaires.xlsform_export import export_xlsform

    definition = load_definition(HOUSEHOLD.replace("count: n_members, maximum: 10", repeat))
    path = tmp_path / "household.xlsx"
    path.write_bytes(export_xlsform(definition))
    converted = convert(xlsform=str(path), validate=False)
    assert 'nodeset="/data/members"' in converted.xform and converted.warnings == []
    if "count" in repeat:
        assert "jr:count=" in converted.xform
    back, notes = load_xlsform(path)
    assert back.to_dict() == definition.to_dict() and notes == []


def test_xlsform_jr_count_and_a_group_inside_are_kept_a_nested_repeat_is_refused_with_its_row(tmp_path):
    from tests.questionnaires.test_xlsform import write_workbook
    from questionnaires.xlsform import load_xlsform

    survey = [["type", "name", "label", "jr:count", "relevant"],
              ["integer", "n", "Số người", None, None],
              ["begin_repeat", "people", "Người", "${n}", None],
              ["begin_group", "inner", "Chi tiết", None, "${n} > 1"],
              ["text", "who", "Tên", None, None],
              ["end_group", None, None, None, None],
              ["end_repeat", None, None, None, None]]
    questionnaire, notes = load_xlsform(write_workbook(tmp_path / "kept.xlsx", {"survey": survey}))
    people = questionnaire.repeats[0]
    assert people.repeat.count == "n" and people.items[0].show_if == "n > 1"
    assert "nested group flattened into its top-level group." in [note.message for note in notes]
    nested = survey[:3] + [["begin_repeat", "visits", "Lần", None, None], ["text", "when", "Khi", None, None],
                           ["end_repeat", None, None, None, None], ["end_repeat", None, None, None, None]]
    with pytest.raises(DefinitionError) as raised:
        load_xlsform(write_workbook(tmp_path / "nested.xlsx", {"survey": nested}))
    assert [(problem.line, problem.field) for problem in raised.value.problems] == [(4, "survey.type")]
    assert "a repeat inside a group or another repeat" in raised.value.problems[0].message


def test_a_loop_over_a_choice_list_asks_its_questions_once_per_choice_as_pyxform_does(tmp_path):
    """pyxform's tests/test_loop.py: one group per choice, '%(label)s' replaced by the choice's label; a reference
    to a question of the loop is an error there (several elements have its name), a refusal with the row here."""
    from tests.questionnaires.test_pyxform_fixtures import FIXTURES
    from tests.questionnaires.test_xlsform import write_workbook
    from questionnaires.xlsform import load_xlsform

    toilets, _ = load_xlsform(FIXTURES / "example_xls/loop.xls")
    assert toilets.item("number_bucket_system").label["en"] == "How many Bucket system are on the premises?"
    assert toilets.validate_answers({"number_bucket_system": "x"})[1] == {
        "number_bucket_system": "Vui lòng nhập một số nguyên."}
    survey = [["type", "name", "label"], ["begin loop over c1", "l1", None], ["integer", "q1", "Count %(name)s"],
              ["note", "q2", "Counted ${q1}"], ["end loop", None, None]]
    choices = [["list_name", "name", "label"], ["c1", "thing1", "Thing 1"], ["c1", "thing2", "Thing 2"]]
    with pytest.raises(DefinitionError) as raised:
        load_xlsform(write_workbook(tmp_path / "loop.xlsx", {"survey": survey, "choices": choices}))
    assert [(problem.line, problem.field) for problem in raised.value.problems][:1] == [(2, "survey.type")]
    assert "the loop's question 'q1' is named by an expression or label" in raised.value.problems[0].message
