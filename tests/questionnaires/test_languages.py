"""Any number of languages, Vietnamese the default: the loader names what lacks which language, the XLSForm import
reads every language column (and notes what it copied), the export writes one column per language and reads back
the same definition through pyxform."""

from __future__ import annotations

import pytest
from pyxform.xls2xform import convert

from questionnaires import DefinitionError, load_definition, load_shipped
from questionnaires.languages import code_of, column_name, own_name
from questionnaires.xlsform import load_xlsform
from questionnaires.xlsform_export import export_xlsform
from tests.questionnaires.test_xlsform import write_workbook

THREE_LANGUAGES = """\
key: trilingual
version: "1"
languages: [vi, en, fr]
layout: paged
title: {vi: Khảo sát, en: Survey, fr: Enquête}
description: {vi: Giới thiệu, en: Introduction, fr: Présentation}
sections:
  - key: about
    title: {vi: Về bạn, en: About you, fr: À propos de vous}
    items:
      - key: age
        type: integer
        label: {vi: Tuổi, en: Age, fr: Âge}
        hint: {vi: Số năm, en: In years, fr: En années}
        minimum: 18
        maximum: 99
        constraint_message: {vi: Từ 18 đến 99, en: 18 to 99, fr: De 18 à 99}
        required: true
      - key: fruit
        type: single
        label: {vi: Quả, en: Fruit, fr: Fruit préféré}
        choices:
          - {value: apple, label: {vi: Táo, en: Apple, fr: Pomme}}
          - {value: pear, label: {vi: Lê, en: Pear, fr: Poire}}
  - key: rating
    title: {vi: Đánh giá, en: Rating, fr: Évaluation}
    items:
      - key: service
        type: rating5
        label: {vi: Phục vụ, en: Service, fr: Service}
        show_if: fruit == 'pear'
"""


def test_a_definition_may_have_any_languages_with_vietnamese_first():
    questionnaire = load_definition(THREE_LANGUAGES)
    assert questionnaire.languages == ["vi", "en", "fr"]
    assert questionnaire.item("fruit").choices[1].label["fr"] == "Poire"
    assert load_definition(THREE_LANGUAGES.replace("[vi, en, fr]", "[vi, en, fr, km, zh-Hant]")
                           .replace("fr: ", "km: x, zh-Hant: y, fr: ")).languages[-1] == "zh-Hant"


def test_the_loader_says_which_item_lacks_which_language():
    text = THREE_LANGUAGES.replace("label: {vi: Quả, en: Fruit, fr: Fruit préféré}", "label: {vi: Quả, en: Fruit}")
    with pytest.raises(DefinitionError) as raised:
        load_definition(text)
    assert [str(problem) for problem in raised.value.problems] == [
        "<text>:21: sections[0].items[1].label: missing the 'fr' text. Every text needs one entry per language in "
        "'languages'."]


@pytest.mark.parametrize("languages, message", [
    ("[vi, en, français]", "languages[2]: 'français' is not a language code. Use a BCP 47 code such as vi, en, fr"),
    ("[vi, en, fr, en]", "languages[3]: 'en' is listed twice in languages."),
    ("[fr, vi, en]", "languages: languages must list 'vi' first"),
])
def test_a_wrong_language_list_is_a_problem(languages, message):
    with pytest.raises(DefinitionError) as raised:
        load_definition(THREE_LANGUAGES.replace("[vi, en, fr]", languages))
    assert message in str(raised.value.problems[0])


@pytest.mark.parametrize("written, code", [
    ("Français (fr)", "fr"), ("French", "fr"), ("fr", "fr"), ("EN", "en"), ("chinese", "zh"), ("Swahili (sw)", "sw"),
    ("Tiếng Tày (tyz)", "tyz"), ("English (EN)", "en"), ("中文 (zh-Hant)", "zh-Hant"), ("ភាសាខ្មែរ", "km"),
    ("Klingon", None), ("Chinese (Traditional)", None),
])
def test_a_column_language_gives_its_code(written, code):
    assert code_of(written) == code


def test_languages_are_named_in_their_own_language():
    assert [own_name(code) for code in ("vi", "en", "fr", "km", "lo", "zh-Hant", "xyz")] == [
        "Tiếng Việt", "English", "Français", "ភាសាខ្មែរ", "ພາສາລາວ", "中文", "xyz"]
    assert column_name("vi") == "Tiếng Việt (vi)" and column_name("xyz") == "xyz"


