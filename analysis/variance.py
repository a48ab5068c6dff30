"""One Taylor-linearisation variance engine for stratified multistage designs (R's ``svyrecvar``).

Estimators hand over weighted linearised values ``z`` (one column per statistic, ``z_i = w_i u_i``);
the engine removes the part explained by calibration, then sums the between-unit variance of each
stage, each later stage scaled by the sampling fractions of the stages above it.
"""

from __future__ import annotations

import numpy as np

from analysis.design import Calibration, Stage, SurveyDesign


def linearized_covariance(design: SurveyDesign, scores: np.ndarray) -> np.ndarray:
    """Covariance matrix (k × k) of the totals of the k columns of weighted linearised ``scores``."""
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:
        scores = scores[:, None]
    for calibration in design.calibrations:
        scores = calibration_residuals(scores, calibration)
    covariance = np.zeros((scores.shape[1], scores.shape[1]))
    # Later stages contribute only where every earlier stage was sampled without replacement.
    stage_multiplier = np.ones(design.row_count)
    for depth, stage in enumerate(design.stages):
        covariance += _stage_covariance(scores, stage, stage_multiplier, design.lonely_psu, depth + 1)
        if stage.population_size is None:
            break
        stage_multiplier = stage_multiplier * _sampling_fraction(stage)
    return covariance


def standard_errors(design: SurveyDesign, scores: np.ndarray) -> np.ndarray:
    """Standard errors of the totals of the columns of ``scores``."""
    return np.sqrt(np.clip(np.diag(linearized_covariance(design, scores)), 0, None))


def calibration_residuals(scores: np.ndarray, calibration: Calibration) -> np.ndarray:
    """Replace z = w·u by w·(u − Zβ), β the base-weighted least-squares fit of u on the calibration model.

    This is R's ``qr.resid`` step in ``svyrecvar``: calibrated totals of Z then have zero variance.
    """
    adjusted = calibration.adjusted_weights[:, None]
    per_unit = scores / adjusted
    if calibration.groups is not None:
        base_sums = np.bincount(calibration.groups, weights=calibration.base_weights)
        fitted = _sum_by(calibration.groups, per_unit * calibration.base_weights[:, None]) / base_sums[:, None]
        return scores - adjusted * fitted[calibration.groups]
    root = np.sqrt(calibration.base_weights)[:, None]
    coefficients = np.linalg.lstsq(calibration.model_matrix * root, per_unit * root, rcond=None)[0]
    return scores - adjusted * (calibration.model_matrix @ coefficients)


def _stage_covariance(scores, stage: Stage, multiplier, lonely_psu: str, depth: int) -> np.ndarray:
    unit_totals = _sum_by(stage.unit, scores)
    unit_group = _first_by(stage.unit, stage.group)
    group_count = stage.group.max() + 1
    units_in_group = np.bincount(unit_group, minlength=group_count)
    group_means = _sum_by(unit_group, unit_totals, group_count) / units_in_group[:, None]
    deviations = unit_totals - group_means[unit_group]
    fraction = _group_fraction(stage, unit_group, units_in_group, group_count)
    scale = _first_by(stage.group, multiplier, group_count) * (1 - fraction)
    lonely = (units_in_group == 1) & (fraction < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(units_in_group > 1, scale * units_in_group / (units_in_group - 1), scale)
    covariance = _weighted_crossproduct(deviations, scale[unit_group] * ~lonely[unit_group])
    if lonely.any():
        covariance = _lonely_adjustment(covariance, unit_totals, unit_group, lonely, scale, lonely_psu, depth)
    return covariance


def _lonely_adjustment(covariance, unit_totals, unit_group, lonely, scale, lonely_psu: str, depth: int):
    """Apply R's ``lonely.psu`` choice to groups with one sampled unit that is not a certainty."""
    if lonely_psu == "fail":
        raise ValueError(
            f"{int(lonely.sum())} strata have only one PSU at stage {depth} (group codes {list(np.flatnonzero(lonely)[:5])}). "
            "Choose lonely_psu='certainty', 'remove', 'adjust' or 'average', or merge those strata."
        )
    if lonely_psu == "adjust":
        # Centre a lonely unit at the mean of all units instead of its (undefined) stratum mean.
        grand_mean = unit_totals.mean(axis=0)
        lonely_rows = lonely[unit_group]
        deviations = unit_totals[lonely_rows] - grand_mean
        return covariance + _weighted_crossproduct(deviations, scale[unit_group][lonely_rows])
    if lonely_psu == "average":
        informative = int((np.bincount(unit_group) > 1).sum())
        groups = informative + int(lonely.sum())
        return covariance * groups / informative if informative else covariance
    return covariance  # certainty / remove: no contribution


def _group_fraction(stage: Stage, unit_group, units_in_group, group_count) -> np.ndarray:
    if stage.population_size is None:
        return np.zeros(group_count)
    population = _first_by(stage.group, stage.population_size, group_count)
    return np.divide(units_in_group, population, out=np.zeros(group_count), where=population > 0)


def _sampling_fraction(stage: Stage) -> np.ndarray:
    """Per row: sampled units / population units in the row's group at this stage."""
    unit_group = _first_by(stage.unit, stage.group)
    units_in_group = np.bincount(unit_group, minlength=stage.group.max() + 1)
    return units_in_group[stage.group] / stage.population_size


def _sum_by(codes: np.ndarray, values: np.ndarray, size: int | None = None) -> np.ndarray:
    """Column sums of ``values`` per code (np.bincount is much faster than pandas groupby here)."""
    size = int(codes.max()) + 1 if size is None else size
    return np.column_stack([np.bincount(codes, weights=values[:, column], minlength=size) for column in range(values.shape[1])])


def _first_by(codes: np.ndarray, values: np.ndarray, size: int | None = None) -> np.ndarray:
    """The value of ``values`` at the first row of each code (used for values constant within a code)."""
    size = int(codes.max()) + 1 if size is None else size
    result = np.zeros(size, dtype=np.asarray(values).dtype)
    result[codes[::-1]] = np.asarray(values)[::-1]
    return result


def _weighted_crossproduct(deviations: np.ndarray, row_scale: np.ndarray) -> np.ndarray:
    return (deviations * row_scale[:, None]).T @ deviations
