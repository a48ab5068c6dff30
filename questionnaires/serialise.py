"""Normalised dict form of a questionnaire (what the database stores) and back.

Every field is always present in a fixed shape, choice lists are expanded into each item and show_if is in
canonical text, so two YAML files with the same content give the same dict and the same content hash.
"""

from __future__ import annotations

from typing import Mapping

from questionnaires.model import (ComparableWith, Choice, Criterion, Factor, Item, Questionnaire, Scoring, Section,
                                  scoring_to_dict)

ITEM_OPTIONAL_FIELDS = ("show_if", "max_length", "minimum", "maximum", "pattern", "scale", "max_choices")
FORMAT_VERSION = 1


def questionnaire_to_dict(questionnaire: Questionnaire) -> dict:
    return {
        "format": FORMAT_VERSION,
        "key": questionnaire.key,
        "version": questionnaire.version,
        "title": dict(questionnaire.title),
        "description": dict(questionnaire.description),
        "languages": list(questionnaire.languages),
        "layout": questionnaire.layout,
        "sections": [section_to_dict(section) for section in questionnaire.sections],
        "scoring": scoring_to_dict(questionnaire.scoring) if questionnaire.scoring else None,
        "comparable_with": comparable_to_dict(questionnaire.comparable_with),
    }


def section_to_dict(section: Section) -> dict:
    return {"key": section.key, "title": dict(section.title), "items": [item_to_dict(item) for item in section.items]}


def item_to_dict(item: Item) -> dict:
    data = {
        "key": item.key,
        "type": item.type,
        "label": dict(item.label),
        "hint": dict(item.hint),
        "required": item.required,
        "choices": [{"value": choice.value, "label": dict(choice.label)} for choice in item.choices],
    }
    data.update({name: _plain_number(getattr(item, name)) for name in ITEM_OPTIONAL_FIELDS})
    return data


def _plain_number(value):
    """Whole floats become ints so that `maximum: 5` and `maximum: 5.0` hash the same."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def comparable_to_dict(comparable: ComparableWith | None) -> dict | None:
    if comparable is None:
        return None
    return {"version": comparable.version, "items": list(comparable.items)}


def questionnaire_from_dict(data: Mapping) -> Questionnaire:
    """Rebuild a questionnaire from questionnaire_to_dict output (trusted input: the database copy)."""
    return Questionnaire(
        key=data["key"],
        version=data["version"],
        title=dict(data["title"]),
        description=dict(data.get("description") or {}),
        languages=list(data["languages"]),
        layout=data["layout"],
        sections=[section_from_dict(section) for section in data["sections"]],
        scoring=scoring_from_dict(data["scoring"]) if data.get("scoring") else None,
        comparable_with=comparable_from_dict(data.get("comparable_with")),
    )


def section_from_dict(data: Mapping) -> Section:
    return Section(data["key"], dict(data["title"]), [item_from_dict(item) for item in data["items"]])


def item_from_dict(data: Mapping) -> Item:
    choices = [Choice(choice["value"], dict(choice["label"])) for choice in data.get("choices", [])]
    optional = {name: data.get(name) for name in ITEM_OPTIONAL_FIELDS}
    return Item(key=data["key"], type=data["type"], label=dict(data["label"]), hint=dict(data.get("hint") or {}),
                required=bool(data.get("required")), choices=choices, **optional)


def scoring_from_dict(data: Mapping) -> Scoring:
    factors = [Factor(factor["key"], dict(factor["label"]),
                      [criterion_from_dict(criterion) for criterion in factor["criteria"]],
                      factor.get("satisfaction_item"))
               for factor in data["factors"]]
    return Scoring(data["key"], dict(data.get("label") or {}), data.get("rule", "share_4_5"), factors,
                   data.get("overall_item"))


def criterion_from_dict(data: Mapping) -> Criterion:
    return Criterion(data["key"], dict(data["label"]), list(data["items"]), data.get("max_points"))


def comparable_from_dict(data: Mapping | None) -> ComparableWith | None:
    if not data:
        return None
    return ComparableWith(data["version"], list(data["items"]))