def test_import_reads_every_spelling_of_a_language_column(tmp_path):
    survey = [["type", "name", "label", "label::French", "label:km", "hint::Français (fr)",
               "constraint_message::French", "constraint"],
              ["integer", "age", "Tuổi", "Âge", "អាយុ", "En années", "Trop jeune", ". >= 18"],
              ["select_one yn", "ok", "Đồng ý?", "D'accord ?", None, None, None, None]]
    choices = [["list_name", "name", "label", "label::French", "label:km"],
               ["yn", "yes", "Có", "Oui", "បាទ"], ["yn", "no", "Không", "Non", "ទេ"]]
    settings = [["form_id", "default_language"], ["three", "Tiếng Việt (vi)"]]
    path = write_workbook(tmp_path / "three.xlsx", {"survey": survey, "choices": choices, "settings": settings})
    questionnaire, notes = load_xlsform(path)
    assert questionnaire.languages == ["vi", "fr", "km"]
    age = questionnaire.item("age")
    assert (age.label, age.hint["fr"], age.constraint_message["fr"]) == (
        {"vi": "Tuổi", "fr": "Âge", "km": "អាយុ"}, "En années", "Trop jeune")
    assert questionnaire.item("ok").choices[0].label == {"vi": "Có", "fr": "Oui", "km": "បាទ"}
    # a missing translation shows the default language's text, and the import says so on its row
    assert questionnaire.item("ok").label["km"] == "Đồng ý?"
    assert "survey row 3: no km label; copied the vi text, translate it." in [str(note) for note in notes]


def test_a_language_column_without_a_code_is_refused_with_its_sheet_and_column(tmp_path):
    survey = [["type", "name", "label", "label::Klingon"], ["text", "a", "A", "tlhIngan"]]
    choices = [["list_name", "name", "label", "label::Elvish"], ["yn", "yes", "Có", "Ya"]]
    path = write_workbook(tmp_path / "klingon.xlsx", {"survey": survey, "choices": choices})
    with pytest.raises(DefinitionError) as raised:
        load_xlsform(path)
    assert [(problem.line, problem.field) for problem in raised.value.problems] == [
        (1, "survey.label::Klingon"), (1, "choices.label::Elvish")]
    assert "'label::Klingon' names no language code; write the code in brackets" in str(raised.value.problems[0])


def test_default_language_names_the_language_of_plain_columns(tmp_path):
    survey = [["type", "name", "label", "label::Tiếng Việt (vi)"], ["text", "a", "Question", "Câu hỏi"]]
    settings = [["form_id", "default_language"], ["fr_default", "English (en)"]]
    questionnaire, _ = load_xlsform(write_workbook(tmp_path / "d.xlsx", {"survey": survey, "settings": settings}))
    assert questionnaire.languages == ["vi", "en"]
    assert questionnaire.item("a").label == {"vi": "Câu hỏi", "en": "Question"}


def test_a_three_language_definition_round_trips_through_pyxform(tmp_path):
    questionnaire = load_definition(THREE_LANGUAGES)
    path = tmp_path / "trilingual.xlsx"
    path.write_bytes(export_xlsform(questionnaire))
    converted = convert(xlsform=str(path), validate=False)
    assert converted.warnings == []
    assert all(f'lang="{name}"' in converted.xform for name in ("Tiếng Việt (vi)", "English (en)", "Français (fr)"))
    back, notes = load_xlsform(path)
    assert back.to_dict() == questionnaire.to_dict() and notes == []


# the hashes of the shipped vi/en definitions before any number of languages was allowed: unchanged
SHIPPED_HASHES = {
    "counter_rating": "7ed6ad07aada72d2f1aeaa8cf12d54f2a6e6d7aae72fbcafb584384f2546c9dd",
    "par_index_huyen": "f9aa91d0fd6d27a65df09b39b7a39d1162757694b6119c975b2554bc251a3247",
    "par_index_so": "7ba6286c9fd184a1c53154d5b7ca78fff40c86818bd6425bd829500e2d7531fe",
    "sipas_citizen": "d9b49b2c7f673677865e5d01ebe2399fb5df8204d012fb6a9f92ff5c01bb5fdd",
}


def test_shipped_definitions_keep_their_content_hashes():
    assert {key: questionnaire.content_hash for key, questionnaire in load_shipped().items()} == SHIPPED_HASHES
