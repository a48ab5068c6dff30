"""A weighting plan run as steps with diagnostics before and after each: calibration to population margins
(post-stratification, raking or linear calibration), then trimming (docs/method.md §4b).

Design weights and the non-response adjustment come before, from the sample (analysis.nonresponse); this module takes
the respondents' weights after them and the population counts, and returns the final weights with one diagnostics
record per step. Pure: a statistician can run a province's plan from a notebook.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import weighting
from analysis.design import SurveyDesign

CALIBRATION_METHODS = ("post_stratify", "rake", "linear")
CROSS = "×"  # a crossed margin is named "unit×domain"; its level is "SO01/dat_dai"
LEVEL_SEPARATOR = "/"
SMALL_CELL = 5  # a calibration cell with fewer responses is named in the warnings (its weights vary most)


@dataclass(frozen=True)
class StepDiagnostics:
    """What a step did to the weights: summary before and after, and what it reports (iterations, margins)."""

    step: str
    before: dict
    after: dict
    details: dict = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"step": self.step, "before": self.before, "after": self.after, "details": self.details,
                "warnings": list(self.warnings)}


def describe(weights, units=None, population_total: float | None = None) -> dict:
    """Sum (against the population when known), min/median/max, max/min ratio, Kish's design effect from weighting
    1 + CV² = n Σw²/(Σw)² and effective sample size (Σw)²/Σw² (Kish 1965), overall and per unit."""
    weights = np.asarray(weights, dtype=float)
    summary = {"count": int(len(weights)), "total": float(weights.sum()), "population": population_total,
               "minimum": float(weights.min()), "median": float(np.median(weights)), "maximum": float(weights.max()),
               "ratio": float(weights.max() / weights.min()), "kish_deff": _kish_deff(weights),
               "effective_n": float(weights.sum() ** 2 / (weights ** 2).sum())}
    if units is not None:
        by_unit = pd.Series(weights).groupby(np.asarray(units))
        summary["effective_n_by_unit"] = {str(unit): round(float(w.sum() ** 2 / (w ** 2).sum()), 6) for unit, w in by_unit}
    return summary


def _kish_deff(weights: np.ndarray) -> float:
    return float(len(weights) * (weights ** 2).sum() / weights.sum() ** 2)


def margin_column(frame: pd.DataFrame, margin: str) -> pd.Series:
    """The frame's labels for a margin: a column, or columns crossed (``unit×domain`` → ``SO01/dat_dai``)."""
    parts = margin.split(CROSS)
    missing = [part for part in parts if part not in frame.columns]
    if missing:
        raise weighting.WeightingError(f"margin {margin!r}: no column {missing} in the data")
    labels = frame[parts[0]].astype(str)
    for part in parts[1:]:
        labels = labels + LEVEL_SEPARATOR + frame[part].astype(str)
    return labels


def calibrate_and_trim(frame: pd.DataFrame, weights, *, method: str | None, margins: dict[str, dict],
                       lower: float | None = None, upper: float | None = None,
                       max_iterations: int = 100, unit_column: str = "unit") -> tuple[np.ndarray, list[StepDiagnostics]]:
    """Calibrate the weights to the margins (``method``: post_stratify with one margin, rake, or linear), then trim
    to [lower, upper]; each step that is asked for gives its diagnostics. ``margins`` maps a margin name (a column,
    or columns joined by ×) to its population count per level."""
    data = frame.copy()
    for margin in margins:
        data[margin] = margin_column(frame, margin)
    design = SurveyDesign.from_frame(data, weights=np.asarray(weights, dtype=float))
    units = data[unit_column].to_numpy() if unit_column in data else None
    steps = []
    population = float(sum(next(iter(margins.values())).values())) if margins else None
    if method:
        design, step = _calibration_step(design, method, margins, max_iterations, units, population, upper)
        steps.append(step)
    if lower is not None or upper is not None:
        design, step = _trim_step(design, lower, upper, units, population)
        steps.append(step)
    return design.weights, steps


def _calibration_step(design, method, margins, max_iterations, units, population, upper):
    if method not in CALIBRATION_METHODS:
        raise weighting.WeightingError(f"calibration method {method!r}: choose one of {CALIBRATION_METHODS}")
    if not margins:
        raise weighting.WeightingError("calibration needs at least one margin with its population counts")
    if method == "post_stratify":
        if len(margins) != 1:
            raise weighting.WeightingError("post-stratification takes one margin (cross the variables: unit×domain)")
        [(name, counts)] = margins.items()
        result = weighting.post_stratify(design, name, counts)
    elif method == "rake":
        result = weighting.rake(design, margins, max_iterations=max_iterations)
    else:
        result = weighting.calibrate(design, list(margins), _linear_totals(margins), intercept=True)
    details = {"method": method, **_json_ready(result.report), "margins": _margins_hit(result.design, margins)}
    warnings = _small_cells(design, margins) + _above_bound(result.design.weights, upper)
    step = StepDiagnostics("calibration", describe(design.weights, units, population),
                           describe(result.design.weights, units, population), details, tuple(warnings))
    return result.design, step


def _trim_step(design, lower, upper, units, population):
    result = weighting.trim(design, lower=lower, upper=upper)
    details = {"lower": lower, "upper": upper, **result.report}
    warnings = _above_bound(result.design.weights, upper)
    step = StepDiagnostics("trim", describe(design.weights, units, population),
                           describe(result.design.weights, units, population), details, tuple(warnings))
    return result.design, step


def _linear_totals(margins: dict[str, dict]) -> dict:
    """GREG totals for margins entered as factors: N, then each level but the first (R's treatment contrasts)."""
    first = next(iter(margins.values()))
    totals = {"intercept": float(sum(first.values()))}
    for name, counts in margins.items():
        for level in sorted(counts)[1:]:
            totals[f"{name}[{level}]"] = float(counts[level])
    return totals


def _margins_hit(design: SurveyDesign, margins: dict[str, dict]) -> list[dict]:
    """Per margin, the largest relative gap between the weighted sample and the population count."""
    hit = []
    for name, counts in margins.items():
        sums = pd.Series(design.weights).groupby(design.data[name].to_numpy()).sum()
        gaps = [abs(sums.get(level, 0.0) - count) / count for level, count in counts.items()]
        hit.append({"margin": name, "levels": len(counts), "max_relative_error": float(max(gaps))})
    return hit


def _small_cells(design: SurveyDesign, margins: dict[str, dict]) -> list[str]:
    warnings = []
    for name in margins:
        sizes = design.data[name].value_counts()
        small = sorted(str(level) for level, size in sizes.items() if size < SMALL_CELL)
        if small:
            warnings.append(f"small_cells:{name}:{','.join(small[:10])}")
    return warnings


def _above_bound(weights: np.ndarray, upper: float | None) -> list[str]:
    if upper is None:
        return []
    above = int((weights > upper + 1e-9).sum())
    return [f"above_bound:{above}:{upper:g}"] if above else []


def _json_ready(report: dict) -> dict:
    return {key: (bool(value) if isinstance(value, np.bool_) else value) for key, value in report.items()}
