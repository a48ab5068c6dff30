"""Replicate-weight variance: delete-one-PSU jackknife (JK1 / JKn) and the Rao–Wu rescaling bootstrap.

A replicate design keeps the full-sample weights and one column of weights per replicate; any
statistic written as a function of the weights gets its variance from the spread of its replicates
(R's ``as.svrepdesign`` and ``withReplicates``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats

from analysis.design import SurveyDesign
from analysis.estimators import Estimate


@dataclass(frozen=True)
class ReplicateDesign:
    """Full-sample weights, replicate weights (rows × replicates) and the variance multipliers."""

    design: SurveyDesign
    replicate_weights: np.ndarray
    replicate_scales: np.ndarray  # per replicate: the factor in V = Σ_r scale_r (θ_r − θ̄)²
    method: str


def jackknife(design: SurveyDesign, *, use_fpc: bool = False) -> ReplicateDesign:
    """JKn: drop one PSU at a time, reweight its stratum by n_h / (n_h − 1); JK1 when unstratified.

    ``use_fpc`` multiplies each stratum's scale by (1 − f_h), as R does when the design has an fpc.
    """
    stage = design.stages[0]
    psu_codes = np.unique(stage.unit)
    psu_stratum = np.zeros(psu_codes.max() + 1, dtype=int)
    psu_stratum[stage.unit] = stage.group
    psus_in_stratum = np.bincount(psu_stratum[psu_codes])
    if (psus_in_stratum[psu_stratum[psu_codes]] < 2).any():
        raise ValueError("The jackknife needs at least two PSUs in every stratum; merge strata with one PSU.")
    replicate_weights = np.tile(design.weights[:, None], (1, len(psu_codes)))
    for column, psu in enumerate(psu_codes):
        stratum = psu_stratum[psu]
        in_stratum = stage.group == stratum
        replicate_weights[in_stratum, column] *= psus_in_stratum[stratum] / (psus_in_stratum[stratum] - 1)
        replicate_weights[stage.unit == psu, column] = 0.0
    sizes = psus_in_stratum[psu_stratum[psu_codes]]
    scales = (sizes - 1) / sizes * (_fpc_factor(design, psu_stratum[psu_codes]) if use_fpc else 1.0)
    return ReplicateDesign(design, replicate_weights, scales, "JK1" if design.stratum_count() == 1 else "JKn")


def bootstrap(design: SurveyDesign, replicates: int, generator: np.random.Generator) -> ReplicateDesign:
    """Rao–Wu (1988) rescaling bootstrap: draw n_h − 1 PSUs with replacement per stratum, rescale by n_h / (n_h − 1)."""
    stage = design.stages[0]
    psu_stratum = np.zeros(stage.unit.max() + 1, dtype=int)
    psu_stratum[stage.unit] = stage.group
    multipliers = np.zeros((stage.unit.max() + 1, replicates))
    for stratum in np.unique(stage.group):
        psus = np.unique(stage.unit[stage.group == stratum])
        if len(psus) < 2:
            raise ValueError("The bootstrap needs at least two PSUs in every stratum; merge strata with one PSU.")
        draws = generator.integers(0, len(psus), size=(len(psus) - 1, replicates))
        counts = np.stack([np.bincount(draws[:, column], minlength=len(psus)) for column in range(replicates)], axis=1)
        multipliers[psus] = counts * len(psus) / (len(psus) - 1)
    replicate_weights = design.weights[:, None] * multipliers[stage.unit]
    return ReplicateDesign(design, replicate_weights, np.full(replicates, 1 / replicates), "bootstrap")


def replicate_estimate(replicate_design: ReplicateDesign, statistic: Callable[[np.ndarray], float], confidence: float = 0.95) -> Estimate:
    """Value of ``statistic(weights)`` at the full-sample weights, SE from its replicates (centred at their mean)."""
    value = float(statistic(replicate_design.design.weights))
    replicates = np.array([statistic(replicate_design.replicate_weights[:, column]) for column in range(replicate_design.replicate_weights.shape[1])])
    variance = float((replicate_design.replicate_scales * (replicates - replicates.mean()) ** 2).sum())
    error = np.sqrt(variance)
    quantile = stats.norm.ppf(0.5 + confidence / 2)
    return Estimate(value, float(error), value - quantile * error, value + quantile * error, count=replicate_design.design.row_count)


def replicate_mean(replicate_design: ReplicateDesign, variable: str) -> Estimate:
    values = replicate_design.design.column(variable)
    return replicate_estimate(replicate_design, lambda weights: (weights * values).sum() / weights.sum())


def replicate_total(replicate_design: ReplicateDesign, variable: str) -> Estimate:
    values = replicate_design.design.column(variable)
    return replicate_estimate(replicate_design, lambda weights: (weights * values).sum())


def _fpc_factor(design: SurveyDesign, strata: np.ndarray) -> np.ndarray:
    stage = design.stages[0]
    if stage.population_size is None:
        return np.ones(len(strata))
    population = np.zeros(stage.group.max() + 1)
    population[stage.group] = stage.population_size
    sampled = np.bincount(np.unique(np.column_stack([stage.group, stage.unit]), axis=0)[:, 0])
    return 1 - sampled[strata] / population[strata]
