"""XLSForm import: a KoBo/ODK-style workbook converts, with notes on what was dropped that carries no logic; logic
that cannot be kept and invalid expressions refuse the form, with every reason by row."""

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
                                                          "thanks"]
    assert questionnaire.item("thanks").type == "note"  # kept as text to read
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


def test_notes_list_everything_dropped(workbook):
    _, notes = import_xlsform(workbook)
    text = "\n".join(str(note) for note in notes)
    for expected in ("survey row 2: metadata 'start' is not kept; 'start' dropped.",
                     "survey row 5: name 'Age' renamed to 'age'.",
                     "survey row 5: no en constraint_message; copied the vi text, translate it."):
        assert expected in text, expected
    assert "appearance" not in text  # the group's field-list is kept on its section


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


# --- what cannot be kept refuses the form, with every reason by row ------------------------------------------

BROKEN = [
    ["type", "name", "label", "relevant", "constraint", "calculation", "choice_filter"],
    ["select_one yn", "q1", "Q1", None, None, None, None],
    ["integer", "q3", "Q3", None, None, None, None],
    ["text", "a", "A", "${q1} = = 'yes' and (", None, None, None],
    ["text", "b", "B", "${nosuch} > 1", None, None, None],
    ["integer", "c", "C", None, "${q3} >>> 5", None, None],
    ["calculate", "total", None, None, None, "${q3} * uuid()", None],
    ["geopoint", "where", "Where", None, None, None, None],
    ["text", "d", "D", "string-length(${a}) > 3", None, None, None],
    ["select_one yn", "e", "E", None, None, None, "name = ${q1}"],
    ["begin loop over people_list", "people", "People", None, None, None, None],
    ["text", "person", "Person", None, None, None, None],
    ["end loop", None, None, None, None, None, None],
    ["integer", "f", "F", "${total} > 1", ". > ${q3}", None, None],
    ["text", "g", "G", "${g} != ''", None, None, None],
]
YES_NO = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]


def test_every_invalid_expression_and_lost_logic_is_refused_with_its_row(tmp_path):
    path = write_workbook(tmp_path / "broken.xlsx", {"survey": BROKEN, "choices": YES_NO})
    with pytest.raises(DefinitionError) as raised:
        import_xlsform(path)
    where = [(problem.line, problem.field) for problem in raised.value.problems]
    assert where == [(4, "survey.relevant"), (5, "survey.relevant"), (6, "survey.constraint"),
                     (7, "survey.calculation"), (8, "survey.type"), (9, "survey.relevant"),
                     (10, "survey.choice_filter"), (11, "survey.type"), (14, "survey.constraint"),
                     (15, "survey.relevant")]
    text = [problem.message for problem in raised.value.problems]
    assert text[0] == ("'${q1} = = 'yes' and (' is not a valid expression: column 9: expected a value, a reference "
                       "${name}, a function or '(', found '='. Fix it in the workbook.")
    assert "refers to ${nosuch}, which no row of the survey sheet names" in text[1]
    assert "column 8: expected a value" in text[2] and "'${q3} >>> 5'" in text[2]
    assert "calculation '${q3} * uuid()' uses the function uuid()" in text[3]
    assert "question type 'geopoint' ('where') is not supported" in text[4]
    assert "uses the function string-length()" in text[5]
    assert "choice_filter 'name = ${q1}' reads the column 'name', which the choices of this list do not have" in text[6]
    assert "select from the choice list 'people_list', which the 'choices' sheet does not define" in text[7]
    assert "a comparison with the answer to ${q3}" in text[8]  # row 14's relevant on ${total} is kept now
    assert "refers to the question itself" in text[9]
    # the administrator on the web reads them in Vietnamese
    assert raised.value.problems[1].message_vi.startswith("'${nosuch} > 1' nhắc tới ${nosuch}, nhưng không dòng nào")


def test_the_command_line_lists_every_reason_and_writes_nothing(tmp_path):
    from typer.testing import CliRunner

    from survey_app.cli import app

    path = write_workbook(tmp_path / "broken.xlsx", {"survey": BROKEN, "choices": YES_NO})
    output = tmp_path / "out.yaml"
    result = CliRunner().invoke(app, ["import-xlsform", str(path), "-o", str(output)])
    assert result.exit_code == 1 and not output.exists()
    lines = [line for line in result.output.splitlines() if line.startswith(str(path))]
    assert [line.split(":")[1] for line in lines] == ["4", "5", "6", "7", "8", "9", "10", "11", "14", "15"]


