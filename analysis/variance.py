"""One Taylor-linearisation variance engine for stratified multistage designs (R's ``svyrecvar``).

Estimators hand over weighted linearised values ``z`` (one column per statistic, ``z_i = w_i u_i``);
the engine removes the part explained by calibration, then sums the between-unit variance of each
stage, each later stage scaled by the sampling fractions of the stages above it.
"""

from __future__ import annotations

import numpy as np

from dataclasses import dataclass

from analysis.design import Calibration, Stage, SurveyDesign


@dataclass(frozen=True)
class StageLayout:
    """What the variance needs from one stage, independent of the statistic (computed once per design)."""

    unit: np.ndarray  # unit code per row
    unit_group: np.ndarray  # group code per unit
    units_in_group: np.ndarray  # sampled units per group
    group_scale: np.ndarray  # (earlier fractions) · (1 − f) · n / (n − 1); zero for lonely groups
    lonely_scale: np.ndarray  # for lonely_psu="adjust": (earlier fractions) · (1 − f) on lonely groups, else 0
    inflation: float  # for lonely_psu="average": strata / strata with more than one unit


def stage_layouts(design: SurveyDesign) -> tuple[StageLayout, ...]:
    """Per-stage layouts; later stages only while every earlier stage was sampled without replacement.

    They depend on the stages only, so they are computed once per design and kept in ``design.cache``.
    """
    if "layouts" not in design.cache:
        design.cache["layouts"] = _stage_layouts(design)
    return design.cache["layouts"]


def _stage_layouts(design: SurveyDesign) -> tuple[StageLayout, ...]:
    layouts = []
    multiplier = np.ones(design.row_count)
    for depth, stage in enumerate(design.stages):
        layouts.append(_layout(stage, multiplier, design.lonely_psu, depth + 1))
        if stage.population_size is None:
            break
        multiplier = multiplier * _sampling_fraction(stage)
    return tuple(layouts)


def linearized_covariance(design: SurveyDesign, scores: np.ndarray, rows: np.ndarray | None = None, layouts=None) -> np.ndarray:
    """Covariance (k × k) of the totals of the k columns of weighted linearised ``scores``.

    ``rows`` (optional) lists the only rows where scores may be non-zero, e.g. a domain: the variance is
    then computed from those rows alone, yet with every stratum's full PSU count, which is exactly
    what zeroing the other rows gives.
    """
    scores = np.asarray(scores, dtype=float)
    scores = scores[:, None] if scores.ndim == 1 else scores
    if design.calibrations:
        scores = _full_scores(scores, rows, design.row_count)
        rows = None  # calibration residuals are non-zero everywhere
        for calibration in design.calibrations:
            scores = calibration_residuals(scores, calibration)
    if design.pps is not None:  # PPS without replacement: its own (Brewer, Overton, Hartley–Rao, HT) variance
        return design.pps.covariance(_full_scores(scores, rows, design.row_count))
    layouts = stage_layouts(design) if layouts is None else layouts
    covariance = np.zeros((scores.shape[1], scores.shape[1]))
    for layout in layouts:
        covariance += _stage_covariance(scores, rows, layout)
    return covariance


def standard_errors(design: SurveyDesign, scores: np.ndarray, rows: np.ndarray | None = None, layouts=None) -> np.ndarray:
    """Standard errors of the totals of the columns of ``scores``."""
    return np.sqrt(np.clip(np.diag(linearized_covariance(design, scores, rows, layouts)), 0, None))


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
    model = calibration.matrix()
    root = np.sqrt(calibration.base_weights)[:, None]
    coefficients = np.linalg.lstsq(model * root, per_unit * root, rcond=None)[0]
    return scores - adjusted * (model @ coefficients)


