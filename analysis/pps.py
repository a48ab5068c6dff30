"""PPS sampling without replacement (R survey's ``svydesign(..., pps=)``), one stage, optionally stratified.

The variance of a total of weighted scores z (unit totals T_i) is computed from first-order inclusion
probabilities π_i and, exactly or approximately, the joint ones π_ij, in R's form Ď_ij = (π_ij − π_iπ_j)/π_ij:

* ``brewer``: Brewer's approximation, the with-replacement formula with a per-unit fpc:
  n/(n−1) Σ (1 − π_i)(T_i − T̄)² per stratum (R's ``pps="brewer"``);
* ``overton``: Overton's approximation, as R's ``overton2Dcheck``: Ď_ij = 1 − (n − (π_i+π_j)/2)/(n−1);
* ``hartley_rao``: Hartley–Rao, Ď_ij = 1 − (n − π_i − π_j + Σπ²/n)/(n−1), with Σπ²/n of the population when
  given (R's ``HR(psum)``), otherwise estimated by the sample mean of π (R's ``HR()``);
* ``ht``: Horvitz–Thompson with the joint inclusion probabilities given (R's ``ppsmat``); ``variance="YG"``
  gives the Sen–Yates–Grundy form instead.

Diagonal Ď_ii = 1 − π_i. V = Tᵀ Ď T (Horvitz–Thompson form) or Tᵀ Ď T − Σ_j (Σ_i Ď_ij) T_j T_jᵀ (Yates–Grundy).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis.design import SurveyDesign

METHODS = ("brewer", "overton", "hartley_rao", "ht")


@dataclass(frozen=True)
class PpsVariance:
    """What the variance needs: the unit of each row, and per unit its probability, stratum and (matrix methods) Ď."""

    method: str
    unit: np.ndarray  # unit code per row
    probability: np.ndarray  # per unit
    stratum: np.ndarray  # per unit
    dcheck: np.ndarray | None = None  # units × units, for every method but Brewer's
    yates_grundy: bool = False

    def covariance(self, scores: np.ndarray) -> np.ndarray:
        totals = _sum_by(self.unit, scores, len(self.probability))
        if self.dcheck is None:
            return _brewer(totals, self.probability, self.stratum)
        covariance = totals.T @ self.dcheck @ totals
        if self.yates_grundy:
            covariance -= (totals * self.dcheck.sum(axis=0)[:, None]).T @ totals
        return covariance


def pps_design(
    data: pd.DataFrame,
    probabilities: str,
    *,
    method: str = "brewer",
    strata: str | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    joint_probabilities: np.ndarray | None = None,
    population_p2_mean: float | None = None,
    variance: str = "HT",
) -> SurveyDesign:
    """A one-stage PPS-without-replacement design: ``probabilities`` is the inclusion probability column (R's fpc=~p).

    Weights are 1/π unless a weight column is given. ``joint_probabilities`` (units × units, in the order units first
    appear) is required by ``method="ht"``; ``population_p2_mean`` is Σπ²/n over the population for Hartley–Rao.
    """
    if method not in METHODS:
        raise ValueError(f"pps method {method!r} is not one of {METHODS}.")
    if variance not in ("HT", "YG"):
        raise ValueError(f"variance={variance!r}: choose 'HT' (Horvitz–Thompson) or 'YG' (Yates–Grundy).")
    design = SurveyDesign.from_frame(data, clusters=cluster, strata=strata, weights=weights,
                                     probabilities=None if weights else probabilities)
    stage = design.stages[0]
    unit_order, first_rows = _units_in_order(stage.unit)
    probability = _unit_probabilities(design.data[probabilities], stage.unit, first_rows, probabilities)
    stratum = stage.group[first_rows]
    unit = unit_order[stage.unit]
    _check_sample_sizes(stratum, strata)
    dcheck = None
    if method == "overton":
        dcheck = _approximate_dcheck(probability, stratum, lambda pi, pj, n: 1 - (n - (pi + pj) / 2) / (n - 1))
    elif method == "hartley_rao":
        p2 = _p2_mean(probability, stratum, population_p2_mean)
        dcheck = _approximate_dcheck(probability, stratum, lambda pi, pj, n: 1 - (n - pi - pj + p2) / (n - 1))
    elif method == "ht":
        dcheck = _dcheck_from_joint(joint_probabilities, probability)
    step = f"PPS without replacement ({method}{', Yates–Grundy' if variance == 'YG' else ''}) on {probabilities}"
    pps = PpsVariance(method, unit, probability, stratum, dcheck, variance == "YG")
    return replace(design, pps=pps, steps=(step,) + design.steps[1:])


def _units_in_order(unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per unit code, its rank in order of first appearance (the order of a joint-probability matrix), and first rows."""
    codes, first_rows = np.unique(unit, return_index=True)
    order = np.argsort(first_rows, kind="stable")
    rank = np.empty(len(codes), dtype=np.int64)
    rank[order] = np.arange(len(codes))
    return rank, first_rows[order]


def _unit_probabilities(column: pd.Series, unit: np.ndarray, first_rows: np.ndarray, name: str) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values <= 0) | (values > 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"Inclusion probability column {name!r}, row {row}: {column.iloc[row]!r} is not in (0, 1]"
                         f"{' (p > 1)' if np.isfinite(values[row]) and values[row] > 1 else ''}; {int(bad.sum())} such rows.")
    per_unit = values[first_rows]
    spread = pd.Series(values).groupby(unit).agg(lambda group: group.max() - group.min())
    if (spread > 1e-12).any():
        raise ValueError(f"Inclusion probability column {name!r} varies within a sampling unit; it must be one value per unit.")
    return per_unit


