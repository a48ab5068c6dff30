"""validate_answers: every item type, required and hidden items, messages in both languages."""

import pathlib
import unicodedata

import pytest

from questionnaires import load_definition

DEFINITION = pathlib.Path(__file__).parent / "data" / "every_type.yaml"


@pytest.fixture(scope="module")
def questionnaire():
    return load_definition(DEFINITION)


MINIMAL = {"colour": "red", "service": "4"}


def test_minimal_valid_answers(questionnaire):
    assert questionnaire.validate_answers(MINIMAL) == ({"colour": "red", "service": 4}, {})


def test_required_messages_in_both_languages(questionnaire):
    _, errors = questionnaire.validate_answers({})
    assert errors == {"colour": "Vui lòng trả lời câu hỏi này.", "service": "Vui lòng trả lời câu hỏi này."}
    assert all(unicodedata.is_normalized("NFC", message) for message in errors.values())
    _, errors = questionnaire.validate_answers({}, lang="en")
    assert errors["colour"] == "This question is required."


@pytest.mark.parametrize("field, raw, expected", [
    ("colours", ["blue", "red", "red"], ["red", "blue"]),
    ("colours", "green", ["green"]),
    ("service", "na", "na"),
    ("service", "NA", "na"),
    ("service", "3", 3),
    ("age", "18", 18),
    ("age", " 42 ", 42),
    ("weight", "3,5", 3.5),
    ("weight", "70.25", 70.25),
    ("note", "  Cafe\u0301  ", "Café"),
    ("postcode", "700000", "700000"),
    ("visit_date", "05/03/2024", "2024-03-05"),
    ("visit_date", "2024-03-05", "2024-03-05"),
    ("visit_date", "5/3/2024", "2024-03-05"),
    ("unit", "SO_TU_PHAP", "SO_TU_PHAP"),
    ("domain", "dat_dai", "dat_dai"),
    ("dossier", "000.00.19.H12-240305-0001", "000.00.19.H12-240305-0001"),
])
def test_clean_values(questionnaire, field, raw, expected):
    clean, errors = questionnaire.validate_answers({**MINIMAL, field: raw})
    assert errors == {}
    assert clean[field] == expected


@pytest.mark.parametrize("field, raw, message", [
    ("colour", "purple", "Vui lòng chọn một trong các phương án đã cho."),
    ("colour", ["red", "green"], "Chỉ được chọn một phương án."),
    ("colours", ["red", "green", "blue"], "Chỉ được chọn tối đa 2 phương án."),
    ("colours", ["red", "pink"], "Vui lòng chọn một trong các phương án đã cho."),
    ("service", "6", "Vui lòng chọn một trong các phương án đã cho."),
    ("service", "0", "Vui lòng chọn một trong các phương án đã cho."),
    ("age", "17", "Giá trị phải lớn hơn hoặc bằng 18."),
    ("age", "100", "Giá trị phải nhỏ hơn hoặc bằng 99."),
    ("age", "4.5", "Vui lòng nhập một số nguyên."),
    ("weight", "0.1", "Giá trị phải lớn hơn hoặc bằng 0.5."),
    ("weight", "abc", "Vui lòng nhập một số."),
    ("weight", "nan", "Vui lòng nhập một số."),
    ("note", "x" * 11, "Nội dung quá dài: tối đa 10 ký tự."),
    ("postcode", "70000", "Giá trị không đúng định dạng yêu cầu."),
    ("visit_date", "31/02/2024", "Vui lòng nhập ngày theo dạng ngày/tháng/năm, ví dụ 25/12/2024."),
    ("visit_date", "tomorrow", "Vui lòng nhập ngày theo dạng ngày/tháng/năm, ví dụ 25/12/2024."),
    ("dossier", "abc def", "Mã chỉ gồm chữ, số và các ký tự . _ / -"),
    ("dossier", "A" * 65, "Nội dung quá dài: tối đa 64 ký tự."),
])
def test_invalid_values(questionnaire, field, raw, message):
    clean, errors = questionnaire.validate_answers({**MINIMAL, field: raw})
    assert errors == {field: message}
    assert field not in clean


def test_english_messages_have_the_values(questionnaire):
    _, errors = questionnaire.validate_answers({**MINIMAL, "age": "17", "note": "x" * 11}, lang="en")
    assert errors == {"age": "The value must be at least 18.", "note": "The text is too long: at most 10 characters."}


def test_every_error_is_returned_at_once(questionnaire):
    _, errors = questionnaire.validate_answers({"colour": "purple", "age": "x", "visit_date": "nope"})
    assert set(errors) == {"colour", "service", "age", "visit_date"}


def test_hidden_items_are_not_required_and_are_dropped(questionnaire):
    clean, errors = questionnaire.validate_answers({**MINIMAL, "why": "slow", "why_detail": "very"})
    assert errors == {} and "why" not in clean and "why_detail" not in clean


def test_shown_items_become_required_and_chain(questionnaire):
    _, errors = questionnaire.validate_answers({**MINIMAL, "service": "2"})
    assert errors == {"why": "Vui lòng trả lời câu hỏi này."}
    clean, errors = questionnaire.validate_answers({**MINIMAL, "service": "2", "why": "chậm", "why_detail": "x"})
    assert errors == {} and clean["why_detail"] == "x"


def test_visible_items_follow_answers(questionnaire):
    keys = [item.key for item in questionnaire.visible_items({"service": 1})]
    assert "why" in keys and "why_detail" not in keys
    assert "why" not in [item.key for item in questionnaire.visible_items({"service": "na"})]


def test_unknown_fields_and_empty_optional_answers_are_ignored(questionnaire):
    raw = {**MINIMAL, "csrf_token": "abc", "idempotency_key": "k", "age": "", "colours": []}
    assert questionnaire.validate_answers(raw) == ({"colour": "red", "service": 4}, {})

