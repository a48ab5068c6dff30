"""Weighting steps: nonresponse adjustment, post-stratification, raking, linear calibration, trimming.

Each step takes a design and returns ``Weighted(design, before, after, report)``: a new design whose
weights are adjusted and whose calibration is recorded for the variance (as R survey's
``postStratify``, ``rake``, ``calibrate`` and ``trimWeights`` do), with before/after weight summaries.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from analysis.design import Calibration, Stage, SurveyDesign


class WeightingError(ValueError):
    """Weighting cannot be done as asked (empty cell, inconsistent margins, no convergence)."""


class ConvergenceWarning(UserWarning):
    """Raking stopped before reaching its tolerance."""


@dataclass(frozen=True)
class WeightSummary:
    """Sum, range, coefficient of variation and Kish effective sample size of a set of weights."""

    total: float
    minimum: float
    maximum: float
    cv: float
    effective_n: float
    count: int

    @classmethod
    def of(cls, weights: np.ndarray) -> "WeightSummary":
        weights = np.asarray(weights, dtype=float)
        # Kish (1965): n_eff = (Σw)² / Σw², the size of an SRS with the same precision for a mean.
        effective_n = weights.sum() ** 2 / (weights**2).sum()
        cv = weights.std() / weights.mean()
        return cls(float(weights.sum()), float(weights.min()), float(weights.max()), float(cv), float(effective_n), len(weights))


@dataclass(frozen=True)
class Weighted:
    """The new design and what the step did to the weights."""

    design: SurveyDesign
    before: WeightSummary
    after: WeightSummary
    report: dict = field(default_factory=dict)


def adjust_nonresponse(design: SurveyDesign, responded, cells: str | list[str] | None = None) -> Weighted:
    """Drop non-respondents and spread their weight over respondents of the same cell (weighting-class method).

    Variance then treats the adjusted weights as design weights, the usual practice (Valliant et al. 2013, §13.4).
    """
    responded = _row_mask(design, responded, "responded")
    cell_codes = _cell_codes(design.data, cells)
    full_totals = np.bincount(cell_codes, weights=design.weights)
    respondent_totals = np.bincount(cell_codes, weights=design.weights * responded, minlength=len(full_totals))
    empty = np.flatnonzero((full_totals > 0) & (respondent_totals == 0))
    if len(empty):
        raise WeightingError(f"{len(empty)} nonresponse cells have no respondents; merge those cells with neighbours.")
    factor = np.divide(full_totals, respondent_totals, out=np.ones_like(full_totals), where=respondent_totals > 0)
    adjusted = design.weights * factor[cell_codes]
    respondents = subset_rows(design, responded).with_weights(adjusted[responded], None, f"nonresponse adjustment within {cells}")
    report = {"cells": len(full_totals), "respondents": int(responded.sum()), "max_factor": float(factor.max())}
    return Weighted(respondents, WeightSummary.of(design.weights), WeightSummary.of(respondents.weights), report)


def post_stratify(design: SurveyDesign, variables: str | list[str], population) -> Weighted:
    """Scale weights so each post-stratum sums to its population count (R's ``postStratify``)."""
    labels = _cell_labels(design.data, variables)
    targets = _population_counts(population)
    groups, counts = _match_cells(labels, targets, variables)
    sample_totals = np.bincount(groups, weights=design.weights, minlength=len(counts))
    adjusted = design.weights * (counts / sample_totals)[groups]
    calibration = Calibration("post_stratify", None, design.weights, adjusted, groups)
    new_design = design.with_weights(adjusted, calibration, f"post-stratified on {variables}")
    return Weighted(new_design, WeightSummary.of(design.weights), WeightSummary.of(adjusted), {"cells": len(counts)})


def rake(
    design: SurveyDesign,
    margins: dict,
    *,
    max_iterations: int = 100,
    tolerance: float = 1e-8,
    on_failure: str = "raise",
) -> Weighted:
    """Iterative proportional fitting to several margins; report iterations and the largest margin error.

    ``margins`` maps a variable (or list of variables) to its population counts per level. Margins must share
    one total. When not converged, ``on_failure="raise"`` raises and ``"warn"`` warns and returns the last weights.
    """
    matched = [_match_cells(_cell_labels(design.data, variable), _population_counts(counts), variable) for variable, counts in margins.items()]
    _check_margin_totals(margins, matched)
    weights, iterations, error = _iterate_proportional_fitting(design.weights.copy(), matched, max_iterations, tolerance)
    report = {"iterations": iterations, "converged": error <= tolerance, "max_relative_margin_error": error}
    if error > tolerance:
        errors = [_margin_error(weights, groups, counts) for groups, counts in matched]
        worst = list(margins)[int(np.argmax(errors))]
        report["margin_errors"] = dict(zip(map(str, margins), errors))
        _fail(f"Raking did not converge in {max_iterations} iterations: margin {worst!r} is off by {max(errors):.2e} "
              f"(relative); check for empty cells or contradictory margins, or raise max_iterations.", on_failure)
    # The variance residualises on every margin's indicators; the matrix is built lazily (Calibration.matrix).
    calibration = Calibration("rake", None, design.weights, weights, margins=tuple((groups, len(counts)) for groups, counts in matched))
    new_design = design.with_weights(weights, calibration, f"raked on {list(margins)}")
    return Weighted(new_design, WeightSummary.of(design.weights), WeightSummary.of(weights), report)


def calibrate(design: SurveyDesign, variables: list[str], population_totals: dict, *, intercept: bool = True) -> Weighted:
    """Linear (GREG) calibration: w* = w (1 + xᵀλ) so that Σ w* x equals the population totals (R ``calibrate``).

    Categorical variables enter as indicators named ``variable[level]`` with the first level dropped when there is
    an intercept, like R's treatment contrasts; ``population_totals`` must name every column (``intercept`` = N).
    """
    model, names = model_matrix(design.data, variables, intercept)
    missing = [name for name in names if name not in population_totals]
    if missing:
        raise WeightingError(f"population_totals lacks {missing}; the model's columns are {names}.")
    targets = np.array([population_totals[name] for name in names], dtype=float)
    weighted_model = model * design.weights[:, None]
    multipliers = np.linalg.solve(weighted_model.T @ model, targets - weighted_model.sum(axis=0))
    adjusted = design.weights * (1 + model @ multipliers)
    if (adjusted <= 0).any():
        raise WeightingError(f"Linear calibration made {int((adjusted <= 0).sum())} weights non-positive; use rake() or trim, or drop a variable.")
    new_design = design.with_weights(adjusted, Calibration("linear", model, design.weights, adjusted), f"linear calibration on {variables}")
    return Weighted(new_design, WeightSummary.of(design.weights), WeightSummary.of(adjusted), {"columns": names})


def trim(design: SurveyDesign, *, lower: float | None = None, upper: float | None = None, strict: bool = True,
         max_iterations: int = 50) -> Weighted:
    """Cap weights to [lower, upper] and share the trimmed amount equally among the weights inside, keeping the
    total (R's ``trimWeights``); ``strict`` repeats until no weight is outside (R's ``strict=TRUE``)."""
    weights = design.weights.copy()
    low = -np.inf if lower is None else lower
    high = np.inf if upper is None else upper
    if low >= high or (lower is not None and lower * len(weights) > weights.sum()) or (upper is not None and upper * len(weights) < weights.sum()):
        raise WeightingError("Trimming bounds cannot keep the weight total; widen lower/upper.")
    iteration = 0
    for iteration in range(1, (max_iterations if strict else 1) + 1):
        weights, changed = _trim_once(weights, low, high)
        if not changed:
            break
    new_design = design.with_weights(weights, None, f"trimmed to [{lower}, {upper}]")
    report = {"iterations": iteration, "trimmed": int(((design.weights < low) | (design.weights > high)).sum()),
              "outside_after": int(((weights < low - 1e-9) | (weights > high + 1e-9)).sum())}
    return Weighted(new_design, WeightSummary.of(design.weights), WeightSummary.of(weights), report)


def subset_rows(design: SurveyDesign, keep: np.ndarray) -> SurveyDesign:
    """The design restricted to ``keep`` rows (for real sample changes like nonresponse, not for domains)."""
    stages = tuple(Stage(stage.group[keep], stage.unit[keep], None if stage.population_size is None else stage.population_size[keep]) for stage in design.stages)
    stages = tuple(Stage(_recode(stage.group), _recode(stage.unit), stage.population_size) for stage in stages)
    calibrations = tuple(_subset_calibration(calibration, keep) for calibration in design.calibrations)
    return replace(design, data=design.data[keep].reset_index(drop=True), weights=design.weights[keep], stages=stages, calibrations=calibrations)


def model_matrix(data: pd.DataFrame, variables: list[str], intercept: bool = True) -> tuple[np.ndarray, list[str]]:
    """Numeric columns as they are, other columns as level indicators (first level dropped with an intercept)."""
    columns, names = ([np.ones(len(data))], ["intercept"]) if intercept else ([], [])
    for variable in variables:
        values = data[variable]
        if pd.api.types.is_numeric_dtype(values):
            columns.append(values.to_numpy(dtype=float))
            names.append(variable)
            continue
        levels = sorted(values.dropna().unique().tolist())
        for level in levels[1:] if intercept else levels:
            columns.append((values == level).to_numpy(dtype=float))
            names.append(f"{variable}[{level}]")
    return np.column_stack(columns), names


def _trim_once(weights: np.ndarray, low: float, high: float) -> tuple[np.ndarray, bool]:
    outside = (weights < low) | (weights > high)
    if not outside.any():
        return weights, False
    clipped = np.clip(weights, low, high)
    inside = ~outside
    # R's trimWeights adds the trimmings in equal shares to the weights inside the bounds (not in proportion).
    clipped[inside] += (weights - clipped).sum() / inside.sum()
    return clipped, True


def _iterate_proportional_fitting(weights, matched, max_iterations, tolerance) -> tuple[np.ndarray, int, float]:
    error = np.inf
    for iteration in range(1, max_iterations + 1):
        for groups, counts in matched:
            sample_totals = np.bincount(groups, weights=weights, minlength=len(counts))
            weights = weights * (counts / sample_totals)[groups]
        error = max(_margin_error(weights, groups, counts) for groups, counts in matched)
        if error <= tolerance:
            return weights, iteration, float(error)
    return weights, max_iterations, float(error)


def _margin_error(weights, groups, counts) -> float:
    return float(np.max(np.abs(np.bincount(groups, weights=weights, minlength=len(counts)) - counts) / counts))


def _check_margin_totals(margins: dict, matched) -> None:
    totals = [counts.sum() for _, counts in matched]
    if max(totals) - min(totals) > 1e-6 * max(totals):
        described = ", ".join(f"{variable}: {total:g}" for variable, total in zip(margins, totals))
        raise WeightingError(f"Raking margins must sum to the same population total; got {described}.")


def _fail(message: str, on_failure: str) -> None:
    if on_failure == "warn":
        warnings.warn(message, ConvergenceWarning, stacklevel=3)
    else:
        raise WeightingError(message)


def _cell_labels(data: pd.DataFrame, variables) -> pd.Series:
    names = [variables] if isinstance(variables, str) else list(variables)
    missing = [name for name in names if name not in data.columns]
    if missing:
        raise WeightingError(f"Columns {missing} are not in the data.")
    if len(names) == 1:
        return data[names[0]]  # missing values are refused by _match_cells (one hashing pass, not two)
    if data[names].isna().any().any():
        raise WeightingError(f"{names} have missing values; give them a level (e.g. 'unknown') with its population count.")
    return pd.Series(list(data[names].itertuples(index=False, name=None)), index=data.index)


def _population_counts(population) -> pd.Series:
    """Population counts as a Series indexed by level, from a dict, Series or DataFrame (last column = count)."""
    if isinstance(population, pd.DataFrame):
        keys = population.iloc[:, :-1]
        index = keys.iloc[:, 0] if keys.shape[1] == 1 else list(keys.itertuples(index=False, name=None))
        return pd.Series(population.iloc[:, -1].to_numpy(dtype=float), index=index)
    return pd.Series(population, dtype=float)


def _match_cells(labels: pd.Series, targets: pd.Series, variables) -> tuple[np.ndarray, np.ndarray]:
    # Hash the row labels once (factorize), then work on the few distinct levels only.
    codes, levels = pd.factorize(labels, use_na_sentinel=True)
    if (codes < 0).any():
        raise WeightingError(f"{variables} have missing values; give them a level (e.g. 'unknown') with its population count.")
    unknown = sorted(set(levels) - set(targets.index), key=str)
    if unknown:
        raise WeightingError(f"Levels {unknown[:5]} of {variables} have no population count; add them to the population table.")
    empty = sorted(set(targets.index) - set(levels), key=str)
    if empty:
        raise WeightingError(f"Population cells {empty[:5]} of {variables} have no sampled rows; merge them with neighbouring cells.")
    if (targets <= 0).any():
        raise WeightingError(f"Population counts for {variables} must be positive.")
    level_positions = pd.Index(targets.index).get_indexer(pd.Index(levels))
    return level_positions[codes], targets.to_numpy(dtype=float)


def _row_mask(design: SurveyDesign, values, what: str) -> np.ndarray:
    values = design.data[values] if isinstance(values, str) else values
    mask = np.asarray(values, dtype=bool)
    if mask.shape != (design.row_count,):
        raise WeightingError(f"{what} must have one value per row ({design.row_count}).")
    return mask


def _cell_codes(data: pd.DataFrame, cells) -> np.ndarray:
    if cells is None:
        return np.zeros(len(data), dtype=np.int64)
    return pd.factorize(_cell_labels(data, cells))[0]


def _recode(codes: np.ndarray) -> np.ndarray:
    return np.unique(codes, return_inverse=True)[1]


def _subset_calibration(calibration: Calibration, keep: np.ndarray) -> Calibration:
    model = None if calibration.model_matrix is None else calibration.model_matrix[keep]
    groups = None if calibration.groups is None else _recode(calibration.groups[keep])
    margins = None if calibration.margins is None else tuple((codes[keep], count) for codes, count in calibration.margins)
    return Calibration(calibration.kind, model, calibration.base_weights[keep], calibration.adjusted_weights[keep], groups, margins)
