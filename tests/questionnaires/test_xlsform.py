"""XLSForm import: a KoBo/ODK-style workbook converts, with a list of what was dropped; bad workbooks fail."""

import pathlib

import openpyxl
import pytest

from questionnaires import DefinitionError, Questionnaire
from questionnaires.validate import validate_files
from questionnaires.xlsform import import_xlsform, load_xlsform, to_yaml

SURVEY = [
    ["type", "name", "label::Vietnamese (vi)", "label::English (en)", "hint::English (en)", "required", "relevant",
     "constraint", "constraint_message", "appearance"],
    ["start", "start", None, None, None, None, None, None, None, None],
    ["begin_group", "respondent", "Người trả lời", "Respondent", None, None, None, None, None, "field-list"],
    ["select_one gender", "gender", "Giới tính", "Gender", None, "yes", None, None, None, None],
    ["integer", "Age", "Tuổi", "Age", "In years", "yes", None, ". >= 18 and . <= 99", "18–99", None],
    ["end_group", None, None, None, None, None, None, None, None, None],
    ["select_multiple services", "services", "Dịch vụ", "Services", None, None, None, None, None, None],
    ["text", "other_service", "Dịch vụ khác", "Other service", None, None, "selected(${services}, 'other')",
     "regex(., '^[A-Za-z ]+$')", None, None],
    ["text", "comment", "Ý kiến", "Comment", None, None, "${Age} > 30 and ${gender} != ''", None, None, None],
    ["note", "thanks", "Cảm ơn", "Thank you", None, None, None, None, None, None],
    ["calculate", "score", None, None, None, None, None, None, None, None],
    ["geopoint", "location", "Vị trí", "Location", None, None, None, None, None, None],
    ["text", "odd", "Lạ", "Odd", None, None, "string-length(${comment}) > 3", None, None, None],
]
CHOICES = [
    ["list_name", "name", "label::Vietnamese (vi)", "label::English (en)"],
    ["gender", "male", "Nam", "Male"],
    ["gender", "female", "Nữ", "Female"],
    ["services", "land", "Đất đai", "Land"],
    ["services", "other", "Khác", "Other"],
]
SETTINGS = [["form_title", "form_id", "version", "default_language"],
            ["Household survey", "household_survey", "2024.1", "Vietnamese (vi)"]]


def write_workbook(path, sheets):
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    workbook.save(path)
    return path


@pytest.fixture
def workbook(tmp_path):
    return write_workbook(tmp_path / "household.xlsx", {"survey": SURVEY, "choices": CHOICES, "settings": SETTINGS})


def test_import_converts_types_groups_labels_and_settings(workbook):
    questionnaire, notes = load_xlsform(workbook)
    assert (questionnaire.key, questionnaire.version) == ("household_survey", "2024.1")
    assert [section.key for section in questionnaire.sections] == ["respondent", "main_2"]
    assert [item.key for item in questionnaire.items] == ["gender", "age", "services", "other_service", "comment",
                                                          "odd"]
    assert questionnaire.item("gender").label == {"vi": "Giới tính", "en": "Gender"}
    assert questionnaire.item("gender").required and questionnaire.item("gender").choice_values() == ["male",
                                                                                                      "female"]
    age = questionnaire.item("age")
    assert (age.type, age.minimum, age.maximum, age.hint["en"]) == ("integer", 18, 99, "In years")


def test_relevant_and_constraints_become_show_if_and_limits(workbook):
    questionnaire, _ = load_xlsform(workbook)
    assert questionnaire.item("other_service").show_if == "'other' in services"
    assert questionnaire.item("other_service").pattern == "[A-Za-z ]+"
    assert questionnaire.item("comment").show_if == "age > 30 and answered(gender)"
    assert questionnaire.item("odd").show_if is None


