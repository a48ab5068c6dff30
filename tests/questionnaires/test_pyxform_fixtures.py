"""pyxform's own 57 test workbooks (../shared/data/xlsforms-pyxform, BSD-2-Clause): each imports with every
question and its logic, or is refused with row-numbered reasons; none imports with logic silently lost.

The table is the outcome of each: the item keys it imports as, or the (row, column) of every reason it is refused
for. docs/questionnaires.md gives the counts and the reasons in words.
"""

from __future__ import annotations

import pathlib

import pytest

from questionnaires import DefinitionError
from questionnaires.xlsform import load_xlsform, read_sheets

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "xlsforms-pyxform"
FIXTURES = FIXTURES if FIXTURES.is_dir() else pathlib.Path("/work/shared/data/xlsforms-pyxform")
OUTCOMES = {
    "bug_example_xls/ODKValidateWarnings.xlsx": [(3, 'type')],
    "bug_example_xls/UCL_Biomass_Plot_Form.xlsx": [(9, 'relevant'), (16, 'type'), (17, 'type'), (18, 'type'), (20, 'type'), (22, 'type'), (23, 'type'), (32, 'relevant'), (33, 'calculation'), (35, 'type'), (36, 'relevant'), (38, 'constraint'), (43, 'type'), (45, 'constraint'), (46, 'type'), (48, 'relevant'), (49, 'required'), (49, 'required'), (56, 'relevant'), (57, 'type'), (58, 'relevant'), (60, 'constraint'), (65, 'type'), (72, 'relevant'), (73, 'type'), (74, 'relevant'), (80, 'relevant'), (81, 'type'), (82, 'relevant')],
    "bug_example_xls/bad_calc.xlsx": [(2, 'calculation')],
    "bug_example_xls/badly_named_choices_sheet.xls": ['age', 'name', 'color'],
    "bug_example_xls/blank_second_row.xls": ['value'],
    "bug_example_xls/calculate_without_calculation.xls": [(24, 'type'), (28, 'type'), (29, 'type'), (30, 'type'), (31, 'type'), (32, 'type'), (34, 'calculation')],
    "bug_example_xls/duplicate_columns.xlsx": [(7, 'relevant'), (14, 'constraint'), (15, 'relevant'), (16, 'type'), (19, 'constraint'), (31, 'type'), (35, 'type'), (36, 'type'), (37, 'type'), (38, 'type'), (39, 'type'), (44, 'label'), (46, 'label'), (48, 'label'), (50, 'label'), (52, 'label'), (54, 'label')],
    "bug_example_xls/extra_columns.xls": [(19999, 'type')],
    "bug_example_xls/group_name_test.xls": [(4, 'type')],
    "bug_example_xls/ict_survey_fails.xls": ['internet_teach'],
    "bug_example_xls/spaces_in_choices_header.xls": [(2, 'choice_filter'), (2, 'constraint')],
    "bug_example_xls/xl_date_ambiguous.xlsx": [(4, 'relevant'), (5, 'choice_filter')],
    "bug_example_xls/xl_date_ambiguous_v1.xlsx": ['name1', 'name2', 'name3', 'names', 'current_date'],
    "example_xls/allow_comment_rows_test.xls": ['farmer_name'],
    "example_xls/attribute_columns_test.xlsx": [(2, 'bind::saveIncomplete'), (5, 'bind::bindAttribute'), (6, 'bind::bindAttribute'), (7, 'relevant'), (14, 'constraint'), (15, 'type'), (15, 'bind::bindAttribute'), (18, 'constraint'), (30, 'type'), (31, 'bind::bindAttribute'), (32, 'bind::bindAttribute'), (33, 'bind::bindAttribute'), (34, 'type'), (35, 'type'), (36, 'type'), (37, 'type'), (38, 'type'), (40, 'bind::bindAttribute'), (43, 'label'), (45, 'label'), (47, 'label'), (49, 'label'), (51, 'label'), (53, 'label'), (55, 'label')],
    "example_xls/bad_calc.xlsx": [(2, 'calculation')],
    "example_xls/calculate.xls": [(4, 'calculation')],
    "example_xls/cascading_select_test_equivalent.xls": ['mylga_zone', 'mylga_state_in_zone_1', 'mylga_state_in_zone_2', 'mylga_state', 'mylga_lga_in_state_1', 'mylga_lga_in_state_2', 'mylga_lga_in_state_3', 'mylga_lga_in_state_4', 'mylga'],
    "example_xls/case_insensitivity.xls": [(3, 'type'), (4, 'type')],
    "example_xls/case_insensitivity.xlsx": [(3, 'type'), (4, 'type')],
    "example_xls/choice_filter_test.xlsx": ['state', 'county', 'city'],
    "example_xls/choice_name_as_type.xls": [(3, 'type')],
    "example_xls/choice_name_same_as_select_name.xls": ['zone'],
    "example_xls/default_time_demo.xls": ['start_time'],
    "example_xls/extra_columns.xlsx": ['a'],
    "example_xls/extra_sheet_names.xlsx": ['test'],
    "example_xls/field-list.xlsx": ['table_list_question'],
    "example_xls/flat_xlsform_test.xlsx": [(3, 'relevant'), (14, 'constraint'), (18, 'constraint'), (30, 'type'), (34, 'type'), (35, 'type'), (36, 'type'), (37, 'type'), (38, 'type'), (43, 'label'), (45, 'label'), (47, 'label'), (49, 'label'), (51, 'label'), (53, 'label'), (55, 'label')],
    "example_xls/gps.xls": [(2, 'type')],
    "example_xls/group.xls": [(4, 'type')],
    "example_xls/group.xlsx": [(4, 'type')],
    "example_xls/hidden.xls": [(9, 'sections')],
    "example_xls/include.xls": [(3, 'type')],
    "example_xls/include.xlsx": [(3, 'type')],
    "example_xls/include_json.xls": [(2, 'type')],
    "example_xls/include_json.xlsx": [(2, 'type')],
    "example_xls/loop.xls": ['available_toilet_types', 'available_toilet_types_other', 'number_pit_latrine_with_slab', 'number_open_pit_latrine', 'number_bucket_system'],
    "example_xls/loop.xlsx": ['available_toilet_types', 'available_toilet_types_other', 'number_pit_latrine_with_slab', 'number_open_pit_latrine', 'number_bucket_system'],
    "example_xls/or_other.xlsx": [(3, 'choice_filter')],
    "example_xls/pull_data.xlsx": [(2, 'calculation')],
    "example_xls/repeat_date_test.xls": ['note_2', 'repeat_count', 'table_list_3', 'table_list_4', 'note_8'],
    "example_xls/simple_loop.xls": ['count_col1', 'count_col2'],
    "example_xls/sms_info.xls": [(9, 'type'), (10, 'type')],
    "example_xls/specify_other.xls": ['sex', 'sex_other'],
    "example_xls/specify_other.xlsx": ['sex', 'sex_other'],
    "example_xls/style_settings.xls": ['your_name', 'your_age'],
    "example_xls/survey_no_name.xlsx": [(1, 'survey')],
    "example_xls/table-list.xls": ['intro', 'table_list_3', 'table_list_4', 'happy_sad_brian', 'happy_sad_michael'],
    "example_xls/text_and_integer.xls": ['your_name', 'your_age'],
    "example_xls/text_and_integer.xlsx": ['your_name', 'your_age'],
    "example_xls/tutorial.xls": ['name', 'relationship_to_household_head', 'sex', 'resident', 'stayed_last_night', 'older_than_five', 'age_in_months', 'age_in_years', 'literate', 'pregnant'],
    "example_xls/unknown_question_type.xls": [(2, 'type'), (3, 'type'), (4, 'type'), (5, 'type'), (6, 'type'), (7, 'type'), (8, 'type'), (9, 'type'), (10, 'type'), (14, 'relevant'), (15, 'relevant'), (16, 'relevant'), (17, 'relevant'), (18, 'relevant'), (19, 'relevant'), (27, 'type'), (28, 'type'), (31, 'relevant'), (32, 'relevant'), (33, 'relevant'), (34, 'relevant'), (35, 'relevant'), (36, 'relevant'), (38, 'relevant'), (39, 'relevant'), (40, 'relevant'), (41, 'relevant'), (43, 'relevant'), (44, 'relevant'), (45, 'relevant'), (46, 'relevant'), (47, 'relevant'), (48, 'relevant'), (49, 'relevant'), (52, 'type')],
    "example_xls/widgets.xls": [(4, 'constraint'), (7, 'constraint'), (9, 'type'), (10, 'label'), (11, 'type'), (12, 'type'), (13, 'type'), (14, 'type'), (15, 'type'), (17, 'type')],
    "example_xls/xlsform_spec_test.xlsx": [(7, 'relevant'), (14, 'constraint'), (15, 'type'), (18, 'constraint'), (30, 'type'), (34, 'type'), (35, 'type'), (36, 'type'), (37, 'type'), (38, 'type'), (43, 'label'), (45, 'label'), (47, 'label'), (49, 'label'), (51, 'label'), (53, 'label')],
    "example_xls/xml_escaping.xls": ['a', 'b', 'table_list_3'],
    "example_xls/yes_or_no_question.xls": ['good_day'],
    "example_xls/yes_or_no_question.xlsx": ['good_day'],
}
LOGIC_COLUMNS = ("relevant", "constraint", "calculation", "choice_filter", "repeat_count")


