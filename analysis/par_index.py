"""PAR INDEX: the sociological-survey component per unit and criterion, and the unit totals with ranking.

Survey component: officials' ratings (1–5, N/A excluded) of each criterion become points
``max_points × score``, with the criterion's ``max_points`` from the questionnaire's scoring map. The score rule is
configurable (see ``RULES`` and docs/method.md):

* ``"linear"`` (default): score = mean over the unit's valid answers of (rating − 1) / 4, so 1 → 0, 3 → ½, 5 → 1;
* ``"share_4_5"``: score = share of answers 4–5 among valid answers (the SIPAS item index).

Self-assessment component: the points appraised by the provincial council, imported from CSV/XLSX with columns
``unit, criterion, points``; every bad row is reported with its spreadsheet row number.
A unit's total = survey points + appraised self-assessment points; ranking 1 = highest total.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.sipas import rating_matrix


def _linear(ratings: np.ndarray) -> np.ndarray:
    return (ratings - 1) / 4


def _share_4_5(ratings: np.ndarray) -> np.ndarray:
    return (ratings >= 4).astype(float)


# Each rule maps a valid rating (1..5) to a per-answer score in [0, 1]; the criterion score is their (weighted) mean.
RULES = {"linear": _linear, "share_4_5": _share_4_5}
DEFAULT_RULE = "linear"
SELF_ASSESSMENT_COLUMNS = ("unit", "criterion", "points")


class SelfAssessmentError(ValueError):
    """The self-assessment file has bad rows; ``problems`` lists them all as 'row N: message'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems[:10]) + (f"; … {len(problems) - 10} more" if len(problems) > 10 else ""))


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
    rule: str = DEFAULT_RULE,
    weights: pd.Series | np.ndarray | None = None,
) -> pd.DataFrame:
    """Points per unit and criterion from officials' ratings.

    ``answers``: one row per respondent, rating items as columns (1..5; N/A and blanks as NaN). ``units``: the
    column (or Series) naming each respondent's unit. Returns one row per unit × criterion with ``factor,
    criterion, max_points, valid_count, score`` (0..1) and ``points`` (= max_points × score); a criterion nobody
    in the unit answered has ``valid_count`` 0 and ``score``/``points`` None (never NaN).
    """
    if rule not in RULES:
        raise ValueError(f"rule={rule!r} is not one of {sorted(RULES)}.")
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
            score = float(score_sum[position] / weight_sum[position]) if weight_sum[position] > 0 else None
            records.append({
                "unit": level.item() if hasattr(level, "item") else level, "factor": criterion.factor, "criterion": criterion.key,
                "max_points": criterion.max_points, "valid_count": int(counts[position]), "score": score,
                "points": None if score is None else criterion.max_points * score,
            })
    table = pd.DataFrame.from_records(records, columns=["unit", "factor", "criterion", "max_points", "valid_count", "score", "points"])
    for column in ("score", "points"):
        table[column] = table[column].astype(object).where(table[column].notna(), None)
    return table


def read_self_assessment(path: str | Path, max_points: dict | None = None) -> pd.DataFrame:
    """Appraised self-assessment points from a CSV or XLSX file with columns ``unit, criterion, points``.

    Every problem is collected and raised together as ``SelfAssessmentError`` with spreadsheet row numbers (the
    header is row 1): a missing column, an empty unit or criterion, points that are not a number or negative, a
    repeated unit × criterion, and, when ``max_points`` ({criterion: max}) is given, an unknown criterion or points
    above the maximum.
    """
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        table = pd.read_excel(path, dtype=object)
    elif path.suffix.lower() == ".csv":
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    else:
        raise SelfAssessmentError([f"{path.name}: expected a .csv or .xlsx file"])
    return parse_self_assessment(table, max_points)


