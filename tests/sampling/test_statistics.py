"""Simulation: over many seeded draws, how often each unit is drawn matches its stated probability.

Seeds are fixed (0, 1, 2, …) so the tests are deterministic. Tolerance: 4 binomial standard errors,
sqrt(π(1−π)/R), per unit — a correct sampler fails with probability about 6e-5 per unit.
"""

import numpy as np
import pandas as pd
import pytest

from sampling.draw import Stage, draw_multistage, draw_stratified
from sampling.selection import brewer, pps_probabilities, systematic_pps, systematic_positions

from .conftest import TINY_QUOTAS, tiny_frame

DRAWS = 2000
SIZES = np.array([1, 2, 3, 5, 8, 13, 21, 2, 4, 40, 6, 9], dtype=float)  # 40 is a certainty unit for n = 4


def assert_frequencies_match(counts, probabilities, draws):
    frequencies = np.asarray(counts) / draws
    probabilities = np.asarray(probabilities, dtype=float)
    tolerance = 4 * np.sqrt(probabilities * (1 - probabilities) / draws) + 1e-12
    assert np.all(np.abs(frequencies - probabilities) <= tolerance), (frequencies, probabilities)


def test_stratified_srs_inclusion_frequencies():
    frame = tiny_frame()
    counts = pd.Series(0, index=frame["member_id"])
    stated = {}
    for seed in range(DRAWS):
        members = draw_stratified(frame, TINY_QUOTAS, strata=["unit", "role"], seed=seed).members
        counts[members["member_id"]] += 1
        stated.update(zip(members["member_id"], members["inclusion_probability"]))
    assert_frequencies_match(counts, counts.index.map(stated), DRAWS)


def test_systematic_inclusion_frequencies():
    population_size, sample_size = 23, 5
    counts = np.zeros(population_size)
    for seed in range(DRAWS):
        counts[systematic_positions(population_size, sample_size, np.random.default_rng(seed))] += 1
    assert_frequencies_match(counts, np.full(population_size, sample_size / population_size), DRAWS)


@pytest.mark.parametrize("select", [systematic_pps, brewer], ids=["systematic_pps", "brewer"])
def test_pps_inclusion_frequencies(select):
    probabilities = pps_probabilities(SIZES, 4)
    counts = np.zeros(len(SIZES))
    for seed in range(DRAWS):
        chosen = select(probabilities, np.random.default_rng(seed))
        assert len(chosen) == 4 and len(set(chosen)) == 4  # fixed size, without replacement
        counts[chosen] += 1
    assert_frequencies_match(counts, probabilities, DRAWS)


@pytest.mark.parametrize("sample_size", [1, 3, 6, 10])
def test_pps_probabilities_are_at_most_one_and_sum_to_n(sample_size):
    sizes = np.random.default_rng(sample_size).lognormal(3, 1.5, size=40)
    probabilities = pps_probabilities(sizes, sample_size)
    assert probabilities.max() <= 1
    assert probabilities.sum() == pytest.approx(sample_size)


def test_pps_taking_a_whole_group_gives_probability_one():
    assert pps_probabilities(np.array([5.0, 1.0, 1.0]), 3).tolist() == [1.0, 1.0, 1.0]


def test_multistage_inclusion_frequencies():
    rows = [{"member_id": f"{unit}-{day}-{number}", "unit": unit, "day": day}
            for unit, volume in (("U1", 6), ("U2", 2), ("U3", 4)) for day in ("d1", "d2", "d3")
            for number in range(volume)]
    frame = pd.DataFrame(rows)
    stages = [Stage("unit", 2, "pps_systematic"), Stage("day", 2), Stage("member_id", 2)]
    draws = 1000
    counts = pd.Series(0, index=frame["member_id"])
    stated = {}
    for seed in range(draws):
        members = draw_multistage(frame, stages, seed=seed).members
        counts[members["member_id"]] += 1
        stated.update(zip(members["member_id"], members["inclusion_probability"]))
    assert_frequencies_match(counts, counts.index.map(stated), draws)
