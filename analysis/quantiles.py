"""Survey quantiles with Woodruff intervals (R survey's ``svyquantile``, its defaults since 4.1).

The quantile is R's ``qrule="math"``: the smallest value whose weighted share of rows at or below it reaches p.
Woodruff (1952): the share of rows at or below the estimate is a mean with a design-based SE; its interval
(t on the design degrees of freedom, R's ``interval.type="mean"``) is mapped back through the same rule, and
the SE is that interval's width / (2 t) — the SE R prints.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from analysis.design import SurveyDesign
from analysis.estimators import Estimate, _domain_mask, _ratio_scores_single, _variable_values
from analysis.variance import linearized_covariance


def quantile(design: SurveyDesign, variable: str, share: float, *, domain=None, na_rm: bool = False, confidence: float = 0.95) -> Estimate:
    """The ``share`` quantile (0 < share < 1) of ``variable`` with Woodruff's interval and the SE derived from it."""
    if not 0 < share < 1:
        raise ValueError(f"quantile {share} must be strictly between 0 and 1.")
    values, present = _variable_values(design, variable, na_rm)
    inside = present & _domain_mask(design, domain)
    if not inside.any():
        raise ValueError(f"No rows with a value of {variable!r} in the domain: the quantile is undefined.")
    weights = np.where(inside, design.weights, 0.0)
    value = _math_rule(values[inside], weights[inside], share)
    at_or_below = np.where(inside, values <= value, 0.0).astype(float)
    below = _ratio_scores_single(design.weights, at_or_below, np.ones(design.row_count), inside)
    share_se = float(np.sqrt(max(linearized_covariance(design, below.scores)[0, 0], 0.0)))
    critical = _critical_value(design, confidence)
    low_share, high_share = below.values[0] - critical * share_se, below.values[0] + critical * share_se
    low = _math_rule(values[inside], weights[inside], low_share) if low_share >= 0 else np.nan
    high = _math_rule(values[inside], weights[inside], high_share) if high_share <= 1 else np.nan
    if np.isnan(low) or np.isnan(high):
        raise ValueError(f"The Woodruff interval of the {share} quantile of {variable!r} runs past the data "
                         f"(share interval {low_share:.3f}–{high_share:.3f}); use a less extreme quantile.")
    se = (high - low) / (2 * critical)
    return Estimate(float(value), float(se), float(low), float(high), count=int(inside.sum()))


def _math_rule(values: np.ndarray, weights: np.ndarray, share: float) -> float:
    """R's qrule_math: the first sorted value whose cumulative weight share reaches ``share`` (exactly, or passing it)."""
    order = np.argsort(values, kind="stable")
    sorted_values, cumulative = values[order], np.cumsum(weights[order])
    total = cumulative[-1]
    at_or_below = np.flatnonzero(cumulative <= share * total)
    position = at_or_below[-1] if len(at_or_below) else 0
    if share - cumulative[position] / total == 0:
        return float(sorted_values[position])
    return float(sorted_values[min(position + 1, len(sorted_values) - 1)])


def _critical_value(design: SurveyDesign, confidence: float) -> float:
    """t quantile on the design degrees of freedom (R's degf), as svyquantile uses by default."""
    degrees = design.degrees_of_freedom()
    if degrees < 1:
        raise ValueError("The design has no degrees of freedom (as many strata as PSUs): a quantile interval cannot be formed.")
    return float(stats.t.ppf(0.5 + confidence / 2, degrees))
