"""Paper mode's pure part: question numbers, box codes, skip instructions in words, keyed digits → answers."""

from __future__ import annotations

from questionnaires import load_definition, load_shipped
from questionnaires.paper import (
    answer_codes,
    answer_codes_of,
    condition_words,
    keyed_to_raw,
    skip_instructions,
)
from tests.questionnaires.forms import form_yaml, section

SMALL = form_yaml("small", section("""
    - {key: visited, type: single, choices: yes_no, required: true, label: {vi: Đã đến chưa, en: Visited}}
    - {key: rating, type: rating5, label: {vi: Hài lòng, en: Satisfied}}
    - {key: why, type: text, show_if: "visited == 'co'", label: {vi: Vì sao, en: Why}}
    - {key: topics, type: multiple, choices: topics, show_if: "visited == 'co'", label: {vi: Chủ đề, en: Topics}}
    - {key: other, type: text, show_if: "'khac' in topics", label: {vi: Khác là gì, en: Other}}
    - {key: low, type: text, show_if: "rating <= 2 and answered(why)", label: {vi: Vì sao thấp, en: Why low}}
    - {key: visits, type: integer, minimum: 1, maximum: 20, label: {vi: Số lần, en: Visits}}
""", title="{vi: Phần một, en: Part one}"), title="{vi: Phiếu nhỏ, en: Small}") + """\
choice_lists:
  yes_no:
    - {value: co, label: {vi: Có, en: "Yes"}}
    - {value: khong, label: {vi: Không, en: "No"}}
  topics:
    - {value: gia, label: {vi: Giá, en: Price}}
    - {value: khac, label: {vi: Khác, en: Other}}
"""


def small():
    return load_definition(SMALL)


def test_a_condition_becomes_a_sentence_with_question_numbers_and_choice_labels():
    sentences = skip_instructions(small())
    assert sentences["why"] == "Nếu câu 1 là 'Có', trả lời các câu 3–4; nếu không, chuyển sang câu 5."
    assert sentences["other"] == "Nếu câu 4 có chọn 'Khác', trả lời câu 5; nếu không, chuyển sang câu 6."
    assert sentences["low"] == ("Nếu câu 2 từ 2 trở xuống và câu 3 có trả lời, trả lời câu 6; "
                                "nếu không, chuyển sang câu 7.")
    assert set(sentences) == {"why", "other", "low"}  # the run 3–4 gets one sentence


def test_conditions_in_words_cover_every_operator():
    definition = small()
    assert condition_words("visited != 'co'", definition) == "câu 1 không phải là 'Có'"
    assert condition_words("rating > 3 or rating == 'na'", definition) == \
        "câu 2 lớn hơn 3 hoặc câu 2 là 'Không áp dụng / Không biết'"
    assert condition_words("not answered(why)", definition) == "câu 3 bỏ trống"
    assert condition_words("visited in ['co', 'khong']", definition) == "câu 1 là 'Có' hoặc 'Không'"
    assert condition_words("not (rating >= 4)", definition) == "không phải (câu 2 từ 4 trở lên)"


def test_the_last_question_skipped_ends_the_questionnaire():
    counter = load_shipped()["counter_rating"]
    sentence = skip_instructions(counter)[counter.items[-1].key]
    assert sentence.endswith("trả lời câu 7; nếu không, bỏ qua và kết thúc phiếu.")
    assert sentence.startswith("Nếu câu 3 từ 2 trở xuống hoặc câu 4 từ 2 trở xuống")


def test_the_shipped_sipas_form_says_its_skips_in_words():
    sentences = skip_instructions(load_shipped()["sipas_citizen"])
    assert "Nếu câu 31 là 'Có', trả lời các câu 32–35; nếu không, chuyển sang câu 36." in sentences.values()


def test_box_codes_are_1_to_n_and_9_for_not_applicable():
    definition = small()
    assert [code for code, _ in answer_codes(definition.item("rating"))] == ["1", "2", "3", "4", "5", "9"]
    assert [(code, choice.value) for code, choice in answer_codes(definition.item("visited"))] == \
        [("1", "co"), ("2", "khong")]
    assert answer_codes_of(definition.item("topics"), ["gia", "khac"]) == "1 2"
    assert answer_codes_of(definition.item("rating"), "na") == "9"


def test_keyed_digits_become_form_values_and_unknown_codes_are_named():
    definition = small()
    raw, errors = keyed_to_raw(definition, {"visited": "1", "rating": "9", "topics": "2, 1", "why": " chậm  ",
                                            "visits": "3"})
    assert errors == {}
    assert raw["visited"] == "co" and raw["rating"] == "na" and raw["topics"] == ["khac", "gia"]
    assert raw["why"] == "chậm" and raw["visits"] == "3"
    clean, problems = definition.validate_answers(raw)
    assert problems == {} and clean["topics"] == ["gia", "khac"] and clean["rating"] == "na"
    _, errors = keyed_to_raw(definition, {"visited": "1 2", "rating": "7", "topics": "3"})
    assert errors["visited"] == "Câu này chỉ chọn một ô: nhập một mã."
    assert errors["rating"].startswith("Mã 7 không có trong câu này")
    assert errors["topics"].startswith("Mã 3 không có trong câu này")
