"""The questionnaire model: plain dataclasses, a normalised dict form and its content hash."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping, Optional

from questionnaires import show_if
from questionnaires.items import Choice, Item  # noqa: F401 (the model's leaves, re-exported)
from questionnaires.standard import MAX_MEMBERS, NOT_APPLICABLE, NOT_APPLICABLE_LABEL, RATING_SCALES  # noqa: F401


@dataclass(frozen=True)
class Repeat:
    """A section asked once per member (household members, visits): `count` is a fixed number of members or the
    key of an integer (or calculate) item asked before that gives it; `minimum`/`maximum` bound the number."""

    count: int | str | None = None
    minimum: Optional[int] = None
    maximum: Optional[int] = None

    def expected_count(self, answers: Mapping[str, object]) -> int | None:
        """The number of members the answers ask for: the fixed count, the count item's whole-number answer, or
        None (no count, or the count item unanswered)."""
        if isinstance(self.count, int):
            return self.count
        value = answers.get(self.count) if self.count else None
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,9}", value.strip()):  # "--5", "²": not a count
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@dataclass(frozen=True)
class Section:
    key: str
    title: dict[str, str]
    items: list[Item]
    # asked once per member; its answers are a list of per-member dicts under the section's key
    repeat: Optional[Repeat] = None
    appearance: Optional[str] = None  # field-list (its questions on one page, as every section) or table-list


@dataclass(frozen=True)
class Criterion:
    key: str
    label: dict[str, str]
    items: list[str]
    max_points: Optional[float] = None


@dataclass(frozen=True)
class Factor:
    key: str
    label: dict[str, str]
    criteria: list[Criterion]
    satisfaction_item: Optional[str] = None  # the direct "how satisfied are you with …" question, not scored


@dataclass(frozen=True)
class Scoring:
    """Item → criterion → factor → index map; the rule says how analysis turns answers into an index."""

    key: str
    label: dict[str, str]
    rule: str
    factors: list[Factor]
    overall_item: Optional[str] = None  # the overall satisfaction question, not scored


@dataclass(frozen=True)
class ComparableWith:
    """Which items of an earlier version ask the same question (same key = same question)."""

    version: str
    items: list[str]


def rating_choices(scale: str) -> list[Choice]:
    """The six choices of a rating5 item: '1'..'5' with the scale's labels, then 'na'."""
    labelled = [Choice(str(number), dict(label)) for number, label in enumerate(RATING_SCALES[scale], start=1)]
    return labelled + [Choice(NOT_APPLICABLE, dict(NOT_APPLICABLE_LABEL))]


