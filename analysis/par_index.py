"""PAR INDEX: the officials'-survey points per unit and criterion, and each unit's total over the province's
index structure (analysis/par_structure.py) with per-field subtotals and a ranking per level. docs/method.md §6b
states every rule with a worked example (tests/analysis/test_par_index.py reproduces it).

Survey: officials' ratings (1–5, N/A excluded) of a survey criterion give a score 0..1 by the rule (``RULES``;
default: the scoring map's ``rule``, else ``linear``). A criterion that fewer than ``minimum_valid`` of a unit's
officials rated is withheld (its real valid count shown, no score). A survey leaf of the structure scores the mean
of its criteria's scores × its maximum points; a leaf with no score gets the unit's own mean over its scored survey
leaves (points / maximum), so an N/A never drops a criterion's points nor reorders ranks.
Total = self-assessment + appraisal points from the points file + survey points; ranks 1 = highest, per level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.par_structure import IndexStructure
from analysis.shares import clamped_share
from analysis.sipas import rating_matrix


def _linear(ratings: np.ndarray) -> np.ndarray:
    return (ratings - 1) / 4


def _share_4_5(ratings: np.ndarray) -> np.ndarray:
    return (ratings >= 4).astype(float)


# Each rule maps a valid rating (1..5) to a per-answer score in [0, 1]; the criterion score is their (weighted) mean.
RULES = {"linear": _linear, "share_4_5": _share_4_5}
DEFAULT_RULE = "linear"  # when neither the caller nor the scoring map names one


def rule_of(scoring: dict, rule: str | None = None) -> str:
    """The rule given, else the scoring map's ``rule``, else ``linear``; an unknown name is refused."""
    chosen = rule or scoring.get("rule") or DEFAULT_RULE
    if chosen not in RULES:
        raise ValueError(f"rule={chosen!r} is not one of {sorted(RULES)}.")
    return chosen


@dataclass(frozen=True)
class Criterion:
    factor: str
    key: str
    items: tuple[str, ...]
    max_points: float


def criteria_with_points(scoring: dict) -> list[Criterion]:
    """Every criterion of the scoring map with its maximum points; a criterion without ``max_points`` is an error."""
    criteria, missing = [], []
    for factor in scoring.get("factors", []):
        for criterion in factor.get("criteria", []):
            if criterion.get("max_points") is None:
                missing.append(criterion["key"])
                continue
            criteria.append(Criterion(factor["key"], criterion["key"], tuple(criterion.get("items", [])), float(criterion["max_points"])))
    if missing or not criteria:
        raise ValueError(f"The scoring map gives no max_points for criteria {missing or 'at all'}; it is not a PAR INDEX survey map.")
    return criteria


def survey_points(
    answers: pd.DataFrame,
    scoring: dict,
    units: str | pd.Series,
    *,
    rule: str | None = None,
    weights: pd.Series | np.ndarray | None = None,
    minimum_valid: int = 1,
) -> pd.DataFrame:
    """Points per unit and criterion from officials' ratings.

    ``answers``: one row per respondent, rating items as columns (1..5; N/A and blanks as NaN). ``units``: the
    column (or Series) naming each respondent's unit. Returns one row per unit × criterion with ``factor,
    criterion, max_points, valid_count, score`` (0..1), ``points`` (= max_points × score) and ``withheld``.
    ``valid_count`` is the number of valid answers (over the criterion's items). A criterion with fewer than
    ``minimum_valid`` of them (but some) is withheld: its real count, ``withheld`` True, score and points None.
    Nobody answered: count 0, None, not withheld. Never NaN.
    """
    rule = rule_of(scoring, rule)
    labels = answers[units] if isinstance(units, str) else pd.Series(units)
    if len(labels) != len(answers) or labels.isna().any():
        raise ValueError("units must give one non-missing unit per respondent.")
    weights = np.ones(len(answers)) if weights is None else np.asarray(weights, dtype=float)
    if weights.shape != (len(answers),) or not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError("weights must be one finite, non-negative value per respondent.")
    criteria = criteria_with_points(scoring)
    codes, levels = pd.factorize(labels.to_numpy(), sort=True)
    records = []
    for criterion in criteria:
        ratings = rating_matrix(answers, list(criterion.items))  # respondents × items, NaN = N/A; refuses 0, 9, …
        valid = ~np.isnan(ratings)
        per_answer = np.where(valid, RULES[rule](np.nan_to_num(ratings, nan=1.0)), 0.0)
        weighted_valid = valid * weights[:, None]
        score_sum = np.bincount(codes, weights=(per_answer * weights[:, None]).sum(axis=1), minlength=len(levels))
        weight_sum = np.bincount(codes, weights=weighted_valid.sum(axis=1), minlength=len(levels))
        counts = np.bincount(codes, weights=valid.sum(axis=1), minlength=len(levels)).astype(int)
        for position, level in enumerate(levels):
            withheld = 0 < counts[position] < minimum_valid
            score = _share(score_sum[position], weight_sum[position]) if not withheld else None
            records.append({
                "unit": level.item() if hasattr(level, "item") else level, "factor": criterion.factor, "criterion": criterion.key,
                "max_points": criterion.max_points, "valid_count": int(counts[position]), "score": score,
                "points": None if score is None else criterion.max_points * score, "withheld": bool(withheld),
            })
    table = pd.DataFrame.from_records(records, columns=["unit", "factor", "criterion", "max_points", "valid_count",
                                                        "score", "points", "withheld"])
    for column in ("score", "points"):
        table[column] = table[column].astype(object).where(table[column].notna(), None)
    return table