def _check_sample_sizes(stratum: np.ndarray, strata: str | None) -> None:
    sizes = np.bincount(stratum)
    single = np.flatnonzero(sizes == 1)
    if len(single):
        where = f"stratum code {int(single[0])} of {strata!r}" if strata else "the sample"
        raise ValueError(f"PPS variance needs at least two units per stratum: {where} has one (a singleton stratum).")


def _approximate_dcheck(probability, stratum, formula) -> np.ndarray:
    """Ď from an approximation of π_ij within strata (zero across strata, and where π_i + π_j = 2), diagonal 1 − π_i."""
    sizes = np.bincount(stratum)[stratum].astype(float)
    pi, pj = probability[:, None], probability[None, :]
    dcheck = formula(pi, pj, sizes[:, None])
    dcheck[(stratum[:, None] != stratum[None, :]) | (pi + pj == 2)] = 0.0
    np.fill_diagonal(dcheck, 1 - probability)
    return dcheck


def _p2_mean(probability, stratum, population_p2_mean) -> np.ndarray:
    """Σπ²/n per unit's stratum: the population figure when given, otherwise the sample mean of π (R's HR())."""
    if population_p2_mean is not None:
        if not 0 < population_p2_mean <= 1:
            raise ValueError(f"population_p2_mean={population_p2_mean} must be in (0, 1]: it is Σπ²/n over the population.")
        return np.full((len(probability), 1), float(population_p2_mean))
    means = np.bincount(stratum, weights=probability) / np.bincount(stratum)
    return means[stratum][:, None]


def _dcheck_from_joint(joint, probability) -> np.ndarray:
    """Ď = (π_ij − π_iπ_j)/π_ij, after checking π_ij against the first-order probabilities."""
    if joint is None:
        raise ValueError("method='ht' needs the joint inclusion probabilities (a units × units matrix).")
    joint = np.asarray(joint, dtype=float)
    count = len(probability)
    if joint.shape != (count, count):
        raise ValueError(f"Joint probabilities are {joint.shape[0]}×{joint.shape[1] if joint.ndim > 1 else 1}; the design has {count} units.")
    _check_joint(joint, probability)
    dcheck = (joint - np.outer(probability, probability)) / joint
    dcheck[np.abs(dcheck) < joint.min() / 1e4] = 0.0  # R's ppsmat tolerance
    return dcheck


def _check_joint(joint: np.ndarray, probability: np.ndarray) -> None:
    diagonal = np.diag(joint)
    checks = [
        (~np.isfinite(joint) | (joint <= 0) | (joint > 1), "is not in (0, 1]"),
        (np.abs(joint - joint.T) > 1e-9, "is not symmetric (π_ij ≠ π_ji)"),
        (np.diag(np.abs(diagonal - probability) > 1e-6 * np.maximum(probability, 1e-12)), "on the diagonal differs from the unit's inclusion probability"),
        (joint > np.minimum(probability[:, None], probability[None, :]) + 1e-9, "exceeds the smaller of π_i and π_j"),
    ]
    for bad, what in checks:
        if bad.any():
            i, j = (int(index) for index in np.argwhere(bad)[0])
            raise ValueError(f"Joint probability π[{i},{j}] = {joint[i, j]:.6g} {what}: the joint probabilities are "
                             "inconsistent with the first-order ones (units in order of first appearance).")


def _brewer(totals: np.ndarray, probability: np.ndarray, stratum: np.ndarray) -> np.ndarray:
    sizes = np.bincount(stratum).astype(float)
    means = _sum_by(stratum, totals, len(sizes)) / sizes[:, None]
    deviations = totals - means[stratum]
    scale = (1 - probability) * (sizes / (sizes - 1))[stratum]
    return (deviations * scale[:, None]).T @ deviations


def _sum_by(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    return np.column_stack([np.bincount(codes, weights=values[:, column], minlength=size) for column in range(values.shape[1])])
