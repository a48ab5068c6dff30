"""Driver analysis: weighted regression of overall satisfaction on factor scores and profile (statsmodels).

Point estimates are the survey-weighted (pseudo-likelihood) fit; standard errors are cluster-robust by
PSU, the usual sandwich for a with-replacement first stage (Binder 1983; Lumley 2010, ch. 5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analysis.design import SurveyDesign
from analysis.weighting import model_matrix


def driver_table(design: SurveyDesign, outcome: str, predictors: list[str], *, logistic: bool = False) -> pd.DataFrame:
    """Coefficients, cluster-robust SEs, 95 % CIs and p-values: one row per model term, ready for a report."""
    data = design.data
    complete = data[[outcome, *predictors]].notna().all(axis=1).to_numpy()
    if complete.sum() <= len(predictors) + 1:
        raise ValueError("Too few complete responses for the driver model; drop predictors or widen the selection.")
    terms, names = model_matrix(data.loc[complete], predictors, intercept=True)
    response = data.loc[complete, outcome].to_numpy(dtype=float)
    family = sm.families.Binomial() if logistic else sm.families.Gaussian()
    weights = design.weights[complete]
    fitted = sm.GLM(response, terms, family=family, var_weights=weights).fit()
    errors = _cluster_robust_errors(terms, response, fitted.fittedvalues, weights, design.stages[0].unit[complete], logistic)
    quantile = stats.norm.ppf(0.975)
    coefficients = np.asarray(fitted.params)
    return pd.DataFrame({
        "term": names, "coefficient": coefficients, "se": errors,
        "ci_low": coefficients - quantile * errors, "ci_high": coefficients + quantile * errors,
        "p_value": 2 * stats.norm.sf(np.abs(coefficients / errors)),
    })


def _cluster_robust_errors(terms, response, fitted_mean, weights, clusters, logistic) -> np.ndarray:
    """Sandwich A⁻¹ B A⁻¹: A = Σ wᵢ vᵢ xᵢxᵢᵀ, B = G/(G−1) Σ_psu Uₚ Uₚᵀ with Uₚ = Σ_{i∈p} wᵢ xᵢ (yᵢ − μᵢ)."""
    variance_weight = fitted_mean * (1 - fitted_mean) if logistic else np.ones_like(fitted_mean)
    bread = np.linalg.inv((terms * (weights * variance_weight)[:, None]).T @ terms)
    scores = terms * (weights * (response - fitted_mean))[:, None]
    cluster_codes = np.unique(clusters, return_inverse=True)[1]
    cluster_scores = np.column_stack([np.bincount(cluster_codes, weights=scores[:, column]) for column in range(scores.shape[1])])
    cluster_count = len(cluster_scores)
    meat = cluster_count / (cluster_count - 1) * cluster_scores.T @ cluster_scores
    return np.sqrt(np.diag(bread @ meat @ bread))