def test_the_table_covers_all_57_workbooks():
    found = sorted(f"{path.parent.name}/{path.name}" for path in FIXTURES.glob("*/*.xls*"))
    assert found == sorted(OUTCOMES) and len(found) == 57


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_each_workbook_imports_whole_or_is_refused_with_its_rows(name):
    expected = OUTCOMES[name]
    path = FIXTURES / name
    if expected and isinstance(expected[0], tuple):
        with pytest.raises(DefinitionError) as raised:
            load_xlsform(path)
        assert [(problem.line, problem.field.removeprefix("survey.")) for problem in raised.value.problems] == expected
        return
    questionnaire, _notes = load_xlsform(path)
    assert [item.key for section in questionnaire.sections for item in section.items] == expected
    assert_no_logic_lost(path, questionnaire)
    assert_filled_form_is_accepted(questionnaire)


def assert_no_logic_lost(path, questionnaire):
    """Every survey row with logic became an item carrying it (a refusal would have been raised otherwise)."""
    sheets = read_sheets(path)
    repeats = {section.key: section.repeat for section in questionnaire.repeats}
    for row, values in sheets["survey"][1:]:
        for column in LOGIC_COLUMNS:
            if column == "repeat_count" and values.get(column):
                assert repeats[values["name"].lower()].count, row
            elif values.get(column):
                item = questionnaire.item(values["name"].lower())
                assert (item.show_if or item.minimum is not None or item.maximum is not None or item.pattern
                        or item.choice_filter or item.calculation or item.earliest or item.latest), (row, column)


