"""Shipped definitions load without problems and have the structure the domain prescribes."""

import unicodedata

import pytest

from questionnaires import Questionnaire, load_definition, load_shipped, shipped_paths
from questionnaires.standard import ITEM_TYPES


def all_texts(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from all_texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from all_texts(inner)


@pytest.mark.parametrize("path", shipped_paths(), ids=lambda path: path.name)
def test_shipped_definition_loads_and_round_trips(path):
    questionnaire = load_definition(path)
    assert questionnaire.languages[0] == "vi"
    assert Questionnaire.from_dict(questionnaire.to_dict()).content_hash == questionnaire.content_hash
    assert all(item.type in ITEM_TYPES for item in questionnaire.items)


@pytest.mark.parametrize("path", shipped_paths(), ids=lambda path: path.name)
def test_shipped_texts_are_nfc_and_bilingual(path):
    questionnaire = load_definition(path)
    data = questionnaire.to_dict()
    assert all(unicodedata.is_normalized("NFC", text) for text in all_texts(data))
    for item in questionnaire.items:
        assert set(item.label) == {"vi", "en"}, item.key


def test_counter_rating_shape():
    questionnaire = load_shipped()["counter_rating"]
    ratings = [item for item in questionnaire.items if item.type == "rating5"]
    assert questionnaire.layout == "single_page"
    assert 3 <= len(ratings) <= 5 and all(item.required for item in ratings)
    assert questionnaire.item("dossier_code").type == "dossier_code"
    assert not questionnaire.item("dossier_code").required
    assert questionnaire.item("domain").type == "domain"
    assert questionnaire.item("why").show_if
    scoring = questionnaire.scoring_dict()
    scored = [key for factor in scoring["factors"] for criterion in factor["criteria"] for key in criterion["items"]]
    assert sorted(scored) == sorted(item.key for item in ratings)


def test_counter_rating_why_is_shown_only_after_a_low_rating():
    questionnaire = load_shipped()["counter_rating"]
    good = {"domain": "dat_dai", "reception": "4", "publicity": "5", "timeliness": "na", "attitude": "4"}
    assert "why" not in [item.key for item in questionnaire.visible_items(good)]
    clean, errors = questionnaire.validate_answers({**good, "why": "chậm"})
    assert errors == {} and "why" not in clean
    clean, errors = questionnaire.validate_answers({**good, "attitude": "2", "why": " chậm "})
    assert errors == {} and clean["why"] == "chậm"


def test_rating_items_offer_six_choices_with_not_applicable():
    item = load_shipped()["counter_rating"].item("reception")
    assert [choice.value for choice in item.choices] == ["1", "2", "3", "4", "5", "na"]
    assert item.choices[-1].label["vi"] == "Không áp dụng / Không biết"


def test_sipas_has_22_criteria_in_5_factors():
    questionnaire = load_shipped()["sipas_citizen"]
    scoring = questionnaire.scoring_dict()
    assert questionnaire.layout == "paged"
    assert scoring["key"] == "sipas" and scoring["rule"] == "share_4_5"
    assert [len(factor["criteria"]) for factor in scoring["factors"]] == [4, 5, 6, 3, 4]
    criteria = [criterion for factor in scoring["factors"] for criterion in factor["criteria"]]
    assert all(len(criterion["items"]) == 1 for criterion in criteria)
    assert all(questionnaire.item(criterion["items"][0]).type == "rating5" for criterion in criteria)


def test_sipas_direct_and_overall_satisfaction_questions():
    questionnaire = load_shipped()["sipas_citizen"]
    scoring = questionnaire.scoring_dict()
    direct = [factor["satisfaction_item"] for factor in scoring["factors"]]
    assert len(set(direct)) == 5 and all(questionnaire.item(key).type == "rating5" for key in direct)
    assert questionnaire.item(scoring["overall_item"]).type == "rating5"


def test_sipas_profile_policy_and_expectations():
    questionnaire = load_shipped()["sipas_citizen"]
    profile = {item.key for item in questionnaire.sections[0].items}
    assert {"gender", "age_group", "occupation", "domain", "unit_level", "channel"} <= profile
    policy = [item for item in questionnaire.items if item.key.startswith("policy_") and item.type == "rating5"]
    assert len(policy) == 4
    improve_first = questionnaire.item("improve_first")
    assert improve_first.type == "multiple" and improve_first.max_choices == 3
    assert questionnaire.item("open_feedback").type == "text"


def test_sipas_feedback_criteria_only_for_those_who_gave_feedback():
    questionnaire = load_shipped()["sipas_citizen"]
    hidden = {item.key for item in questionnaire.items} - questionnaire.visible_keys({"gave_feedback": "khong"})
    assert hidden == {"feedback_easy", "feedback_active", "feedback_reported", "satisfaction_feedback",
                      "improve_other"}


@pytest.mark.parametrize("key", ["par_index_so", "par_index_huyen"])
def test_par_index_forms_have_roles_and_points(key):
    questionnaire = load_shipped()[key]
    role = questionnaire.item("role")
    assert role.required and role.choice_values() == ["lanh_dao_phong", "cong_chuc"]
    criteria = [criterion for factor in questionnaire.scoring_dict()["factors"] for criterion in factor["criteria"]]
    assert len(criteria) >= 15
    assert all(criterion["max_points"] > 0 for criterion in criteria)
    assert all(questionnaire.item(criterion["items"][0]).scale == "quality" for criterion in criteria)


def test_par_index_forms_differ_by_level():
    shipped = load_shipped()
    department_items = {item.key for item in shipped["par_index_so"].items}
    district_items = {item.key for item in shipped["par_index_huyen"].items}
    assert "legal_drafting" in department_items - district_items
    assert "commune_guidance" in district_items - department_items


def test_every_shipped_key_is_loaded_once():
    assert sorted(load_shipped()) == ["counter_rating", "par_index_huyen", "par_index_so", "sipas_citizen"]
