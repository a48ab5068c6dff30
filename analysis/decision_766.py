"""The satisfaction group of Decision 766/QĐ-TTg, scored as its definition file says (analysis/definitions/
decision_766.yaml): per component, maximum points × share of valid ratings that are satisfied.

Pure: ratings in, scores out; the web app counts the stored answers and passes them here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import yaml

DEFINITION_PATH = Path(__file__).parent / "definitions" / "decision_766.yaml"


@dataclass(frozen=True)
class Component:
    key: str
    item: str  # the questionnaire item whose ratings feed it
    max_points: float
    label: dict


@dataclass(frozen=True)
class Decision766:
    key: str
    questionnaire_scoring_key: str
    title: dict
    satisfied_values: frozenset[int]
    valid_values: frozenset[int]
    rule: dict  # the rule in words, {vi, en}: it goes into every output
    components: tuple[Component, ...]

    @property
    def max_points(self) -> float:
        return sum(component.max_points for component in self.components)


def load_definition(path: Path | str = DEFINITION_PATH) -> Decision766:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    rule = data["rule"]
    return Decision766(
        key=data["key"], questionnaire_scoring_key=data["questionnaire_scoring_key"], title=data["title"],
        satisfied_values=frozenset(rule["satisfied_values"]), valid_values=frozenset(rule["valid_values"]),
        rule={"vi": " ".join(rule["vi"].split()), "en": " ".join(rule["en"].split())},
        components=tuple(Component(entry["key"], entry["item"], float(entry["max_points"]), entry["label"])
                         for entry in data["components"]))


def rating_value(answer) -> int | None:
    """A stored rating (1–5 as a number or text) as an int; None for 'na', blanks and anything else."""
    try:
        return int(answer)
    except (TypeError, ValueError):
        return None


def count_ratings(definition: Decision766, answer_sets: Iterable[Mapping]) -> dict[str, tuple[int, int]]:
    """Per component: (valid ratings, satisfied ratings) over the responses' answers."""
    counts = {component.key: [0, 0] for component in definition.components}
    for answers in answer_sets:
        for component in definition.components:
            value = rating_value(answers.get(component.item))
            if value in definition.valid_values:
                counts[component.key][0] += 1
                counts[component.key][1] += value in definition.satisfied_values
    return {key: (valid, satisfied) for key, (valid, satisfied) in counts.items()}


def score(definition: Decision766, counts: Mapping[str, tuple[int, int]]) -> dict:
    """Component shares and points, and the group's points (None when a component has no valid rating)."""
    components, exact_points = [], []
    for component in definition.components:
        valid, satisfied = counts.get(component.key, (0, 0))
        share = satisfied / valid if valid else None
        exact_points.append(None if share is None else component.max_points * share)
        components.append({"key": component.key, "item": component.item, "label": component.label,
                           "valid_ratings": valid, "satisfied_ratings": satisfied,
                           "satisfied_percent": None if share is None else round(100 * share, 2),
                           "points": None if share is None else round(component.max_points * share, 4),
                           "max_points": component.max_points})
    return {"components": components, "max_points": definition.max_points,  # the sum of unrounded points
            "points": None if None in exact_points else round(sum(exact_points), 4)}