def _share(score_sum: float, weight_sum: float) -> float | None:
    """A mean score 0..1, rounded to 12 decimals and kept in [0, 1] (all-5 gives exactly 1, not 0.9999…)."""
    return clamped_share(float(score_sum / weight_sum)) if weight_sum > 0 else None


def leaf_points(survey: pd.DataFrame, structure: IndexStructure, assessed: pd.DataFrame) -> pd.DataFrame:
    """Points per unit and leaf of the structure: ``unit, field, id, scored_by, max_points, points, source``.

    ``source``: ``survey`` (mean score of the leaf's survey criteria × its maximum), ``unit_mean`` (no scored
    criterion: the unit's mean over its scored survey leaves, Σ points / Σ maxima, × the leaf's maximum),
    ``file`` (self-assessment or appraisal points), or None with points None (no row for the unit)."""
    survey_units = sorted(set(survey["unit"].astype(str))) if len(survey) else []
    units = sorted(set(survey_units) | set(assessed["unit"].astype(str)))
    scores = {(str(row["unit"]), row["criterion"]): row["score"] for row in survey.to_dict("records")}
    given = {(row["unit"], row["id"]): row["points"] for row in assessed.to_dict("records")}
    records = []
    for unit in units:
        survey_leaves = _survey_leaves(unit, structure, scores) if unit in survey_units else {}
        for leaf in structure.leaves:
            if leaf.scored_by == "survey":
                points, source = survey_leaves.get(leaf.id, (None, None))
            else:
                points = given.get((unit, leaf.id))
                source = None if points is None else "file"
            records.append({"unit": unit, "field": structure.field_of(leaf.id), "id": leaf.id,
                            "scored_by": leaf.scored_by, "max_points": leaf.max_points, "points": points,
                            "source": source})
    return pd.DataFrame(records, columns=["unit", "field", "id", "scored_by", "max_points", "points", "source"])


def _survey_leaves(unit: str, structure: IndexStructure, scores: dict) -> dict:
    """{leaf id: (points, source)} for the unit's survey leaves, the unit's mean filling those with no score."""
    leaves = [leaf for leaf in structure.leaves if leaf.scored_by == "survey"]
    scored = {}
    for leaf in leaves:
        known = [scores[(unit, key)] for key in leaf.survey_criteria if scores.get((unit, key)) is not None]
        if known:
            scored[leaf.id] = leaf.max_points * float(np.mean(known))
    scored_max = sum(leaf.max_points for leaf in leaves if leaf.id in scored)
    if not scored_max:
        return {}
    unit_mean = sum(scored.values()) / scored_max
    return {leaf.id: (scored[leaf.id], "survey") if leaf.id in scored else (leaf.max_points * unit_mean, "unit_mean")
            for leaf in leaves}


COMPONENTS = ("self_assessment", "appraisal", "survey")


def unit_totals(leaves: pd.DataFrame, structure: IndexStructure, levels: dict) -> pd.DataFrame:
    """Per unit: its level, points per component and per field, ``missing`` leaves, total and rank in its level.

    A unit with a leaf without points (no row in the points file, or no survey answers) is listed with what it
    has, ``missing`` naming the leaves, no total and no rank: a missing row never counts as zero. Rank 1 = the
    highest total within the level (sở, huyện, …); ties share the best rank."""
    rows = [_unit_row(unit, group, structure, levels.get(unit)) for unit, group in leaves.groupby("unit", sort=True)]
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    ranks = table["total"].astype(float).groupby(table["level"].fillna("")).rank(method="min", ascending=False)
    table["rank"] = pd.Series([None if np.isnan(rank) else int(rank) for rank in ranks], dtype=object)  # 1, not 1.0
    order = table.assign(_level=table["level"].fillna(""), _rank=ranks.fillna(np.inf))
    table = table.loc[order.sort_values(["_level", "_rank", "unit"]).index].reset_index(drop=True).astype(object)
    return table.where(table.notna(), None)  # None, never NaN, in JSON


def _unit_row(unit: str, group: pd.DataFrame, structure: IndexStructure, level: str | None) -> dict:
    points = group["points"].astype(float)
    missing = group.loc[points.isna(), "id"].tolist()
    row = {"unit": unit, "level": level}
    for component in COMPONENTS:
        part = points[group["scored_by"] == component]
        row[f"{component}_points"] = None if part.isna().all() and len(part) else _plain(part.sum())
    row["fields"] = {field.id: _plain(points[group["field"] == field.id].sum()) for field in structure.fields}
    row["missing"] = missing
    row["total"] = None if missing else _plain(points.sum())
    return row


def _plain(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return float(value)