def answer_for(item, earlier: dict) -> object:
    """A valid answer for any item type the importer produces (a choice that the earlier answers leave offered)."""
    if item.type in ("single", "multiple"):
        first = item.offered_choices(earlier)[0].value
        return first if item.type == "single" else [first]
    if item.type in ("integer", "decimal"):
        return str(int(item.minimum if item.minimum is not None else 1))
    if item.type == "date":
        return "25/12/2024"
    if item.type == "time":
        return "9h30"
    if item.type == "datetime":
        return "25/12/2024 09:30"
    return "abc"


def assert_filled_form_is_accepted(questionnaire):
    answers = {}
    for item in questionnaire.items:
        answers[item.key] = answer_for(item, answers)
    clean, errors = questionnaire.validate_answers(answers, lang="vi")
    for section in questionnaire.repeats:  # as many members as the count asks for, else two
        members = [fill_member(section, clean) for _ in range(section.repeat.expected_count(clean) or 2)]
        answers[section.key] = members
    clean, errors = questionnaire.validate_answers(answers, lang="vi")
    not_asked = {item.key for item in questionnaire.items if item.type in ("note", "calculate")}  # never typed
    repeat_keys = {section.key for section in questionnaire.repeats}
    assert errors == {} and set(clean) - not_asked - repeat_keys == questionnaire.visible_keys(clean) - not_asked
    assert all(len(clean[key]) == len(answers[key]) for key in repeat_keys)
    required = {item.key for item in questionnaire.items if item.required}
    assert set(questionnaire.validate_answers({}, lang="vi")[1]) - repeat_keys == required


def fill_member(section, outer: dict) -> dict:
    member = {}
    for item in section.items:
        member[item.key] = answer_for(item, {**outer, **member})
    return member


def test_a_repeat_asks_its_questions_per_member_as_in_the_xlsform():
    """tutorial.xls asks each household member's questions in `begin repeat member`; age in months only when not
    older than five (relevant ${older_than_five}='no', constraint . <= 72), literacy only of women 15-49."""
    questionnaire, _ = load_xlsform(FIXTURES / "example_xls/tutorial.xls")
    child = {"name": "Bé", "relationship_to_household_head": questionnaire.item(
        "relationship_to_household_head").choice_values()[0], "sex": "female", "resident": "yes",
        "stayed_last_night": "yes", "older_than_five": "no", "age_in_months": "80", "age_in_years": "30"}
    woman = {**child, "name": "Mẹ", "older_than_five": "yes", "age_in_years": "30", "literate": "yes"}
    clean, errors = questionnaire.validate_answers({"member": [woman, child]})
    assert errors == {"member.2.age_in_months": "Thành viên 2: Giá trị phải nhỏ hơn hoặc bằng 72."}
    assert clean["member"][0]["literate"] == "yes" and "age_in_months" not in clean["member"][0]
    assert "age_in_years" not in clean["member"][1]
    counted, _ = load_xlsform(FIXTURES / "example_xls/repeat_date_test.xls")  # repeat_count ${repeat_count}, = 1
    assert counted.repeats[0].repeat.count == "repeat_count"
    assert counted.validate_answers({"repeat_test": []})[1] == {
        "repeat_test": "Cần đúng 1 thành viên theo câu trả lời trước; đã có 0."}