KEPT = [
    ["type", "name", "label", "relevant", "constraint", "required"],
    ["select_one yn", "consent", "Consent?", None, None, "yes"],
    ["begin group", "outer", "Outer", "${consent} = 'yes'", None, None],
    ["begin group", "inner", "Inner", "${consent} != ''", None, None],
    ["text", "motto", "Motto", "${consent} = 'a=b' or not(${consent} != 'yes')", "regex(., '^[a-z]+$')", None],
    ["integer", "age", "Age", "selected(${consent}, 'yes')", ". > 1 and . <= 54", "no"],
    ["decimal", "fee", "Fee", "${age} >= 18", ". >= 0.5", None],
    ["select_multiple yn", "pick", "Pick", "${age}", "count-selected(.) < 2", None],
    ["text", "why", "Why", "${later} > 3", "string-length(.) <= 20", None],
    ["text", "more", "More", "count-selected(${pick}) > 0 and string-length(${why}) = 0", None, None],
    ["integer", "later", "Later", None, None, None],
    ["end group", None, None, None, None, None],
    ["end group", None, None, None, None, None],
]


def test_logic_that_the_model_can_hold_is_kept_with_the_same_meaning(tmp_path):
    choices = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]
    questionnaire, _ = load_xlsform(write_workbook(tmp_path / "kept.xlsx", {"survey": KEPT, "choices": choices}))
    group = "consent == 'yes' and answered(consent)"
    assert questionnaire.item("motto").show_if == f"{group} and (consent == 'a=b' or not not consent == 'yes')"
    assert questionnaire.item("motto").pattern == "[a-z]+"
    age = questionnaire.item("age")
    assert (age.minimum, age.maximum, age.required, age.show_if) == (2, 54, False, f"{group} and 'yes' in consent")
    assert questionnaire.item("fee").minimum == 0.5
    assert (questionnaire.item("pick").max_choices, questionnaire.item("pick").show_if) == (1, f"{group} and "
                                                                                            "answered(age)")
    assert questionnaire.item("why").max_length == 20
    assert questionnaire.item("why").show_if == f"{group} and later > 3"  # a later question may be named
    assert questionnaire.item("more").show_if == f"{group} and (answered(pick) and not answered(why))"
    # the server-side checks behave as the XLSForm would
    clean, errors = questionnaire.validate_answers({"consent": "yes", "age": "1", "pick": ["yes", "no"],
                                                    "motto": "Abc", "why": "x" * 21, "later": "4"}, lang="en")
    assert set(errors) == {"age", "motto", "why"}  # pick is hidden while age has no valid answer
    assert set(questionnaire.validate_answers({"consent": "yes", "age": "20", "pick": ["yes", "no"]})[1]) == {"pick"}
    clean, errors = questionnaire.validate_answers({"consent": "yes", "age": "54", "fee": "0,5", "pick": ["no"],
                                                    "motto": "abc", "why": "ok", "later": "4"}, lang="en")
    assert errors == {} and clean["age"] == 54 and clean["why"] == "ok"
    clean, errors = questionnaire.validate_answers({"consent": "no", "age": "30", "later": "2"}, lang="en")
    assert "age" not in clean and "motto" not in clean and "why" not in clean  # hidden: not 'yes', later ≤ 3
    assert questionnaire.visible_keys({"consent": "yes", "later": 2}) >= {"motto", "age"}
    assert "fee" not in questionnaire.visible_keys({"consent": "yes", "age": 17})


