"""Standard errors and confidence intervals for SIPAS indices (Taylor linearisation).

Item index j is a ratio R_j = Σ w s_ij / Σ w v_ij (s: satisfied, v: valid). Its linearised value is
z_ij = w_i (s_ij − R_j v_ij) / Σ w v_ij. Every criterion, factor and overall index is a fixed linear
combination of item indices, so its linearised value is the same combination of the z_ij.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from analysis.shares import node_share
from analysis.variance import standard_errors

NO_ERROR = 1e-12  # a standard error below this is rounding noise (every answer alike): the interval is the point


def node_uncertainty(tree, table, ratings, weights, design, rows, layouts, confidence):
    """A function node → {se, ci_low, ci_high} (percent), computed for all nodes in one variance pass."""
    nodes = [tree.overall, *tree.factors, *[node for criteria in tree.criteria for node in criteria]]
    coefficients = np.column_stack([node.coefficients for node in nodes])
    scores = item_scores(ratings, weights, table) @ coefficients
    node_errors = standard_errors(design, scores, rows, layouts)
    intervals = {id(node): _interval(node_share(node.coefficients, tree.item_indices), error, confidence)
                 for node, error in zip(nodes, node_errors)}
    return lambda node: intervals[id(node)]


def item_scores(ratings: np.ndarray, weights: np.ndarray, table) -> np.ndarray:
    """Weighted linearised values z_ij of every item's share (zero for items without valid answers)."""
    valid = ~np.isnan(ratings)
    satisfied = valid & (np.nan_to_num(ratings) >= 4)
    shares = np.nan_to_num(table.indices())
    denominators = np.where(table.valid_weight > 0, table.valid_weight, np.inf)
    return weights[:, None] * (satisfied - shares * valid) / denominators


def _interval(share: float, error: float, confidence: float) -> dict:
    """Logit interval for a share in (0, 1), so it never leaves [0, 100]; Wald (degenerate) at 0 or 1.
    Always low ≤ share ≤ high: a chart draws share − low and high − share as error bars."""
    quantile = stats.norm.ppf(0.5 + confidence / 2)
    error = 0.0 if error < NO_ERROR else float(error)
    if 0 < share < 1 and error > 0:
        logit = np.log(share / (1 - share))
        half_width = quantile * error / (share * (1 - share))
        low, high = (1 / (1 + np.exp(-(logit + sign * half_width))) for sign in (-1, 1))
    else:
        low, high = max(share - quantile * error, 0.0), min(share + quantile * error, 1.0)
    low, high = min(low, share), max(high, share)
    return {"se": float(100 * error), "ci_low": float(100 * low), "ci_high": float(100 * high)}