def test_a_kept_relevant_behaves_as_in_the_xlsform():
    """badly_named_choices_sheet.xls asks a name only of adults: bind:relevant '${age} >= 18' (pyxform's old
    spelling of relevant)."""
    questionnaire, _ = load_xlsform(FIXTURES / "bug_example_xls/badly_named_choices_sheet.xls")
    adult, errors = questionnaire.validate_answers({"age": "18", "name": "An", "color": "red"})
    assert errors == {} and adult == {"age": 18, "name": "An", "color": "red"}
    child, errors = questionnaire.validate_answers({"age": "17", "name": "An", "color": "red"})
    assert errors == {} and child == {"age": 17, "color": "red"}


def test_a_calculation_decides_later_questions_as_in_the_xlsform():
    """cascading_select_test_equivalent.xls: zone → state (one question per zone) → mylga_state = if(...) → lga
    questions shown by the computed state → mylga = if(...): computed at submit and stored with the answers."""
    questionnaire, _ = load_xlsform(FIXTURES / "example_xls/cascading_select_test_equivalent.xls")
    clean, errors = questionnaire.validate_answers({
        "mylga_zone": "zone_2", "mylga_state_in_zone_2": "state_3", "mylga_lga_in_state_3": "lga_5",
        "mylga_lga_in_state_1": "lga_1", "mylga_state": "forged"})
    assert errors == {}
    assert clean == {"mylga_zone": "zone_2", "mylga_state_in_zone_2": "state_3", "mylga_state": "state_3",
                     "mylga_lga_in_state_3": "lga_5", "mylga": "lga_5"}
    nothing, _ = questionnaire.validate_answers({})
    assert nothing == {"mylga_state": "ERROR", "mylga": "ERROR"}
    constants, _ = load_xlsform(FIXTURES / "example_xls/xml_escaping.xls")
    assert {key: value for key, value in constants.validate_answers({})[0].items()} == {"a": 2, "b": 1}


def test_or_other_adds_the_other_choice_and_its_text_question_as_pyxform_does():
    questionnaire, _ = load_xlsform(FIXTURES / "example_xls/specify_other.xlsx")
    assert questionnaire.item("sex").choice_values()[-1] == "other"
    other, errors = questionnaire.validate_answers({"sex": "other", "sex_other": "Không muốn nói"})
    assert errors == {} and other == {"sex": "other", "sex_other": "Không muốn nói"}
    named, errors = questionnaire.validate_answers({"sex": questionnaire.item("sex").choice_values()[0],
                                                    "sex_other": "x"})
    assert errors == {} and "sex_other" not in named


def test_cascading_choices_offer_only_what_the_earlier_answer_allows(tmp_path):
    """choice_filter_test.xlsx: state → county (choice_filter ${state}=cf) → city (${county}=cf)."""
    questionnaire, _ = load_xlsform(FIXTURES / "example_xls/choice_filter_test.xlsx")
    county = questionnaire.item("county")
    assert county.choice_filter == ({"column": "cf", "item": "state"},)
    assert [choice.value for choice in county.offered_choices({"state": "texas"})] == ["cameron"]
    clean, errors = questionnaire.validate_answers({"state": "washington", "county": "king", "city": "seattle"})
    assert errors == {} and clean == {"state": "washington", "county": "king", "city": "seattle"}
    clean, errors = questionnaire.validate_answers({"state": "texas", "county": "cameron", "city": "seattle"},
                                                   lang="en")
    assert clean == {"state": "texas", "county": "cameron"}
    assert errors == {"city": "This option does not go with the answer to an earlier question; please choose again."}
    # the filter survives the stored form, the YAML form and an XLSForm export that pyxform converts
    from pyxform.xls2xform import convert

    from questionnaires import Questionnaire, load_definition
    from questionnaires.xlsform import import_xlsform, to_yaml
    from questionnaires.xlsform_export import export_xlsform

    assert Questionnaire.from_dict(questionnaire.to_dict()) == questionnaire
    assert load_definition(to_yaml(import_xlsform(FIXTURES / "example_xls/choice_filter_test.xlsx")[0])) == \
        questionnaire
    exported = tmp_path / "cascading.xlsx"
    exported.write_bytes(export_xlsform(questionnaire))
    assert "cf = " in convert(xlsform=str(exported), validate=False).xform
    assert load_xlsform(exported)[0].to_dict() == questionnaire.to_dict()