def test_a_constraint_message_is_kept_in_each_language_and_shown_for_a_broken_limit(tmp_path):
    survey = [["type", "name", "label::Vietnamese (vi)", "label::English (en)", "constraint",
               "constraint_message::Vietnamese (vi)", "constraint_message::English (en)"],
              ["integer", "age", "Tuổi", "Age", ". >= 18 and . <= 99", "Tuổi từ 18 đến 99", "Age 18 to 99"],
              ["integer", "rooms", "Số phòng", "Rooms", None, "Không dùng", "Unused"]]
    path = write_workbook(tmp_path / "messages.xlsx", {"survey": survey})
    questionnaire, notes = load_xlsform(path)
    assert questionnaire.item("age").constraint_message == {"vi": "Tuổi từ 18 đến 99", "en": "Age 18 to 99"}
    assert questionnaire.validate_answers({"age": "17"})[1] == {"age": "Tuổi từ 18 đến 99"}
    assert questionnaire.validate_answers({"age": "100"}, lang="en")[1] == {"age": "Age 18 to 99"}
    assert questionnaire.validate_answers({"age": "x"}, lang="en")[1] == {"age": "Please enter a whole number."}
    assert "survey row 3: constraint_message without a constraint; dropped." in [str(note) for note in notes]
    assert Questionnaire.from_dict(questionnaire.to_dict()) == questionnaire
    # the export carries it and pyxform accepts the columns
    from pyxform.xls2xform import convert

    from questionnaires.xlsform_export import export_xlsform

    exported = tmp_path / "exported.xlsx"
    exported.write_bytes(export_xlsform(questionnaire))
    assert "Age 18 to 99" in convert(xlsform=str(exported), validate=False).xform
    assert load_xlsform(exported)[0].to_dict() == questionnaire.to_dict()


def test_a_piped_label_is_kept_without_a_note_now_that_the_form_pipes_it(tmp_path):
    survey = [["type", "name", "label"], ["text", "first_name", "Tên"], ["integer", "age", "Tuổi của ${first_name}?"]]
    questionnaire, notes = load_xlsform(write_workbook(tmp_path / "piping.xlsx", {"survey": survey}))
    assert questionnaire.item("age").label["vi"] == "Tuổi của ${first_name}?"
    assert not any("piped" in str(note) or "${" in str(note) for note in notes)


# --- any workbook: a questionnaire or a DefinitionError, never another exception -------------------------------

from hypothesis import HealthCheck, given, settings, strategies  # noqa: E402

CELLS = strategies.one_of(strategies.none(), strategies.sampled_from([
    "${a}", "${b} = 'x'", ". >= 1", "selected(${a}, 'x')", "count-selected(.) <= 1", "cf = ${a}", "yes", "no",
    "select_one yn", "select_multiple yn or_other", "integer", "text", "calculate", "begin_group", "end_group",
    "begin_repeat", "note", "a", "b", "c", "((", "${a} >>> 1", "regex(., '[')", "string-length(.) < 0"]),
    strategies.text(strategies.characters(blacklist_categories=("Cc", "Cs")), max_size=12))  # what a cell can hold
ROWS = strategies.lists(strategies.lists(CELLS, min_size=6, max_size=6), max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ROWS)
def test_any_survey_sheet_imports_or_is_refused_with_reasons(tmp_path, rows):
    header = ["type", "name", "label", "relevant", "constraint", "choice_filter"]
    choices = [["list_name", "name", "label", "cf"], ["yn", "x", "X", "x"], ["yn", "y", "Y", "y"]]
    path = write_workbook(tmp_path / "any.xlsx", {"survey": [header, *rows], "choices": choices})
    try:
        load_xlsform(path)
    except DefinitionError as error:
        assert error.problems and all(problem.line >= 1 for problem in error.problems)


def test_select_appearances_are_kept_and_others_noted(tmp_path):
    survey = [["type", "name", "label", "appearance"], ["select_one yn", "a", "A", "likert"],
              ["select_one yn", "b", "B", "minimal"], ["select_multiple yn", "c", "C", "horizontal-compact"],
              ["select_multiple yn", "d", "D", "minimal"], ["text", "e", "E", "multiline"]]
    questionnaire, notes = load_xlsform(write_workbook(tmp_path / "looks.xlsx", {"survey": survey,
                                                                                 "choices": YES_NO}))
    assert [item.appearance for item in questionnaire.items] == ["likert", "minimal", "horizontal", None, None]
    text = [str(note) for note in notes]
    assert "survey row 5: appearance 'minimal' is not supported here; dropped." in text
    assert "survey row 6: appearance 'multiline' is not supported here; dropped." in text
    assert Questionnaire.from_dict(questionnaire.to_dict()) == questionnaire
    from questionnaires.xlsform_export import export_xlsform

    exported = tmp_path / "exported.xlsx"
    exported.write_bytes(export_xlsform(questionnaire))
    assert load_xlsform(exported)[0].to_dict() == questionnaire.to_dict()
