"""XLSForm import: a KoBo/ODK-style workbook converts, with a list of what was dropped; bad workbooks fail."""

import openpyxl
import pytest

from questionnaires import DefinitionError
from questionnaires.validate import validate_files
from questionnaires.xlsform import import_xlsform, load_xlsform

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
    assert "survey row 2: no vi label; copied the en text, translate it." in [str(note) for note in notes]
