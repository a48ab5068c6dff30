"""Dates as ODK computes them: today(), now(), date(), decimal-date-time(), format-date(), date arithmetic and
comparisons in calculations (today in Asia/Ho_Chi_Minh); a date constraint becomes the item's earliest/latest day,
checked by the server; the XLSForm round trip keeps it."""

from __future__ import annotations

import datetime

import pytest
from pyxform.xls2xform import convert

from questionnaires import DefinitionError, Questionnaire, load_definition, xpath, xpath_eval
from questionnaires.xlsform import import_xlsform, load_xlsform
from questionnaires.xlsform_export import export_xlsform
from tests.questionnaires.forms import form_yaml, section
from tests.questionnaires.test_xlsform import write_workbook

VIETNAM = datetime.timezone(datetime.timedelta(hours=7))
# 23:30 on 31/12/2024 in UTC is already 1 January 2025 in Vietnam
NOW = datetime.datetime(2024, 12, 31, 23, 30, tzinfo=datetime.timezone.utc).astimezone(xpath_eval.VIETNAM)


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(xpath_eval, "now_in_vietnam", lambda: NOW)


def value(expression: str, **answers):
    return xpath_eval.stored(xpath_eval.evaluate(xpath.parse(expression), answers))


@pytest.mark.parametrize("expression, expected", [
    ("today()", "2025-01-01"),
    ("now()", "2025-01-01T06:30:00.000+07:00"),
    ("today() - ${dob}", 366),  # days, as ODK: 2024 is a leap year
    ("int((today() - ${dob}) div 365.25)", 1),
    ("int((today() - date('1990-05-17')) div 365.25)", 34),
    ("${dob} < today() and ${dob} >= date('1900-01-01')", "true"),
    ("${dob} = '2024-01-01'", "true"),
    ("date('2024-02-28') + 1 = date('2024-02-29')", "true"),
    ("date(0)", "1970-01-01"),
    ("date(19723)", "2024-01-01"),
    ("decimal-date-time('2024-01-01')", 19723),
    ("format-date(${dob}, '%d/%m/%Y')", "01/01/2024"),
    ("format-date(date('2024-03-05'), '%e/%n/%y %b %a')", "5/3/24 Mar Tue"),
    ("format-date-time(now(), '%H:%M:%S')", "06:30:00"),
    ("format-date(${none}, '%Y')", None),
    ("date('not a date')", None),
    ("if(today() > ${dob}, 'qua', 'chua')", "qua"),
])
def test_dates_compute_as_in_odk(clock, expression, expected):
    assert xpath_eval.unsupported_parts(xpath.parse(expression)) == []
    assert value(expression, dob="2024-01-01") == expected


def test_today_is_the_day_in_vietnam_without_a_fixed_clock():
    assert value("today()") == datetime.datetime.now(xpath_eval.VIETNAM).date().isoformat()


DATED = form_yaml("dated", section("""
    - {key: dob, type: date, earliest: 1900-01-01, latest: today, label: {vi: Ngày sinh, en: Birth date},
       constraint_message: {vi: Ngày sinh không hợp lệ., en: Not a valid birth date.}}
    - {key: visit, type: date, earliest: "2024-06-01", label: {vi: Ngày đến, en: Visit}}
    - {key: age, type: calculate, calculation: "int((today() - ${dob}) div 365.25)", label: {vi: Tuổi, en: Age}}
    - {key: job, type: text, show_if: "age >= 18", label: {vi: Nghề nghiệp, en: Job}}
"""))


def test_date_limits_are_checked_by_the_server_and_a_calculated_age_decides(clock):
    definition = load_definition(DATED)
    adult, errors = definition.validate_answers({"dob": "17/05/1990", "visit": "01/06/2024", "job": "Nông dân"})
    assert errors == {} and adult == {"dob": "1990-05-17", "visit": "2024-06-01", "age": 34, "job": "Nông dân"}
    child, errors = definition.validate_answers({"dob": "2010-01-01", "job": "x"})
    assert errors == {} and child == {"dob": "2010-01-01", "age": 15}
    _, errors = definition.validate_answers({"dob": "02/01/2025", "visit": "31/05/2024"})
    assert errors == {"dob": "Ngày sinh không hợp lệ.", "visit": "Ngày không được trước 01/06/2024."}
    _, errors = definition.validate_answers({"dob": "1899-12-31"}, lang="en")
    assert errors == {"dob": "Not a valid birth date."}
    assert definition.validate_answers({"dob": "01/01/2025"})[1] == {}  # today itself is allowed


