"""Design-based estimators: total, mean, ratio, proportion, and the same by domain.

Each estimator computes its value and its weighted linearised values (influence functions), then
asks ``analysis.variance`` for the variance. Domains are handled by zeroing the values outside the
domain, never by dropping rows, so every PSU and stratum still counts (Lumley 2010, §2.4).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.design import SurveyDesign
from analysis.variance import linearized_covariance, whole_sample_mean_variance


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its standard error, confidence interval and (optional) design effect."""

    value: float
    se: float
    ci_low: float
    ci_high: float
    deff: float | None = None
    count: int | None = None  # responses behind the estimate (unweighted)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Linearized:
    """Values of several statistics and their weighted linearised scores (one column each)."""

    values: np.ndarray
    scores: np.ndarray
    counts: np.ndarray


def total(design: SurveyDesign, variable: str, *, domain=None, na_rm: bool = False, confidence: float = 0.95, deff: bool | str = False) -> Estimate:
    """Horvitz–Thompson total ``Σ w y`` (within ``domain`` if given).

    ``deff=True`` compares with simple random sampling without replacement of the same size, ``deff="replace"``
    with replacement (R's ``deff=TRUE`` / ``deff="replace"``).
    """
    values, inside = _variable_in_domain(design, variable, domain, na_rm)
    linearized = _total_scores(design.weights, values, inside[:, None])
    return _single(design, linearized, confidence, deff and _srs_variance_total(design, values, inside, deff == "replace"), "total")


def mean(design: SurveyDesign, variable: str, *, domain=None, na_rm: bool = False, confidence: float = 0.95, deff: bool | str = False) -> Estimate:
    """Weighted mean ``Σ w y / Σ w`` (within ``domain`` if given), a ratio to the estimated population size."""
    if domain is None and not deff and not design.calibrations and design.pps is None:
        fast = _whole_sample_mean(design, design.column(variable), confidence)
        if fast is not None:
            return fast
    values, inside = _variable_in_domain(design, variable, domain, na_rm)
    linearized = _ratio_scores(design.weights, values, np.ones_like(values), inside[:, None])
    return _single(design, linearized, confidence, deff and _srs_variance_mean(design, values, inside, deff == "replace"), "mean")


def ratio(design: SurveyDesign, numerator: str, denominator: str, *, domain=None, na_rm: bool = False, confidence: float = 0.95) -> Estimate:
    """Ratio of two totals ``Σ w y / Σ w x`` (R's ``svyratio``)."""
    top, inside_top = _variable_in_domain(design, numerator, domain, na_rm)
    bottom, inside_bottom = _variable_in_domain(design, denominator, domain, na_rm)
    linearized = _ratio_scores(design.weights, top, bottom, (inside_top & inside_bottom)[:, None])
    return _single(design, linearized, confidence, None, "ratio")


def proportion(design: SurveyDesign, variable: str, *, domain=None, na_rm: bool = False, confidence: float = 0.95, interval: str = "logit") -> dict:
    """Share of each level of ``variable``, with logit (default) or Wald confidence intervals."""
    raw = design.data[variable]
    inside = _domain_mask(design, domain) & _present(raw, variable, na_rm)
    levels = sorted(raw[inside].unique().tolist())
    indicators = np.column_stack([(raw == level).to_numpy(dtype=float) for level in levels]) if levels else np.zeros((design.row_count, 0))
    linearized = _ratio_scores_matrix(design.weights, indicators, np.ones(design.row_count), inside)
    estimates = _estimates(design, linearized, confidence, "proportion")
    if interval == "logit":
        estimates = [_logit_interval(estimate, confidence) for estimate in estimates]
    return dict(zip(levels, estimates))


def by(design: SurveyDesign, domain_variable: str, statistic: str, variable: str, *, denominator: str | None = None, na_rm: bool = False, confidence: float = 0.95) -> dict:
    """``statistic`` ("mean", "total" or "ratio") of ``variable`` for every level of ``domain_variable``.

    All domains share one variance computation; rows outside a domain are zeroed, not dropped.
    """
    groups = design.data[domain_variable]
    if groups.isna().any():
        raise ValueError(f"Domain variable {domain_variable!r} has missing values; recode them to a level (e.g. 'unknown').")
    levels = sorted(groups.unique().tolist())
    masks = np.column_stack([(groups == level).to_numpy() for level in levels])
    values, present = _variable_values(design, variable, na_rm)
    linearized = _domain_linearized(design, statistic, values, present, masks, denominator, na_rm)
    return dict(zip(levels, _estimates(design, linearized, confidence, statistic)))


