"""Replicate-weight variance: jackknife (JK1 / JKn), Rao–Wu bootstrap, or replicate weights read from columns
(JK1, JKn, BRR, Fay, bootstrap), with post-stratification and raking redone in every replicate.

A replicate design keeps the full-sample weights and, per replicate, each row's replicate weight as a factor of its
full-sample weight, in two layers: a *unit* factor (per PSU for the jackknife and the bootstrap, per row for weights
read from columns) times a *cell* factor (per adjustment cell after post-stratification or raking; one cell
otherwise). A million rows with a thousand PSUs cost units × replicates and cells × replicates matrices, never
rows × replicates; raking a replicate only needs its cells' totals, so every replicate is raked on a table of cells.
Any statistic that is a ratio of weighted totals (mean, total, ratio, share) is computed for all replicates from the
(cell, unit) sums at once.

Variance as R's ``svrVar``: V = scale Σ_r rscale_r (θ_r − θ̄)², θ̄ the mean of the replicates (or the full-sample
estimate with ``mse=True``). Scales as R's ``as.svrepdesign`` / ``svrepdesign``: JK1 (n−1)/n (times 1 − f with an fpc),
JKn (n_h−1)/n_h per replicate, BRR 1/R, Fay 1/(R(1−ρ)²), bootstrap read from columns 1/(R−1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import pandas as pd
from scipy import sparse, stats

from analysis import weighting
from analysis.design import SurveyDesign
from analysis.estimators import Estimate

COLUMN_TYPES = ("JK1", "JKn", "BRR", "Fay", "bootstrap")


class ReplicateError(ValueError):
    """Replicate weights cannot be built or adjusted as asked; the message names the replicate or column."""


@dataclass(frozen=True)
class ReplicateDesign:
    """Full-sample design; per row its unit and cell; unit × replicate and cell × replicate factors; variance multipliers.

    Replicate weight of row i in replicate r = w_i · unit_factors[unit_i, r] · cell_factors[cell_i, r].
    """

    design: SurveyDesign
    unit: np.ndarray  # unit code per row (PSU, or row)
    unit_factors: np.ndarray  # units × replicates
    replicate_scales: np.ndarray  # per replicate: scale · rscale_r
    method: str
    mse: bool = False
    cell: np.ndarray | None = None  # adjustment cell per row (None: one cell)
    cell_factors: np.ndarray | None = None  # cells × replicates

    @property
    def replicate_count(self) -> int:
        return self.unit_factors.shape[1]

    @property
    def cells(self) -> np.ndarray:
        return np.zeros(self.design.row_count, dtype=np.int64) if self.cell is None else self.cell

    @property
    def replicate_weights(self) -> np.ndarray:
        """Rows × replicates (materialised: for small data and checks only)."""
        weights = self.design.weights[:, None] * self.unit_factors[self.unit]
        return weights if self.cell_factors is None else weights * self.cell_factors[self.cell]

    def replicate_totals(self, values: np.ndarray) -> np.ndarray:
        """Σ_i w_ir · values_i for every replicate r, through (cell × unit) sums: never rows × replicates."""
        cell_count = 1 if self.cell_factors is None else self.cell_factors.shape[0]
        sums = sparse.csr_matrix((values, (self.cells, self.unit)), shape=(cell_count, self.unit_factors.shape[0]))
        per_cell = sums @ self.unit_factors  # cells × replicates
        return per_cell.sum(axis=0) if self.cell_factors is None else (per_cell * self.cell_factors).sum(axis=0)

    def covariance(self, replicates: np.ndarray, full: np.ndarray) -> np.ndarray:
        """scale Σ_r rscale_r (θ_r − θ̄)(θ_r − θ̄)ᵀ for replicates (R × k) of k statistics."""
        used = self.replicate_scales > 0
        centre = full if self.mse else replicates[used].mean(axis=0)
        deviations = replicates - centre
        return (deviations * self.replicate_scales[:, None]).T @ deviations


# ------------------------------------------------------------------------------------------ building replicates
def jackknife(design: SurveyDesign, *, use_fpc: bool = False) -> ReplicateDesign:
    """JKn: drop one PSU at a time, reweight its stratum by n_h / (n_h − 1); JK1 when unstratified (R's as.svrepdesign).

    ``use_fpc`` multiplies each stratum's scale by (1 − f_h), as R does when the design has an fpc.
    """
    psu, psu_stratum = _psus(design)
    sizes = np.bincount(psu_stratum)
    single = np.flatnonzero(sizes[psu_stratum] < 2)
    if len(single):
        raise ReplicateError(f"The jackknife needs at least two PSUs in every stratum; stratum code {int(psu_stratum[single[0]])} has one "
                             "(a singleton stratum): merge it with a neighbour.")
    count = len(psu_stratum)
    same_stratum = psu_stratum[:, None] == psu_stratum[None, :]
    factors = np.where(same_stratum, (sizes / (sizes - 1))[psu_stratum][None, :], 1.0)
    np.fill_diagonal(factors, 0.0)  # replicate r drops PSU r
    scales = (sizes - 1)[psu_stratum] / sizes[psu_stratum] * (_fpc_factor(design, psu_stratum) if use_fpc else 1.0)
    return ReplicateDesign(design, psu, factors.reshape(count, count), scales, "JK1" if design.stratum_count() == 1 else "JKn")


def bootstrap(design: SurveyDesign, replicates: int, generator: np.random.Generator) -> ReplicateDesign:
    """Rao–Wu (1988) rescaling bootstrap: draw n_h − 1 PSUs with replacement per stratum, rescale by n_h / (n_h − 1)."""
    if replicates < 2:
        raise ReplicateError(f"--replicates {replicates}: the bootstrap needs at least 2 replicates.")
    psu, psu_stratum = _psus(design)
    factors = np.zeros((len(psu_stratum), replicates))
    for stratum in range(psu_stratum.max() + 1):
        members = np.flatnonzero(psu_stratum == stratum)
        if len(members) < 2:
            raise ReplicateError(f"The bootstrap needs at least two PSUs in every stratum; stratum code {stratum} has one "
                                 "(a singleton stratum): merge it with a neighbour.")
        draws = generator.integers(0, len(members), size=(len(members) - 1, replicates))
        counts = np.zeros((len(members), replicates))
        np.add.at(counts, (draws, np.arange(replicates)[None, :]), 1.0)
        factors[members] = counts * len(members) / (len(members) - 1)
    return ReplicateDesign(design, psu, factors, np.full(replicates, 1 / replicates), "bootstrap")


def from_columns(design: SurveyDesign, columns: str | list[str], method: str, *, fay_rho: float | None = None,
                 scale: float | None = None, mse: bool = False) -> ReplicateDesign:
    """Replicate weights given in the data (R's ``svrepdesign(repweights=, type=, combined.weights=TRUE)``).

    ``columns`` is a list of names or a regular expression matched against the column names (as R's repweights="…").
    JKn's per-replicate (n_h − 1)/n_h is read off the weights: 1 / the largest replicate-to-full-sample factor.
    """
    if method not in COLUMN_TYPES:
        raise ReplicateError(f"replicate type {method!r} is not one of {', '.join(COLUMN_TYPES)}.")
    names = _replicate_columns(design.data, columns)
    weights = np.column_stack([_replicate_column(design.data, name) for name in names])
    factors = weights / design.weights[:, None]
    count = len(names)
    scales = _column_scales(method, count, factors, fay_rho, scale, names)
    return ReplicateDesign(design, np.arange(design.row_count), factors, scales, method, mse)


# ------------------------------------------------------------------------------------- adjusting every replicate
def post_stratify(replicates: ReplicateDesign, variables, population) -> ReplicateDesign:
    """Post-stratify the full sample (weighting.post_stratify) and every replicate to the same counts (R's postStratify)."""
    full = weighting.post_stratify(replicates.design, variables, population).design
    codes, counts = weighting._match_cells(weighting._cell_labels(replicates.design.data, variables), weighting._population_counts(population), variables)
    cells = _Cells.of(replicates, [codes])
    table = cells.table(replicates)
    level_totals = _indicator(cells.levels[0], len(counts)) @ table
    _check_cells(level_totals, weighting._population_counts(population).index, variables)
    adjusted = table * (counts[:, None] / level_totals)[cells.levels[0]]
    return _adjusted(replicates, full, cells, table, adjusted, f"post-stratified on {variables} in every replicate")


def rake(replicates: ReplicateDesign, margins: dict, *, max_iterations: int = 100, tolerance: float = 1e-8) -> ReplicateDesign:
    """Rake the full sample (weighting.rake) and every replicate to the same margins (R's rake on a svrep.design).

    Each replicate is raked on its table of cells (one cell per combination of the margins' levels present).
    """
    full = weighting.rake(replicates.design, margins, max_iterations=max_iterations, tolerance=tolerance).design
    data = replicates.design.data
    matched = [weighting._match_cells(weighting._cell_labels(data, variable), weighting._population_counts(counts), variable)
               for variable, counts in margins.items()]
    cells = _Cells.of(replicates, [codes for codes, _ in matched])
    table = cells.table(replicates)
    fitted_margins = []
    for (variable, counts), (_, targets), levels in zip(margins.items(), matched, cells.levels):
        indicator = _indicator(levels, len(targets))
        _check_cells(indicator @ table, weighting._population_counts(counts).index, variable)
        fitted_margins.append((indicator, levels, targets))
    adjusted, iterations, error, worst = _rake_matrix(table.copy(), fitted_margins, max_iterations, tolerance)
    if error > tolerance:
        raise weighting.WeightingError(f"Raking replicate {worst + 1} did not converge in {iterations} iterations "
                                       f"(largest relative margin error {error:.2e}); merge sparse cells or raise max_iterations.")
    return _adjusted(replicates, full, cells, table, adjusted, f"raked on {list(margins)} in every replicate")


# ---------------------------------------------------------------------------------------------- estimating
def replicate_ratio(replicates: ReplicateDesign, top: np.ndarray, bottom: np.ndarray | None, present: np.ndarray,
                    confidence: float = 0.95) -> Estimate:
    """Σ w·top / Σ w·bottom over ``present`` rows (a total when ``bottom`` is None), SE from the replicates."""
    weights = np.where(present, replicates.design.weights, 0.0)
    weighted_top = weights * np.where(present, top, 0.0)
    full_top, replicate_top = weighted_top.sum(), replicates.replicate_totals(weighted_top)
    if bottom is None:
        value, values = full_top, replicate_top
    else:
        weighted_bottom = weights * np.where(present, bottom, 0.0)
        replicate_bottom = replicates.replicate_totals(weighted_bottom)
        if weighted_bottom.sum() == 0:
            raise ReplicateError("The domain (or the denominator) is empty: the estimate is undefined.")
        empty = np.flatnonzero(replicate_bottom == 0)
        if len(empty):
            raise ReplicateError(f"Replicate {int(empty[0]) + 1} has no rows of the domain (or a zero denominator): "
                                 "the domain is too small for replicate variance; use --variance taylor.")
        value, values = full_top / weighted_bottom.sum(), replicate_top / replicate_bottom
    return _estimate(replicates, float(value), values, confidence, int(present.sum()))


def replicate_estimate(replicates: ReplicateDesign, statistic: Callable[[np.ndarray], float], confidence: float = 0.95) -> Estimate:
    """Any ``statistic(weights)``: value at the full-sample weights, SE from its replicates (rows × R materialised)."""
    value = float(statistic(replicates.design.weights))
    weights = replicates.replicate_weights
    values = np.array([statistic(weights[:, column]) for column in range(weights.shape[1])])
    return _estimate(replicates, value, values, confidence, replicates.design.row_count)


def replicate_mean(replicates: ReplicateDesign, variable: str) -> Estimate:
    values = replicates.design.column(variable)
    return replicate_ratio(replicates, values, np.ones_like(values), ~np.isnan(values))


def replicate_total(replicates: ReplicateDesign, variable: str) -> Estimate:
    values = replicates.design.column(variable)
    return replicate_ratio(replicates, values, None, ~np.isnan(values))


# ------------------------------------------------------------------------------------------------- helpers
@dataclass(frozen=True)
class _Cells:
    """The new cells after an adjustment: per row its cell, per cell its earlier cell and its level of each margin."""

    row_cell: np.ndarray
    previous: np.ndarray  # per new cell: the cell it splits
    levels: list[np.ndarray]  # per margin: the level of each new cell
    count: int

    @classmethod
    def of(cls, replicates: ReplicateDesign, margin_codes: list[np.ndarray]) -> "_Cells":
        key = replicates.cells.astype(np.int64)
        for codes in margin_codes:
            key = key * (int(codes.max()) + 1) + codes
        row_cell = pd.factorize(key)[0]
        first = np.unique(row_cell, return_index=True)[1]
        return cls(row_cell, replicates.cells[first], [codes[first] for codes in margin_codes], len(first))

    def table(self, replicates: ReplicateDesign) -> np.ndarray:
        """Cells × replicates: each replicate's weight total in each new cell."""
        weights = sparse.csr_matrix((replicates.design.weights, (self.row_cell, replicates.unit)),
                                    shape=(self.count, replicates.unit_factors.shape[0]))
        table = weights @ replicates.unit_factors
        return table if replicates.cell_factors is None else table * replicates.cell_factors[self.previous]


def _psus(design: SurveyDesign) -> tuple[np.ndarray, np.ndarray]:
    """PSU code per row (0..P−1) and the stratum code of each PSU."""
    stage = design.stages[0]
    psu = np.unique(stage.unit, return_inverse=True)[1]
    psu_stratum = np.zeros(psu.max() + 1, dtype=np.int64)
    psu_stratum[psu] = stage.group
    return psu, np.unique(psu_stratum, return_inverse=True)[1]


def _fpc_factor(design: SurveyDesign, psu_stratum: np.ndarray) -> np.ndarray:
    stage = design.stages[0]
    if stage.population_size is None:
        return np.ones(len(psu_stratum))
    population = np.zeros(psu_stratum.max() + 1)
    population[np.unique(stage.group, return_inverse=True)[1]] = stage.population_size
    sampled = np.bincount(psu_stratum)
    return 1 - sampled[psu_stratum] / population[psu_stratum]


def _replicate_columns(data: pd.DataFrame, columns) -> list[str]:
    if isinstance(columns, str):
        pattern = re.compile(columns)
        names = [name for name in data.columns if pattern.search(str(name))]
        if not names:
            raise ReplicateError(f"No column name matches the replicate-weight pattern {columns!r}.")
        return names
    missing = [name for name in columns if name not in data.columns]
    if missing:
        raise ReplicateError(f"Replicate-weight columns {missing} are not in the data.")
    return list(columns)


def _replicate_column(data: pd.DataFrame, name: str) -> np.ndarray:
    values = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ReplicateError(f"Replicate-weight column {name!r}, row {row}: {str(data[name].iloc[row])!r} is not a weight ≥ 0.")
    return values


def _column_scales(method, count, factors, fay_rho, scale, names) -> np.ndarray:
    if count < 2:
        raise ReplicateError(f"Replicate weights need at least two columns; found {names}.")
    if method == "Fay" and (fay_rho is None or not 0 < fay_rho < 1):
        raise ReplicateError("Fay's method needs its rho, 0 < rho < 1 (e.g. --fay-rho 0.5).")
    rscales = np.ones(count)
    if method == "JKn":
        largest = factors.max(axis=0)
        if (largest <= 1).any():
            column = names[int(np.flatnonzero(largest <= 1)[0])]
            raise ReplicateError(f"JKn replicate column {column!r} never exceeds the full-sample weight: not a jackknife replicate.")
        rscales = 1 / largest  # (n_h − 1)/n_h, as R guesses from the weights
    default = {"JK1": (count - 1) / count, "JKn": 1.0, "BRR": 1 / count,
               "Fay": 1 / (count * (1 - (fay_rho or 0)) ** 2), "bootstrap": 1 / (count - 1)}[method]
    return (default if scale is None else scale) * rscales


def _indicator(level_of_cell: np.ndarray, level_count: int) -> sparse.csr_matrix:
    """Levels × cells 0/1 matrix: level totals of every replicate in one sparse product."""
    count = len(level_of_cell)
    return sparse.csr_matrix((np.ones(count), (level_of_cell, np.arange(count))), shape=(level_count, count))


def _check_cells(totals: np.ndarray, levels, variables) -> None:
    empty = np.argwhere(totals <= 0)
    if len(empty):
        cell, column = (int(index) for index in empty[0])
        raise weighting.WeightingError(f"Replicate {column + 1} has no weight in cell {list(levels)[cell]!r} of {variables}: "
                                       "that replicate dropped every sampled row of the cell; merge it with a neighbouring cell.")


def _rake_matrix(weights, margins, max_iterations, tolerance) -> tuple[np.ndarray, int, float, int]:
    """Iterative proportional fitting of every replicate column at once; margins are (indicator, level per cell, targets).

    Returns the weights, iterations, the largest relative margin error and the replicate (column) where it is.
    """
    error = np.full(weights.shape[1], np.inf)
    for iteration in range(1, max_iterations + 1):
        for indicator, cells, target in margins:
            weights = weights * (target[:, None] / (indicator @ weights))[cells]
        error = np.max([np.max(np.abs(indicator @ weights - target[:, None]) / target[:, None], axis=0)
                        for indicator, _, target in margins], axis=0)
        if error.max() <= tolerance:
            break
    return weights, iteration, float(error.max()), int(error.argmax())


def _adjusted(replicates: ReplicateDesign, full: SurveyDesign, cells: _Cells, table: np.ndarray, adjusted: np.ndarray, step: str) -> ReplicateDesign:
    """New cell factors: each replicate's adjustment of a cell over the full sample's, on top of the earlier factors."""
    full_before = np.bincount(cells.row_cell, weights=replicates.design.weights, minlength=cells.count)
    full_after = np.bincount(cells.row_cell, weights=full.weights, minlength=cells.count)
    with np.errstate(invalid="ignore", divide="ignore"):
        replicate_adjustment = np.where(table > 0, adjusted / table, 1.0)  # an empty cell in a replicate: factor irrelevant
    earlier = 1.0 if replicates.cell_factors is None else replicates.cell_factors[cells.previous]
    cell_factors = earlier * replicate_adjustment / (full_after / full_before)[:, None]
    return replace(replicates, design=replace(full, steps=full.steps + (step,)), cell=cells.row_cell, cell_factors=cell_factors)


def _estimate(replicates: ReplicateDesign, value: float, values: np.ndarray, confidence: float, count: int) -> Estimate:
    error = float(np.sqrt(max(replicates.covariance(values[:, None], np.array([value]))[0, 0], 0.0)))
    quantile = stats.norm.ppf(0.5 + confidence / 2)
    return Estimate(value, error, value - quantile * error, value + quantile * error, count=count)