def test_date_limits_survive_the_stored_form_and_change_no_other_hash():
    definition = load_definition(DATED)
    assert definition.item("dob").earliest == "1900-01-01" and definition.item("dob").latest == "today"
    assert Questionnaire.from_dict(definition.to_dict()) == definition
    assert "earliest" not in definition.to_dict()["sections"][0]["items"][2]


@pytest.mark.parametrize("change, words", [
    ("earliest: 1900-01-01, latest: today", "earliest: yesterday, latest: today"),
    ("earliest: 1900-01-01, latest: today", "earliest: 2020-01-01, latest: 2019-12-31"),
    ('earliest: "2024-06-01"', 'earliest: "2024-02-30"'),
    ('{key: visit, type: date, earliest: "2024-06-01"', '{key: visit, type: text, earliest: "2024-06-01"'),
])
def test_the_loader_refuses_bad_date_limits(change, words):
    with pytest.raises(DefinitionError) as raised:
        load_definition(DATED.replace(change, words))
    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].field.split(".")[-1] in ("earliest", "latest") or "earliest" in str(raised.value)


SURVEY = [
    ["type", "name", "label", "constraint", "constraint_message", "calculation", "relevant"],
    ["date", "dob", "Birth date", ". <= today() and . >= date('1900-01-01')", "Not in the future", None, None],
    ["date", "visit", "Visit", ". > '2024-05-31'", None, None, None],
    ["calculate", "age", None, None, None, "int((today() - ${dob}) div 365.25)", None],
    ["calculate", "born", None, None, None, "format-date(${dob}, '%e/%n/%Y')", None],
    ["text", "job", "Job", None, None, None, "${age} >= 18"],
]


def test_an_xlsform_date_constraint_and_age_import_behave_and_round_trip(clock, tmp_path):
    questionnaire, _ = load_xlsform(write_workbook(tmp_path / "dates.xlsx", {"survey": SURVEY}))
    dob, visit = questionnaire.item("dob"), questionnaire.item("visit")
    assert (dob.earliest, dob.latest, visit.earliest, visit.latest) == ("1900-01-01", "today", "2024-06-01", None)
    clean, errors = questionnaire.validate_answers({"dob": "17/05/1990", "visit": "01/06/2024", "job": "x"})
    assert errors == {} and clean == {"dob": "1990-05-17", "visit": "2024-06-01", "age": 34, "born": "17/5/1990",
                                      "job": "x"}
    _, errors = questionnaire.validate_answers({"dob": "02/01/2025", "visit": "31/05/2024"}, lang="en")
    assert errors == {"dob": "Not in the future", "visit": "The date must not be before 01/06/2024."}
    exported = tmp_path / "back.xlsx"
    exported.write_bytes(export_xlsform(questionnaire))
    assert "today()" in convert(xlsform=str(exported), validate=False).xform
    assert load_xlsform(exported)[0].to_dict() == questionnaire.to_dict()


@pytest.mark.parametrize("constraint, words", [
    (". < today()", "'< today()'"),
    (". <= ${visit}", "a comparison with the answer to ${visit}"),
    (". >= today() or . = date('1900-01-01')", "the operator 'or'"),
])
def test_a_date_constraint_the_limits_cannot_say_is_refused_with_its_row(tmp_path, constraint, words):
    survey = [SURVEY[0], ["date", "visit", "Visit", None, None, None, None],
              ["date", "dob", "Birth date", constraint, None, None, None]]
    with pytest.raises(DefinitionError) as raised:
        import_xlsform(write_workbook(tmp_path / "dates.xlsx", {"survey": survey}))
    [problem] = raised.value.problems
    assert (problem.line, problem.field) == (3, "survey.constraint") and words in problem.message


TIMED = form_yaml("timed", section("""
    - {key: arrived, type: time, required: true, label: {vi: Giờ đến, en: Arrival}}
    - {key: called, type: datetime, label: {vi: Ngày giờ gọi, en: Called}}
    - {key: note, type: text, label: {vi: "Gọi lúc ${called}, đến lúc ${arrived}", en: Note}}
"""))


