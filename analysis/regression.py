"""Design-based linear and logistic regression (R survey's ``svyglm``).

The coefficients are the survey-weighted pseudo-likelihood fit: weighted least squares for the linear model, iteratively
reweighted least squares (Newton's method for the canonical logit link) for the logistic one, in numpy.
Their variance is the sandwich A⁻¹ V A⁻¹ (Binder 1983): A = Σ wᵢ vᵢ xᵢxᵢᵀ is the weighted information and V
the design covariance of the total of the score values Uᵢ = wᵢ xᵢ (yᵢ − μ̂ᵢ), computed by the same Taylor engine as
every other estimator, so strata, fpc, later stages and calibration all count (R's ``svy.varcoef``).
Rows with a missing outcome or predictor stay in the design with a zero score (a domain), as R does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.design import SurveyDesign
from analysis.variance import linearized_covariance
from analysis.weighting import model_matrix

FAMILIES = ("gaussian", "binomial")


@dataclass(frozen=True)
class RegressionFit:
    """Coefficients with design-based covariance; ``table()`` gives one row per model term."""

    terms: list[str]
    coefficients: np.ndarray
    covariance: np.ndarray
    family: str
    count: int  # rows used in the fit (complete cases)
    degrees_of_freedom: int  # design df: PSUs − strata, as R's summary(svyglm) uses for t tests

    @property
    def standard_errors(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.covariance), 0, None))

    def table(self, confidence: float = 0.95) -> pd.DataFrame:
        """Term, coefficient, SE, normal CI (as R's ``confint``) and a t-test p-value on the design df."""
        errors = self.standard_errors
        quantile = stats.norm.ppf(0.5 + confidence / 2)
        statistic = self.coefficients / errors
        residual_df = max(self.degrees_of_freedom - len(self.terms) + 1, 1)
        return pd.DataFrame({
            "term": self.terms, "coefficient": self.coefficients, "se": errors,
            "ci_low": self.coefficients - quantile * errors, "ci_high": self.coefficients + quantile * errors,
            "p_value": 2 * stats.t.sf(np.abs(statistic), residual_df),
        })


def svyglm(design: SurveyDesign, outcome: str, predictors: list[str], *, family: str = "gaussian", intercept: bool = True) -> RegressionFit:
    """Fit ``outcome ~ predictors`` (categorical predictors as treatment indicators) with design-based SEs.

    ``family="binomial"`` is logistic regression (R's ``family=quasibinomial()``; the outcome must be 0/1).
    """
    if family not in FAMILIES:
        raise ValueError(f"family={family!r} is not one of {FAMILIES}.")
    complete = _complete_rows(design, outcome, predictors)
    rows = design.data if complete.all() else design.data.loc[complete]  # no copy of a complete frame
    terms, names = model_matrix(rows, predictors, intercept)
    response = _response(design, outcome, complete, family)
    weights = design.weights[complete]
    coefficients = _binomial_fit(terms, response, weights) if family == "binomial" else _least_squares(terms, response, weights)
    fitted_mean = _mean(terms @ coefficients, family)
    covariance = _sandwich(design, terms, response, fitted_mean, weights, complete, family)
    return RegressionFit(names, coefficients, covariance, family, int(complete.sum()), design.degrees_of_freedom())


def _least_squares(terms: np.ndarray, response: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """β = (XᵀWX)⁻¹ XᵀWy; a singular XᵀWX (collinear predictors) is named, not given NaN coefficients."""
    weighted = terms * weights[:, None]
    information = weighted.T @ terms
    _check_rank(information)
    return np.linalg.solve(information, weighted.T @ response)


def _binomial_fit(terms: np.ndarray, response: np.ndarray, weights: np.ndarray, max_iterations: int = 50) -> np.ndarray:
    """Newton–Raphson (IRLS) for the weighted logit likelihood, to a relative deviance change below 1e-12."""
    coefficients = np.zeros(terms.shape[1])
    deviance = np.inf
    for _ in range(max_iterations):
        mean = _mean(terms @ coefficients, "binomial")
        working = weights * mean * (1 - mean)
        information = (terms * working[:, None]).T @ terms
        _check_rank(information)
        coefficients = coefficients + np.linalg.solve(information, terms.T @ (weights * (response - mean)))
        mean = _mean(terms @ coefficients, "binomial")
        new_deviance = -2 * np.sum(weights * (response * np.log(np.clip(mean, 1e-300, None)) + (1 - response) * np.log(np.clip(1 - mean, 1e-300, None))))
        if abs(deviance - new_deviance) <= 1e-12 * (abs(new_deviance) + 0.1):
            return coefficients
        deviance = new_deviance
    raise ValueError(f"The logistic fit did not converge in {max_iterations} iterations: a predictor separates the outcome "
                     "perfectly (some group is all 0 or all 1); merge levels or drop that predictor.")


def _mean(linear: np.ndarray, family: str) -> np.ndarray:
    return 1 / (1 + np.exp(-linear)) if family == "binomial" else linear


def _check_rank(information: np.ndarray) -> None:
    if np.linalg.matrix_rank(information) < information.shape[0]:
        raise ValueError("The predictors are collinear (one is a combination of others, or a level is empty): drop one.")


def _complete_rows(design: SurveyDesign, outcome: str, predictors: list[str]) -> np.ndarray:
    columns = [outcome, *predictors]
    missing = [name for name in columns if name not in design.data.columns]
    if missing:
        raise ValueError(f"Columns {missing} are not in the data.")
    complete = design.data[columns].notna().all(axis=1).to_numpy()
    if complete.sum() <= len(predictors) + 1:
        raise ValueError(f"Only {int(complete.sum())} rows have {columns} all present: too few to fit the model.")
    return complete


def _response(design: SurveyDesign, outcome: str, complete: np.ndarray, family: str) -> np.ndarray:
    values = design.column(outcome)[complete]
    if family == "binomial" and not np.isin(values, (0.0, 1.0)).all():
        raise ValueError(f"Logistic regression needs {outcome!r} coded 0/1; found values {[float(value) for value in sorted(set(values) - {0.0, 1.0})[:5]]}.")
    return values


def _sandwich(design, terms, response, fitted_mean, weights, complete, family) -> np.ndarray:
    """A⁻¹ V A⁻¹; for the canonical links used here the score is w x (y − μ) and A = Σ w v x xᵀ."""
    variance_function = fitted_mean * (1 - fitted_mean) if family == "binomial" else np.ones_like(fitted_mean)
    information = (terms * (weights * variance_function)[:, None]).T @ terms
    inverse = np.linalg.inv(information)
    scores = terms * (weights * (response - fitted_mean))[:, None]
    # The variance is linear in the scores, so V(U A⁻¹) = A⁻¹ V(U) A⁻¹ (p × p work, not rows × p). Rows outside the fit
    # keep a zero score, so every PSU still counts.
    score_covariance = linearized_covariance(design, scores, rows=None if complete.all() else np.flatnonzero(complete))
    return inverse @ score_covariance @ inverse
