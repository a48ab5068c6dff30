"""Rao–Scott tests of independence in a two-way table (R survey's ``svychisq``, statistics "F" and "Chisq").

Pearson's X² is computed on the weighted table scaled to the sample size; the design effect matrix Δ compares
the design covariance of the cell shares with the multinomial one, both projected on the interaction contrasts
(Rao & Scott 1984). "F": X²/tr(Δ) on F(d, d·df) with d = tr(Δ)²/tr(Δ²) (second-order correction);
"Chisq": X² with its p-value from X²/mean(eigen Δ) on (r−1)(c−1) degrees of freedom (first-order).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.design import SurveyDesign
from analysis.estimators import _ratio_scores_matrix
from analysis.variance import linearized_covariance


@dataclass(frozen=True)
class ChisqTest:
    """Both Rao–Scott versions of the test, with the weighted table they test."""

    f_statistic: float
    numerator_df: float
    denominator_df: float
    f_p_value: float
    pearson: float  # X² on the table scaled to the sample size
    pearson_df: int
    chisq_p_value: float  # first-order Rao–Scott p-value of X²
    table: pd.DataFrame

    def to_dict(self) -> dict:
        values = asdict(self)
        values["table"] = {f"{row}|{column}": float(count) for (row, column), count in self.table.stack().items()}
        return values


def svychisq(design: SurveyDesign, row_variable: str, column_variable: str) -> ChisqTest:
    """Test that ``row_variable`` and ``column_variable`` are independent; rows missing either are left out (a domain)."""
    rows, columns = (_categories(design, name) for name in (row_variable, column_variable))
    inside = (rows.codes >= 0) & (columns.codes >= 0)
    row_count, column_count = len(rows.categories), len(columns.categories)
    if row_count < 2 or column_count < 2:
        raise ValueError(f"{row_variable!r} and {column_variable!r} each need at least two observed levels for a test of independence.")
    # Cells in R's order: the row variable varies fastest.
    cell = np.where(inside, rows.codes + row_count * columns.codes, -1)
    indicators = (cell[:, None] == np.arange(row_count * column_count)[None, :]).astype(float)
    linearized = _ratio_scores_matrix(design.weights, indicators, np.ones(design.row_count), np.broadcast_to(inside[:, None], indicators.shape))
    shares, covariance = linearized.values, linearized_covariance(design, linearized.scores)
    sample_size = int(inside.sum())
    pearson = _pearson(shares.reshape(column_count, row_count).T * sample_size)
    delta = _design_effect_matrix(shares, covariance, sample_size, row_count, column_count)
    trace, trace_squared = np.trace(delta), np.trace(delta @ delta)
    numerator_df = trace**2 / trace_squared
    denominator_df = numerator_df * design.degrees_of_freedom()
    f_statistic = pearson / trace
    pearson_df = (row_count - 1) * (column_count - 1)
    table = pd.DataFrame(shares.reshape(column_count, row_count).T * design.weights[inside].sum(),
                         index=pd.Index(rows.categories, name=row_variable), columns=pd.Index(columns.categories, name=column_variable))
    return ChisqTest(float(f_statistic), float(numerator_df), float(denominator_df),
                     float(stats.f.sf(f_statistic, numerator_df, denominator_df)), float(pearson), pearson_df,
                     float(stats.chi2.sf(pearson / np.mean(np.diag(delta)), pearson_df)), table)


def _categories(design: SurveyDesign, name: str) -> pd.Categorical:
    if name not in design.data.columns:
        raise ValueError(f"Column {name!r} is not in the data.")
    return pd.Categorical(design.data[name])


def _pearson(observed: np.ndarray) -> float:
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / observed.sum()
    if (expected == 0).any():
        raise ValueError("A whole row or column of the table is empty: drop that level before testing.")
    return float(((observed - expected) ** 2 / expected).sum())


def _design_effect_matrix(shares, covariance, sample_size, row_count, column_count) -> np.ndarray:
    """Δ = (C'D⁻¹C/n)⁻¹ (C'D⁻¹ V D⁻¹C), C the interaction contrasts orthogonal to the main effects (R's Cmat)."""
    contrasts = _interaction_contrasts(row_count, column_count)
    inverse_shares = np.diag(np.divide(1.0, shares, out=np.zeros_like(shares), where=shares > 0))
    multinomial = contrasts.T @ (inverse_shares / sample_size) @ contrasts
    design_based = contrasts.T @ inverse_shares @ covariance @ inverse_shares @ contrasts
    return np.linalg.solve(multinomial, design_based)


def _interaction_contrasts(row_count: int, column_count: int) -> np.ndarray:
    """Residuals of the interaction columns on intercept + main effects (R: qr.resid(qr(X1), X12[, interaction]))."""
    row_of = np.tile(np.arange(row_count), column_count)
    column_of = np.repeat(np.arange(column_count), row_count)
    main = np.column_stack([np.ones(row_count * column_count)]
                           + [(row_of == level).astype(float) for level in range(1, row_count)]
                           + [(column_of == level).astype(float) for level in range(1, column_count)])
    interaction = np.column_stack([((row_of == r) & (column_of == c)).astype(float)
                                   for c in range(1, column_count) for r in range(1, row_count)])
    coefficients = np.linalg.lstsq(main, interaction, rcond=None)[0]
    return interaction - main @ coefficients