@dataclass(frozen=True, eq=False)
class Questionnaire:
    key: str
    version: str
    title: dict[str, str]
    languages: list[str]
    layout: str
    sections: list[Section]
    description: dict[str, str] = field(default_factory=dict)
    scoring: Optional[Scoring] = None
    comparable_with: Optional[ComparableWith] = None

    @cached_property
    def items(self) -> list[Item]:
        """The items asked once (outside repeats): each has one answer under its key."""
        return [item for section in self.sections if section.repeat is None for item in section.items]

    @cached_property
    def repeats(self) -> list[Section]:
        """The sections asked once per member: answers[section.key] is a list of per-member answer dicts."""
        return [section for section in self.sections if section.repeat is not None]

    @cached_property
    def member_conditions(self) -> dict[str, dict[str, tuple]]:
        """Repeat key → {item key → (show_if function, keys it reads)}: a member's items read its sibling answers
        and the answers asked once."""
        conditions = {}
        for section in self.repeats:
            known, own = set(self._items_by_key), {}
            for item in section.items:
                if item.show_if:
                    tree = show_if.parse(item.show_if)
                    own[item.key] = (show_if.compiled(tree), tuple(show_if.referenced_keys(tree) & known))
            conditions[section.key] = own
        return conditions

    @cached_property
    def member_calculations(self) -> dict[str, dict[str, object]]:
        """Repeat key → {calculate item key → parsed expression}, computed for each member."""
        from questionnaires import xpath

        return {section.key: {item.key: xpath.parse(item.calculation) for item in section.items if item.calculation}
                for section in self.repeats}

    @cached_property
    def _items_by_key(self) -> dict[str, Item]:
        """Every item, also those of repeats (keys are unique in the whole questionnaire)."""
        return {item.key: item for section in self.sections for item in section.items}

    @cached_property
    def _conditions(self) -> dict[str, tuple]:
        """Item key → (its show_if as a function of answers, the item keys it reads): parsed and compiled once per
        definition, not on every submission."""
        known, conditions = set(self._items_by_key), {}
        for item in self.items:
            if item.show_if:
                tree = show_if.parse(item.show_if)
                conditions[item.key] = (show_if.compiled(tree), tuple(show_if.referenced_keys(tree) & known))
        return conditions

    @cached_property
    def calculations(self) -> dict[str, object]:
        """Calculate item key → its parsed expression, in questionnaire order (parsed once per definition)."""
        from questionnaires import xpath

        return {item.key: xpath.parse(item.calculation) for item in self.items if item.calculation}

    @cached_property
    def conditions_on_calculations(self) -> frozenset[str]:
        """Keys of items whose show_if reads a calculate item: the page script cannot compute those, so it shows
        them and the server (the authority) drops their answers when the condition is false."""
        calculated = set(self.calculations)
        return frozenset(key for key, (_, reads) in self._conditions.items() if calculated & set(reads))

    def item(self, key: str) -> Item:
        """The item with this key; KeyError names the key."""
        return self._items_by_key[key]

    def visible_items(self, answers: Mapping[str, object]) -> list[Item]:
        """Items shown given `answers`; an item hidden by its condition counts as unanswered for others."""
        visible = self.visible_keys(answers)
        return [item for item in self.items if item.key in visible]

    def visible_keys(self, answers: Mapping[str, object]) -> set[str]:
        from questionnaires.answers import visible_keys

        return visible_keys(self.items, self._conditions, answers)

    def validate_answers(self, raw: Mapping[str, object], lang: str = "vi") -> tuple[dict, dict]:
        """(clean answers, errors by item key) for submitted form fields; see answers.validate_answers."""
        from questionnaires.answers import validate_answers

        return validate_answers(self, raw, lang)

    def scoring_dict(self) -> dict:
        return scoring_to_dict(self.scoring) if self.scoring else {}

    def to_dict(self) -> dict:
        return questionnaire_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> "Questionnaire":
        return questionnaire_from_dict(data)

    @cached_property
    def content_hash(self) -> str:
        """sha256 of the canonical JSON of to_dict(): equal for equal content whatever the YAML formatting."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Questionnaire) and self.content_hash == other.content_hash

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def __repr__(self) -> str:
        return f"Questionnaire(key={self.key!r}, version={self.version!r}, items={len(self.items)})"


def scoring_to_dict(scoring: Scoring) -> dict:
    data = {
        "key": scoring.key,
        "label": dict(scoring.label),
        "rule": scoring.rule,
        "factors": [factor_to_dict(factor) for factor in scoring.factors],
    }
    if scoring.overall_item:
        data["overall_item"] = scoring.overall_item
    return data


def factor_to_dict(factor: Factor) -> dict:
    data = {"key": factor.key, "label": dict(factor.label),
            "criteria": [criterion_to_dict(criterion) for criterion in factor.criteria]}
    if factor.satisfaction_item:
        data["satisfaction_item"] = factor.satisfaction_item
    return data


def criterion_to_dict(criterion: Criterion) -> dict:
    data = {"key": criterion.key, "label": dict(criterion.label), "items": list(criterion.items)}
    if criterion.max_points is not None:
        data["max_points"] = criterion.max_points
    return data


# The normalised dict form of a questionnaire (what the database stores) and back. Every field is always present
# in a fixed shape, choice lists are expanded into each item and show_if is in canonical text, so two YAML files
# with the same content give the same dict and the same content hash. (Here rather than in a module of its own:
# it builds these classes and they call it, which would be an import circle.)
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
    data = {"key": section.key, "title": dict(section.title), "items": [item_to_dict(item) for item in section.items]}
    if section.repeat:  # only when set: the dict (and content hash) of every other section is unchanged
        data["repeat"] = repeat_to_dict(section.repeat)
    if section.appearance:
        data["appearance"] = section.appearance
    return data


def repeat_to_dict(repeat: Repeat) -> dict:
    data = {"count": repeat.count, "minimum": repeat.minimum, "maximum": repeat.maximum}
    return {name: value for name, value in data.items() if value is not None}


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
    if item.constraint_message:  # only when set: the dict (and content hash) of every other item is unchanged
        data["constraint_message"] = dict(item.constraint_message)
    if item.appearance:
        data["appearance"] = item.appearance
    if item.calculation:
        data["calculation"] = item.calculation
    for name in ("earliest", "latest"):
        if getattr(item, name):
            data[name] = getattr(item, name)
    if item.choice_filter:
        data["choice_filter"] = [dict(rule) for rule in item.choice_filter]
        data["choices"] = [{**choice, "filters": dict(item.choices[index].filters)}
                           for index, choice in enumerate(data["choices"])]
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
    repeat = data.get("repeat")
    return Section(data["key"], dict(data["title"]), [item_from_dict(item) for item in data["items"]],
                   Repeat(repeat.get("count"), repeat.get("minimum"), repeat.get("maximum")) if repeat else None,
                   data.get("appearance"))


def item_from_dict(data: Mapping) -> Item:
    choices = [Choice(choice["value"], dict(choice["label"]), dict(choice.get("filters") or {}))
               for choice in data.get("choices", [])]
    optional = {name: data.get(name) for name in ITEM_OPTIONAL_FIELDS}
    return Item(key=data["key"], type=data["type"], label=dict(data["label"]), hint=dict(data.get("hint") or {}),
                required=bool(data.get("required")), choices=choices,
                constraint_message=dict(data.get("constraint_message") or {}),
                choice_filter=tuple(dict(rule) for rule in data.get("choice_filter") or ()),
                appearance=data.get("appearance"), calculation=data.get("calculation"), earliest=data.get("earliest"),
                latest=data.get("latest"), **optional)


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