def estimates_table(estimates: dict, name: str = "domain") -> pd.DataFrame:
    """A dict of estimates (from ``by`` or ``proportion``) as one tidy table."""
    return pd.DataFrame([{name: key, **estimate.to_dict()} for key, estimate in estimates.items()])


def _domain_linearized(design, statistic, values, present, masks, denominator, na_rm) -> _Linearized:
    inside = masks & present[:, None]
    if statistic == "total":
        return _total_scores(design.weights, values, inside)
    if statistic == "mean":
        return _ratio_scores_matrix(design.weights, values, np.ones_like(values), inside)
    if statistic == "ratio" and denominator is not None:
        bottom, bottom_present = _variable_values(design, denominator, na_rm)
        return _ratio_scores_matrix(design.weights, values, bottom, inside & bottom_present[:, None])
    raise ValueError(f"statistic {statistic!r} is not 'mean', 'total' or 'ratio' (a ratio needs denominator=).")


def _total_scores(weights, values, inside: np.ndarray) -> _Linearized:
    scores = np.where(inside, (weights * np.nan_to_num(values))[:, None], 0.0)
    return _Linearized(scores.sum(axis=0), scores, inside.sum(axis=0))


def _ratio_scores(weights, top, bottom, inside: np.ndarray) -> _Linearized:
    return _ratio_scores_matrix(weights, top, bottom, inside[:, 0] if inside.ndim == 2 and inside.shape[1] == 1 else inside)


def _ratio_scores_matrix(weights, top: np.ndarray, bottom: np.ndarray, inside: np.ndarray) -> _Linearized:
    """Ratio Σ w·top / Σ w·bottom per column; score z = w (top − R·bottom) / Σ w·bottom (zero outside)."""
    if top.ndim == 1 and bottom.ndim == 1 and (inside.ndim == 1 or inside.shape[1] == 1):
        return _ratio_scores_single(weights, top, bottom, inside.reshape(-1))
    top_matrix = top if top.ndim == 2 else top[:, None]
    inside_matrix = inside if inside.ndim == 2 else inside[:, None]
    weighted_inside = weights[:, None] * inside_matrix
    top_clean, bottom_clean = _zero_missing(top_matrix), _zero_missing(bottom)[:, None]
    numerator = (weighted_inside * top_clean).sum(axis=0)
    denominator = (weighted_inside * bottom_clean).sum(axis=0)
    _check_denominator(denominator)
    values = numerator / denominator
    scores = weighted_inside * (top_clean - values * bottom_clean) / denominator
    counts = np.broadcast_to(inside_matrix, scores.shape).sum(axis=0)
    return _Linearized(values, scores, counts)


def _whole_sample_mean(design: SurveyDesign, values: np.ndarray, confidence: float) -> Estimate | None:
    """Mean over every row of an uncalibrated design from per-unit sums (no row scores); None if a value is missing."""
    weighted_values = design.weights * values
    weighted_sum = weighted_values.sum()
    if np.isnan(weighted_sum):  # a missing value: the general path reports it (or treats it as a domain with na_rm)
        return None
    weight_total = design.weight_total()
    value = weighted_sum / weight_total
    se = np.sqrt(max(whole_sample_mean_variance(design, weighted_values, value, weight_total), 0.0))
    quantile = stats.norm.ppf(0.5 + confidence / 2)
    return Estimate(float(value), float(se), float(value - quantile * se), float(value + quantile * se), count=design.row_count)


def _ratio_scores_single(weights, top: np.ndarray, bottom: np.ndarray, inside: np.ndarray) -> _Linearized:
    """The one-statistic case of ``_ratio_scores_matrix`` on 1-D arrays (about twice as fast on a million rows)."""
    everywhere = bool(inside.all())  # then there are no missing values either (they are outside the domain)
    weighted_inside = weights if everywhere else np.where(inside, weights, 0.0)
    top_clean = top if everywhere else np.where(inside, top, 0.0)
    bottom_clean = bottom if everywhere else np.where(inside, bottom, 0.0)
    denominator = np.array([weighted_inside @ bottom_clean])
    _check_denominator(denominator)
    value = (weighted_inside @ top_clean) / denominator[0]
    scores = weighted_inside * (top_clean - value * bottom_clean) / denominator[0]
    return _Linearized(np.array([value]), scores[:, None], np.array([int(inside.sum())]))