def test_notes_list_everything_dropped(workbook):
    _, notes = import_xlsform(workbook)
    text = "\n".join(str(note) for note in notes)
    for expected in ("survey row 2: metadata and calculations are not supported; 'start' dropped.",
                     "survey row 5: name 'Age' renamed to 'age'.",
                     "survey row 5: constraint_message dropped",
                     "survey row 3: column 'appearance' is not supported",
                     "survey row 10: type 'note' is not supported; 'thanks' dropped.",
                     "survey row 11: metadata and calculations are not supported; 'score' dropped.",
                     "survey row 12: type 'geopoint' is not supported; 'location' dropped.",
                     "survey row 13: relevant 'string-length(${comment}) > 3' could not be converted"):
        assert expected in text, expected


def test_missing_survey_sheet_is_a_problem(tmp_path):
    path = write_workbook(tmp_path / "bad.xlsx", {"choices": CHOICES})
    with pytest.raises(DefinitionError) as raised:
        import_xlsform(path)
    assert str(raised.value) == f"{path}:1: survey: the workbook has no 'survey' sheet. Add it (sheets found: choices)."


def test_unknown_choice_list_gives_the_row(tmp_path):
    path = write_workbook(tmp_path / "bad.xlsx", {"survey": SURVEY, "choices": CHOICES[:3]})
    with pytest.raises(DefinitionError) as raised:
        import_xlsform(path)
    assert str(raised.value).startswith(f"{path}:7: survey.type: select from the choice list 'services'")


def test_missing_column_is_a_problem(tmp_path):
    path = write_workbook(tmp_path / "bad.xlsx", {"survey": [["name", "label"], ["a", "A"]]})
    (problem,) = validate_files([path])
    assert str(problem) == f"{path}:1: survey.type: the 'survey' sheet has no 'type' column in its first row. Add it."


def test_english_only_form_copies_labels_with_a_note(tmp_path):
    survey = [["type", "name", "label"], ["integer", "household_size", "How many people live here?"]]
    settings = [["form_id", "default_language"], ["english_form", "English"]]
    path = write_workbook(tmp_path / "english.xlsx", {"survey": survey, "settings": settings})
    questionnaire, notes = load_xlsform(path)
    assert questionnaire.item("household_size").label["vi"] == "How many people live here?"
    assert [str(note) for note in notes] == [
        "survey row 1: the workbook has no Vietnamese labels; the English texts are copied, translate them."]


def test_a_row_missing_one_language_is_noted_on_its_row(tmp_path):
    survey = [["type", "name", "label::Vietnamese (vi)", "label::English (en)"],
              ["integer", "size", "Số người", "People"], ["integer", "rooms", None, "Rooms"]]
    questionnaire, notes = load_xlsform(write_workbook(tmp_path / "mixed.xlsx", {"survey": survey}))
    assert questionnaire.item("rooms").label == {"vi": "Rooms", "en": "Rooms"}
    assert [str(note) for note in notes] == ["survey row 3: no vi label; copied the en text, translate it."]


# --- real public workbooks (pyxform 1.6.0 examples, BSD-2-Clause; see data/pyxform/README.md) -------------------

PYXFORM = pathlib.Path(__file__).parent / "data" / "pyxform"
SPEC_TEST = PYXFORM / "xlsform_spec_test.xlsx"
CHOICE_FILTER_TEST = PYXFORM / "choice_filter_test.xlsx"
GROUP_SHOWN = "not 'yes' in skip_to_end"


@pytest.mark.parametrize("path", [SPEC_TEST, CHOICE_FILTER_TEST], ids=lambda path: path.name)
def test_real_workbooks_convert_to_valid_definitions(path, tmp_path):
    definition, _ = import_xlsform(path)
    questionnaire, _ = load_xlsform(path)
    assert Questionnaire.from_dict(questionnaire.to_dict()) == questionnaire
    converted = tmp_path / f"{questionnaire.key}.yaml"
    converted.write_text(to_yaml(definition), encoding="utf-8")
    assert validate_files([path, converted]) == []


