"""Driver analysis: weighted regression of overall satisfaction on factor scores and profile.

A thin report over ``analysis.regression.svyglm``: survey-weighted linear or logistic fit (statsmodels) with
design-based SEs from the Taylor engine, so strata, fpc and calibration count (Binder 1983; Lumley 2010, ch. 5).
"""

from __future__ import annotations

import pandas as pd

from analysis.design import SurveyDesign
from analysis.regression import svyglm


def driver_table(design: SurveyDesign, outcome: str, predictors: list[str], *, logistic: bool = False) -> pd.DataFrame:
    """Coefficients, design-based SEs, 95 % CIs and p-values: one row per model term, ready for a report."""
    try:
        fit = svyglm(design, outcome, predictors, family="binomial" if logistic else "gaussian")
    except ValueError as error:
        if "too few" in str(error):
            raise ValueError("Too few complete responses for the driver model; drop predictors or widen the selection.") from error
        raise
    return fit.table()