def _zero_missing(values: np.ndarray) -> np.ndarray:
    """NaN → 0 (rows outside the domain or missing carry zero weight anyway); faster than np.nan_to_num."""
    return np.where(np.isnan(values), 0.0, values)


def _check_denominator(denominator: np.ndarray) -> None:
    if (denominator == 0).any():
        raise ValueError("A domain (or the denominator) is empty: no sampled rows with weight fall in it, so the estimate is undefined.")


def _single(design, linearized: _Linearized, confidence, srs_variance, statistic) -> Estimate:
    estimate = _estimates(design, linearized, confidence, statistic)[0]
    if srs_variance:
        return Estimate(**{**estimate.to_dict(), "deff": float(estimate.se**2 / srs_variance)})
    return estimate


def _estimates(design, linearized: _Linearized, confidence, statistic) -> list[Estimate]:
    if linearized.scores.shape[1] == 0:
        return []
    covariance = linearized_covariance(design, linearized.scores)
    standard_errors = np.sqrt(np.clip(np.diag(covariance), 0, None))
    quantile = stats.norm.ppf(0.5 + confidence / 2)
    return [
        Estimate(float(value), float(se), float(value - quantile * se), float(value + quantile * se), count=int(count))
        for value, se, count in zip(linearized.values, standard_errors, linearized.counts)
    ]


def _logit_interval(estimate: Estimate, confidence: float) -> Estimate:
    """CI on the logit scale, mapped back: stays inside (0, 1) for shares near 0 or 1 (R svyciprop 'logit')."""
    share = estimate.value
    if share <= 0 or share >= 1:
        return estimate  # degenerate share: the Wald interval is [share, share]
    quantile = stats.norm.ppf(0.5 + confidence / 2)
    logit = np.log(share / (1 - share))
    half_width = quantile * estimate.se / (share * (1 - share))
    low, high = 1 / (1 + np.exp(-(logit - half_width))), 1 / (1 + np.exp(-(logit + half_width)))
    return Estimate(estimate.value, estimate.se, float(low), float(high), estimate.deff, estimate.count)


def _variable_in_domain(design, variable, domain, na_rm) -> tuple[np.ndarray, np.ndarray]:
    values, present = _variable_values(design, variable, na_rm)
    return values, present & _domain_mask(design, domain)


def _variable_values(design, variable, na_rm) -> tuple[np.ndarray, np.ndarray]:
    values = design.column(variable)
    present = ~np.isnan(values)
    if not na_rm and not present.all():
        raise ValueError(f"{int((~present).sum())} values of {variable!r} are missing; pass na_rm=True to estimate over the rows that have one.")
    return values, present


def _present(raw: pd.Series, variable: str, na_rm: bool) -> np.ndarray:
    if not na_rm and raw.isna().any():
        raise ValueError(f"{int(raw.isna().sum())} values of {variable!r} are missing; pass na_rm=True to estimate over the rows that have one.")
    return raw.notna().to_numpy()


def _domain_mask(design, domain) -> np.ndarray:
    if domain is None:
        return np.ones(design.row_count, dtype=bool)
    if isinstance(domain, str):
        domain = design.data.eval(domain)
    mask = np.asarray(domain, dtype=bool)
    if mask.shape != (design.row_count,):
        raise ValueError(f"domain must be one boolean per row ({design.row_count}), got shape {mask.shape}.")
    return mask


def _srs_variance_mean(design, values, inside, with_replacement: bool = False) -> float:
    """Variance of the mean under simple random sampling of the same size, without replacement unless asked (R's deff)."""
    weights = design.weights * inside
    population = weights.sum()
    average = (weights * np.nan_to_num(values)).sum() / population
    sample_size = int(inside.sum())
    spread = (weights * (np.nan_to_num(values) - average) ** 2).sum() / population * sample_size / (sample_size - 1)
    return spread / sample_size * (1 if with_replacement else 1 - sample_size / design.weights.sum())


def _srs_variance_total(design, values, inside, with_replacement: bool = False) -> float:
    return _srs_variance_mean(design, values, inside, with_replacement) * (design.weights * inside).sum() ** 2
