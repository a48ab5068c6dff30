"""Selection primitives: each takes a numpy Generator and returns positions or probabilities.

Only `generator.random()` is used (never `shuffle`/`choice`), because the stream of uniform doubles of
PCG64 is the part of numpy most firmly kept stable across versions and machines.
"""

from __future__ import annotations

import numpy as np

CERTAINTY = 1 - 1e-9  # probabilities this close to 1 are certainty selections (floating-point slack)


def random_keys(size: int, generator: np.random.Generator) -> np.ndarray:
    """One uniform key per unit; sorting by it gives a random permutation."""
    return generator.random(size)


def systematic_positions(population_size: int, sample_size: int, generator: np.random.Generator) -> np.ndarray:
    """Systematic sample with a fractional interval N/n and a random start: each unit has probability n/N."""
    interval = population_size / sample_size
    start = generator.random() * interval
    positions = np.floor(start + interval * np.arange(sample_size)).astype(int)
    return np.minimum(positions, population_size - 1)  # guard the last point against rounding up to N


def pps_probabilities(sizes: np.ndarray, sample_size: int) -> np.ndarray:
    """π_i = n x_i / Σx, with units whose π would reach 1 taken with certainty and the rest rescaled."""
    sizes = np.asarray(sizes, dtype=float)
    certain = np.zeros(len(sizes), dtype=bool)
    while not certain.all():
        remaining = sample_size - certain.sum()
        scaled = np.where(certain, 1.0, remaining * sizes / sizes[~certain].sum())
        newly_certain = ~certain & (scaled >= CERTAINTY)
        if not newly_certain.any():
            return scaled
        certain |= newly_certain
    return np.ones(len(sizes))  # the whole group is taken


def systematic_pps(probabilities: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """Systematic PPS: points u, u+1, …, u+n−1 on the cumulated π; unit i is hit with probability π_i."""
    certain = np.flatnonzero(probabilities >= CERTAINTY)
    rest = np.flatnonzero(probabilities < CERTAINTY)
    cumulated = np.cumsum(probabilities[rest])
    count = int(round(cumulated[-1])) if len(rest) else 0
    points = generator.random() + np.arange(count)
    hits = np.minimum(np.searchsorted(cumulated, points, side="right"), len(rest) - 1)
    return np.sort(np.concatenate([certain, rest[hits]]))


def brewer(probabilities: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """Brewer's draw-by-draw method (Tillé 2006, algorithm 6.10): exact π_i, all π_ij > 0.

    Costs O(N·n); use it for primary units (departments, communes), not for a million dossiers.
    """
    certain = np.flatnonzero(probabilities >= CERTAINTY)
    rest = np.flatnonzero(probabilities < CERTAINTY)
    target = probabilities[rest]
    count = int(round(target.sum()))
    taken = np.zeros(len(rest), dtype=bool)
    for step in range(1, count + 1):
        already = target[taken].sum()
        with np.errstate(divide="ignore", invalid="ignore"):  # taken units divide by zero; masked out
            weights = np.where(taken, 0.0, target * (count - already - target)
                               / (count - already - target * (count - step + 1)))
        cumulated = np.cumsum(weights / weights.sum())
        taken[min(np.searchsorted(cumulated, generator.random(), side="right"), len(rest) - 1)] = True
    return np.sort(np.concatenate([certain, rest[taken]]))