def test_spec_test_questions_groups_and_conditions():
    questionnaire, _ = load_xlsform(SPEC_TEST)
    assert (questionnaire.key, questionnaire.version, questionnaire.title["en"]) == ("spec_test", "1", "Spec test")
    assert [(section.key, len(section.items)) for section in questionnaire.sections] == [
        ("main", 1), ("everything", 17), ("main_2", 1)]
    assert [item.key for item in questionnaire.sections[1].items] == [
        "my_name", "address", "text_image_audio_video_test", "autocomplete_test", "autocomplete_chars_test",
        "a_integer", "a_decimal", "required_text", "select_multiple_test", "label_test", "list_nolabel_test",
        "table_list_question", "compact_test", "compact_2_test", "date_test", "q_1", "false"]
    # the group's relevant not(selected(${skip_to_end}, 'yes')) is carried by each of its questions
    assert {item.show_if for item in questionnaire.sections[1].items} == {GROUP_SHOWN}
    assert questionnaire.item("launch").show_if is None
    visible = {item.key for item in questionnaire.visible_items({"skip_to_end": "yes"})}
    assert visible == {"skip_to_end", "launch"}
    assert [questionnaire.item(key).type for key in ("skip_to_end", "select_multiple_test", "a_decimal", "date_test")
            ] == ["single", "multiple", "decimal", "date"]
    assert questionnaire.item("required_text").required and questionnaire.item("list_nolabel_test").required
    assert questionnaire.item("select_multiple_test").choice_values() == ["yes", "no"]
    assert questionnaire.item("compact_test").choices[0].label == {"vi": "a", "en": "a"}
    address = questionnaire.item("address")
    assert address.label == {"vi": "Enter an address", "en": "Enter an address"}
    assert address.hint == {}  # its only hint is in Chinese (noted)
    assert questionnaire.item("table_list_question").hint == {"vi": "hint", "en": "hint"}


def test_spec_test_answers_validate():
    questionnaire, _ = load_xlsform(SPEC_TEST)
    clean, errors = questionnaire.validate_answers({"skip_to_end": "no", "a_integer": "3", "a_decimal": "2,5",
                                                    "select_multiple_test": ["no", "yes"]}, lang="en")
    assert clean == {"skip_to_end": "no", "a_integer": 3, "a_decimal": 2.5, "select_multiple_test": ["yes", "no"]}
    assert errors == {"required_text": "This question is required.", "list_nolabel_test": "This question is required."}
    assert questionnaire.validate_answers({"skip_to_end": "yes"}) == ({"skip_to_end": "yes"}, {})


def test_spec_test_notes_name_every_dropped_thing():
    _, notes = import_xlsform(SPEC_TEST)
    text = [str(note) for note in notes]
    assert len(text) == 83
    for expected in (
            "columns row 1: sheet 'columns' is not read (only survey, choices and settings); ignored.",
            "settings row 2: setting 'public_key' is not supported; dropped.",
            "settings row 2: setting 'instance_name' is not supported; dropped.",
            "settings row 1: no default_language; columns without a language (hint, label) are taken as English.",
            "survey row 1: the workbook has no Vietnamese labels; the English texts are copied, translate them.",
            "choices row 2: column 'label::chinese' is not Vietnamese or English; dropped.",
            "survey row 6: column 'hint::chinese' is not Vietnamese or English; dropped.",
            "choices row 4: choice 'a' of list 'a_b' has no label; its name is used.",
            "choices row 1: column 'image' is not supported (used by choice_filter or media); dropped from 2 rows.",
            "survey row 3: group relevant 'not(selected(${skip_to_end}, 'yes'))' is added to the show_if of each "
            "of its questions.",
            "survey row 4: column 'rows' is not supported; dropped.",
            "survey row 9: column 'media::video' is not supported; dropped.",
            "survey row 14: constraint '. <= ${a_integer}' is not supported; dropped.",
            "survey row 15: repeat groups are not supported; their questions are asked once.",
            "survey row 15: column 'repeat_count' is not supported; dropped.",
            "survey row 16: nested group flattened into its top-level group.",
            "survey row 17: column 'requiredMsg' is not supported; dropped.",
            "survey row 18: constraint 'not(selected(., 'yes') and selected (., 'no'))' is not supported; dropped.",
            "survey row 18: constraint_message dropped; the standard messages are shown.",
            "survey row 30: type 'acknowledge' is not supported; 'acknowledge_test' dropped.",
            "survey row 40: metadata and calculations are not supported; 'calculate_test' dropped.",
            "survey row 50: type 'uri:deviceid' is not supported; 'uri_deviceid' dropped.",
            "survey row 54: name '_1' renamed to 'q_1'.",
            "survey row 57: column 'buttonText' is not supported; dropped.",
            "settings row 2: name 'Spec test' renamed to 'spec_test'."):
        assert expected in text, expected