def _layout(stage: Stage, multiplier: np.ndarray, lonely_psu: str, depth: int) -> StageLayout:
    unit_group = _first_by(stage.unit, stage.group)
    group_count = int(stage.group.max()) + 1
    units_in_group = np.bincount(unit_group, minlength=group_count)
    fraction = _group_fraction(stage, unit_group, units_in_group, group_count)
    base = _first_by(stage.group, multiplier, group_count) * (1 - fraction)
    lonely = (units_in_group == 1) & (fraction < 1)  # one unit drawn, and not a certainty
    if lonely.any() and lonely_psu == "fail":
        raise ValueError(
            f"{int(lonely.sum())} strata have only one PSU at stage {depth} (group codes {list(np.flatnonzero(lonely)[:5])}). "
            "Choose lonely_psu='certainty', 'remove', 'adjust' or 'average', or merge those strata."
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        group_scale = np.where(units_in_group > 1, base * units_in_group / (units_in_group - 1), 0.0)
    lonely_scale = np.where(lonely, base, 0.0) if lonely_psu == "adjust" else np.zeros(group_count)
    informative = int((units_in_group > 1).sum())
    inflation = (informative + int(lonely.sum())) / informative if lonely_psu == "average" and informative else 1.0
    return StageLayout(stage.unit, unit_group, units_in_group, group_scale, lonely_scale, inflation)


def whole_sample_mean_variance(design: SurveyDesign, weighted_values: np.ndarray, value: float, weight_total: float) -> float:
    """Variance of ȳ = Σwy/Σw over every row, without building row scores (the prebuilt-design fast path).

    Each stage's unit totals of z = w(y − ȳ)/W are (Σ_unit wy − ȳ Σ_unit w)/W; Σ_unit w depends on the design only and
    is kept in ``design.cache``, so a mean costs one product and one np.bincount per stage. Not for calibrated designs.
    """
    variance = 0.0
    for depth, layout in enumerate(stage_layouts(design)):
        unit_count = len(layout.unit_group)
        weighted_totals = np.bincount(layout.unit, weights=weighted_values, minlength=unit_count)
        unit_totals = (weighted_totals - value * _unit_weight_totals(design, depth, layout)) / weight_total
        variance += _covariance_of_totals(np.arange(unit_count), unit_totals[:, None], layout)[0, 0]
    return float(variance)


def _unit_weight_totals(design: SurveyDesign, depth: int, layout: StageLayout) -> np.ndarray:
    key = ("unit_weight_totals", depth)
    if key not in design.cache:
        design.cache[key] = np.bincount(layout.unit, weights=design.weights, minlength=len(layout.unit_group))
    return design.cache[key]


def _stage_covariance(scores: np.ndarray, rows: np.ndarray | None, layout: StageLayout) -> np.ndarray:
    """Σ_h c_h Σ_i (T_hi − T̄_h)(T_hi − T̄_h)ᵀ, written as Σ c T Tᵀ − Σ_h c_h S_h S_hᵀ / n_h so absent units cost nothing."""
    units, unit_totals = _unit_totals(scores, rows, layout)
    return _covariance_of_totals(units, unit_totals, layout)


def _covariance_of_totals(units: np.ndarray, unit_totals: np.ndarray, layout: StageLayout) -> np.ndarray:
    """The stage's covariance from the totals of the listed units (units not listed have total zero)."""
    groups = layout.unit_group[units]
    present_groups, group_position = np.unique(groups, return_inverse=True)
    group_sums = _sum_by(group_position, unit_totals, len(present_groups))
    unit_scale = layout.group_scale[groups]
    covariance = (unit_totals * unit_scale[:, None]).T @ unit_totals
    group_scale = layout.group_scale[present_groups] / layout.units_in_group[present_groups]
    covariance -= (group_sums * group_scale[:, None]).T @ group_sums
    if layout.lonely_scale.any():
        covariance += _adjusted_lonely(unit_totals, groups, layout)
    return covariance * layout.inflation


def _unit_totals(scores, rows, layout: StageLayout) -> tuple[np.ndarray, np.ndarray]:
    if rows is None:
        return np.arange(len(layout.unit_group)), _sum_by(layout.unit, scores, len(layout.unit_group))
    units, position = np.unique(layout.unit[rows], return_inverse=True)
    return units, _sum_by(position, scores, len(units))


def _adjusted_lonely(unit_totals, groups, layout: StageLayout) -> np.ndarray:
    """R's lonely_psu='adjust': a lonely unit deviates from the mean of all units, not from its own stratum."""
    grand_mean = unit_totals.sum(axis=0) / len(layout.unit_group)
    deviations = unit_totals - grand_mean
    present = (deviations * layout.lonely_scale[groups][:, None]).T @ deviations
    absent_scale = layout.lonely_scale[layout.unit_group].sum() - layout.lonely_scale[groups].sum()
    return present + absent_scale * np.outer(grand_mean, grand_mean)


def _full_scores(scores, rows, row_count) -> np.ndarray:
    if rows is None:
        return scores
    full = np.zeros((row_count, scores.shape[1]))
    full[rows] = scores
    return full


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
