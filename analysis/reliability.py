"""Internal consistency of a factor's items: Cronbach's alpha."""

from __future__ import annotations

import numpy as np
import pandas as pd


def cronbach_alpha(items: pd.DataFrame, weights: np.ndarray | None = None) -> float | None:
    """α = k/(k−1) · (1 − Σ var(item) / var(sum of items)), on responses that answered every item (Cronbach 1951).

    Returns None when fewer than two items or two complete responses remain, or the total has no variance.
    """
    complete = items.dropna()
    if complete.shape[1] < 2 or len(complete) < 2:
        return None
    weights = np.ones(len(items)) if weights is None else np.asarray(weights, dtype=float)
    kept_weights = weights[items.notna().all(axis=1).to_numpy()]
    item_variances = sum(_weighted_variance(complete[column].to_numpy(dtype=float), kept_weights) for column in complete)
    total_variance = _weighted_variance(complete.to_numpy(dtype=float).sum(axis=1), kept_weights)
    if total_variance == 0:
        return None
    item_count = complete.shape[1]
    return float(item_count / (item_count - 1) * (1 - item_variances / total_variance))


def alpha_by_factor(answers: pd.DataFrame, scoring: dict, weights: np.ndarray | None = None) -> dict:
    """Cronbach's alpha of every factor's items in the scoring map: ``{factor key: alpha or None}``."""
    result = {}
    for factor in scoring.get("factors", []):
        keys = [item for criterion in factor.get("criteria", []) for item in criterion.get("items", []) if item in answers.columns]
        result[factor["key"]] = cronbach_alpha(answers[keys], weights) if keys else None
    return result


def _weighted_variance(values: np.ndarray, weights: np.ndarray) -> float:
    # Scale-free in the weights, so frequency-like and probability weights give the same alpha.
    average = np.average(values, weights=weights)
    return float(np.average((values - average) ** 2, weights=weights))