def parse_self_assessment(table: pd.DataFrame, max_points: dict | None = None) -> pd.DataFrame:
    """Check and normalise a raw self-assessment table (see ``read_self_assessment``)."""
    table = table.rename(columns=lambda name: str(name).strip().lower())
    missing = [column for column in SELF_ASSESSMENT_COLUMNS if column not in table.columns]
    if missing:
        raise SelfAssessmentError([f"row 1: missing column(s) {missing}; expected {list(SELF_ASSESSMENT_COLUMNS)}"])
    problems, rows, seen = [], [], {}
    for offset, raw in enumerate(table[list(SELF_ASSESSMENT_COLUMNS)].itertuples(index=False)):
        row_number = offset + 2
        unit, criterion, points = (_text(value) for value in raw)
        if not unit and not criterion and not points:
            continue  # blank line
        row_problems = []
        if not unit:
            row_problems.append("unit is empty")
        if not criterion:
            row_problems.append("criterion is empty")
        elif max_points is not None and criterion not in max_points:
            row_problems.append(f"criterion {criterion!r} is not in the scoring map")
        value = _number(points)
        if value is None:
            row_problems.append(f"points {points!r} is not a number")
        elif value < 0:
            row_problems.append(f"points {value:g} is negative")
        elif max_points is not None and criterion in max_points and value > float(max_points[criterion]) + 1e-9:
            row_problems.append(f"points {value:g} exceed the criterion's maximum {float(max_points[criterion]):g}")
        if unit and criterion:
            if (unit, criterion) in seen:
                row_problems.append(f"unit {unit!r} and criterion {criterion!r} were already given in row {seen[(unit, criterion)]}")
            else:
                seen[(unit, criterion)] = row_number
        problems.extend(f"row {row_number}: {problem}" for problem in row_problems)
        if not row_problems:
            rows.append({"unit": unit, "criterion": criterion, "points": value})
    if problems:
        raise SelfAssessmentError(problems)
    if not rows:
        raise SelfAssessmentError(["the file has no data rows"])
    return pd.DataFrame(rows, columns=list(SELF_ASSESSMENT_COLUMNS))


def unit_totals(survey: pd.DataFrame, self_assessment: pd.DataFrame) -> pd.DataFrame:
    """Each unit's survey points, self-assessment points, total and rank (1 = highest total).

    A unit present in only one component has the other as None, ``complete`` False and no rank: it is listed,
    not ranked, so a missing file never silently counts as zero. Ties share the best rank ("min" ranking).
    """
    survey_by_unit = survey.assign(points=survey["points"].astype(float)).groupby("unit")["points"].sum(min_count=1)
    assessed_by_unit = self_assessment.groupby("unit")["points"].sum()
    units = sorted(set(survey_by_unit.index.astype(str)) | set(assessed_by_unit.index.astype(str)))
    survey_by_unit.index = survey_by_unit.index.astype(str)
    assessed_by_unit.index = assessed_by_unit.index.astype(str)
    table = pd.DataFrame({"unit": units})
    table["survey_points"] = [_plain(survey_by_unit.get(unit)) for unit in units]
    table["self_assessment_points"] = [_plain(assessed_by_unit.get(unit)) for unit in units]
    table["complete"] = table["survey_points"].notna() & table["self_assessment_points"].notna()
    totals = table["survey_points"].astype(float) + table["self_assessment_points"].astype(float)
    table["total"] = [float(total) if complete else None for total, complete in zip(totals, table["complete"])]
    ranks = totals.where(table["complete"]).rank(method="min", ascending=False)
    table["rank"] = [int(rank) if not np.isnan(rank) else None for rank in ranks]
    table["_order"] = ranks.fillna(np.inf)
    ordered = table.sort_values(["_order", "unit"]).drop(columns="_order").reset_index(drop=True)
    return ordered.astype(object).where(ordered.notna(), None)


def _plain(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return float(value)


def _text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", ".")) if text else None
    except ValueError:
        return None
    return value if value is not None and np.isfinite(value) else None