def test_every_survey_row_of_the_spec_test_is_converted_or_noted():
    from questionnaires.xlsform import read_sheets

    questionnaire, notes = load_xlsform(SPEC_TEST)
    noted_rows = {note.row for note in notes if note.sheet == "survey" and "dropped" in note.message}
    converted = {item.key for item in questionnaire.items}
    for row, values in read_sheets(SPEC_TEST)["survey"][1:]:
        kind = values["type"].lower().replace(" ", "_")
        if kind.startswith(("begin_", "end_")):
            continue
        assert (values["name"].lower().lstrip("_") in converted or f"q{values['name']}" in converted
                or row in noted_rows), (row, values["name"])
        if row in noted_rows and kind in ("note", "calculate", "acknowledge", "time", "geopoint", "image"):
            assert values["name"].lower() not in converted


def test_choice_filter_test_keeps_the_first_of_a_repeated_choice():
    questionnaire, notes = load_xlsform(CHOICE_FILTER_TEST)
    assert [item.key for item in questionnaire.items] == ["state", "county", "city"]
    assert questionnaire.item("county").choice_values() == ["king", "pierce", "cameron"]
    assert questionnaire.item("city").choice_values()[:2] == ["dumont", "finney"]
    assert [str(note) for note in notes] == [
        "settings row 2: setting 'allow_choice_duplicates' is not supported; dropped.",
        "settings row 1: no default_language; columns without a language (label) are taken as Vietnamese.",
        "survey row 1: the workbook has no English labels; the Vietnamese texts are copied, translate them.",
        "choices row 6: choice 'king' of list 'counties' repeats row 4; dropped.",
        "choices row 1: column 'cf' is not supported (used by choice_filter or media); dropped from 12 rows.",
        "survey row 3: column 'choice_filter' is not supported; dropped.",
        "survey row 4: column 'choice_filter' is not supported; dropped."]


def test_importer_fixes_found_on_real_forms(tmp_path):
    survey = [
        ["type", "name", "label", "relevant", "constraint"],
        ["select_one yn or_other", "consent", "Consent?", None, None],
        ["calculate", "score", None, None, None],
        ["begin group", "outer", "Outer", "${consent} = 1", None],
        ["begin group", "inner", "Inner", "${consent} != ''", None],
        ["text", "motto", "Motto", "${consent} = 'a=b'", "regex(., '^[a-z]+$') and (. != 'x' and . != 'y')"],
        ["integer", "total", "Total", "${score} > 3", None],
        ["end group", None, None, None, None],
        ["end group", None, None, None, None],
    ]
    choices = [["list_name", "name", "label"], ["yn", 1, "Yes"], ["yn", 2, "No"]]
    path = write_workbook(tmp_path / "fixes.xlsx", {"survey": survey, "choices": choices})
    questionnaire, notes = load_xlsform(path)
    text = [str(note) for note in notes]
    assert questionnaire.item("consent").choice_values() == ["1", "2"]  # numeric cells, not '1.0'
    assert "survey row 2: or_other dropped; add an 'other' choice and a text question shown for it." in text
    # both groups' conditions and the question's own, '=' inside a quoted text left alone
    assert questionnaire.item("motto").show_if == "consent == 1 and answered(consent) and consent == 'a=b'"
    assert questionnaire.item("motto").pattern == "[a-z]+"
    assert "survey row 6: constraint part '(. != 'x' and . != 'y')' is not supported; dropped." in text
    # a relevant naming a dropped question is noted and the question shown (the group conditions still apply)
    assert questionnaire.item("total").show_if == "consent == 1 and answered(consent)"
    assert ("survey row 7: relevant '${score} > 3' refers to score, not an earlier converted question; "
            "dropped.") in text