@pytest.mark.parametrize("raw, clean", [
    ({"arrived": "14:30"}, {"arrived": "14:30"}), ({"arrived": "7h05"}, {"arrived": "07:05"}),
    ({"arrived": "09:30:00.000+07:00"}, {"arrived": "09:30"}),
    ({"arrived": "8.15", "called": "25/12/2024 14:30"}, {"arrived": "08:15", "called": "2024-12-25T14:30"}),
    ({"arrived": "8:15", "called": "2024-12-25T09:05"}, {"arrived": "08:15", "called": "2024-12-25T09:05"}),
    ({"arrived": "8:15", "called": "25/12/2024 lúc 9h05"}, {"arrived": "08:15", "called": "2024-12-25T09:05"}),
])
def test_time_and_datetime_answers_are_kept_as_iso_text(raw, clean):
    assert load_definition(TIMED).validate_answers(raw) == (clean, {})


@pytest.mark.parametrize("raw, key, words", [
    ({"arrived": "24:00"}, "arrived", "ví dụ 14:30"), ({"arrived": "9:75"}, "arrived", "ví dụ 14:30"),
    ({"arrived": "sáng"}, "arrived", "giờ:phút"), ({"arrived": "9:00", "called": "25/12/2024"}, "called", "ngày và giờ"),
    ({"arrived": "9:00", "called": "31/02/2024 10:00"}, "called", "25/12/2024 14:30"),
])
def test_a_bad_time_or_datetime_is_refused_with_a_vietnamese_example(raw, key, words):
    clean, errors = load_definition(TIMED).validate_answers(raw)
    assert key not in clean and words in errors[key]


def test_a_piped_datetime_reads_as_day_month_year_and_time():
    from questionnaires.piping import piped_text

    definition = load_definition(TIMED)
    text = piped_text(definition.item("note").label["vi"], definition, {"called": "2024-12-25T09:05", "arrived": "08:15"})
    assert text == "Gọi lúc 25/12/2024 09:05, đến lúc 08:15"


def test_time_questions_import_and_round_trip_through_pyxform(tmp_path):
    from tests.questionnaires.test_pyxform_fixtures import FIXTURES

    questionnaire, _ = load_xlsform(FIXTURES / "example_xls/default_time_demo.xls")
    assert questionnaire.item("start_time").type == "time"
    assert questionnaire.validate_answers({"start_time": "09:30:00.000+07:00"}) == ({"start_time": "09:30"}, {})
    timed = load_definition(TIMED)
    exported = tmp_path / "timed.xlsx"
    exported.write_bytes(export_xlsform(timed))
    xform = convert(xlsform=str(exported), validate=False).xform
    assert 'type="time"' in xform and 'type="dateTime"' in xform
    assert load_xlsform(exported)[0].to_dict() == timed.to_dict()


def test_a_date_time_counts_days_in_vietnams_time():
    assert value("decimal-date-time('1970-01-02T12:00:00+07:00')") == 1.5
    assert value("decimal-date-time('1970-01-01T17:00:00Z')") == 1  # midnight in Vietnam
    assert value("date('2024-12-31T18:00:00Z')") == "2025-01-01"


def test_a_relevant_ordering_a_date_answer_against_a_day_is_kept_and_round_trips(tmp_path):
    survey = [SURVEY[0], ["date", "dob", "Birth date", None, None, None, None],
              ["text", "old", "Old", None, None, None, "${dob} < date('1960-01-01')"],
              ["text", "recent", "Recent", None, None, None, "'2000-01-01' <= ${dob}"]]
    questionnaire, _ = load_xlsform(write_workbook(tmp_path / "dates.xlsx", {"survey": survey}))
    assert questionnaire.item("old").show_if == "dob < '1960-01-01'"
    assert questionnaire.item("recent").show_if == "dob >= '2000-01-01'"
    shown = lambda answers: questionnaire.visible_keys(questionnaire.validate_answers(answers)[0])  # noqa: E731
    assert shown({"dob": "31/12/1959"}) == {"dob", "old"} and shown({"dob": "1/1/2000"}) == {"dob", "recent"}
    assert shown({}) == {"dob"}  # unanswered: neither, as XPath compares '' (NaN) false
    exported = tmp_path / "back.xlsx"
    exported.write_bytes(export_xlsform(questionnaire))
    assert "date('1960-01-01')" in convert(xlsform=str(exported), validate=False).xform
    assert load_xlsform(exported)[0].to_dict() == questionnaire.to_dict()


def test_a_text_answer_ordered_against_a_day_is_still_refused(tmp_path):
    survey = [SURVEY[0], ["text", "note", "Note", None, None, None, None],
              ["text", "later", "Later", None, None, None, "${note} < date('1960-01-01')"]]
    with pytest.raises(DefinitionError) as raised:
        import_xlsform(write_workbook(tmp_path / "dates.xlsx", {"survey": survey}))
    assert "the function date()" in raised.value.problems[0].message
