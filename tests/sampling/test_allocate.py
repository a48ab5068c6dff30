"""Allocation: exact totals, capacity caps, fixed PAR INDEX quotas."""

import numpy as np
import pandas as pd
import pytest

from sampling import (
    SamplingError,
    allocate_equal,
    allocate_fixed,
    allocate_neyman,
    allocate_proportional,
    largest_remainder,
)


def test_proportional_keeps_total_exact():
    quotas = allocate_proportional({"A": 100, "B": 200, "C": 300}, total=100)
    # shares 16.67, 33.33, 50 → floors 16, 33, 50 → the one spare goes to A (largest remainder .67)
    assert quotas.to_dict() == {"A": 17, "B": 33, "C": 50}


def test_equal_caps_small_strata_and_moves_excess():
    quotas = allocate_equal({"A": 2, "B": 50, "C": 50}, total=30)
    assert quotas.to_dict() == {"A": 2, "B": 14, "C": 14}


def test_neyman_weights_by_size_times_deviation():
    quotas = allocate_neyman({"A": 100, "B": 100}, {"A": 1.0, "B": 3.0}, total=40)
    assert quotas.to_dict() == {"A": 10, "B": 30}


def test_neyman_never_exceeds_stratum_size():
    quotas = allocate_neyman({"A": 5, "B": 100}, {"A": 100.0, "B": 1.0}, total=20)
    assert quotas.to_dict() == {"A": 5, "B": 15}


@pytest.mark.parametrize("total", range(1, 61))
def test_largest_remainder_is_exact_and_capped(total):
    capacity = np.array([3, 10, 17, 30])
    quotas = largest_remainder(np.array([5.0, 1.0, 2.0, 7.0]), total, capacity)
    assert quotas.sum() == total
    assert (quotas <= capacity).all()


def test_minimum_per_stratum():
    quotas = allocate_proportional({"A": 1000, "B": 5}, total=20, minimum=2)
    assert quotas.to_dict() == {"A": 18, "B": 2}


def test_fixed_quotas_for_provincial_departments_total_180():
    departments = [f"S{number:02d}" for number in range(1, 21)]
    quotas = allocate_fixed(departments, {"head of division": 5, "civil servant": 4})
    assert quotas.sum() == 180
    assert quotas[("S07", "head of division")] == 5


def test_fixed_quotas_for_districts_total_187():
    districts = [f"H{number:02d}" for number in range(1, 12)]
    quotas = allocate_fixed(districts, {"head of division": 12, "civil servant": 5})
    assert quotas.sum() == 187


def test_fixed_quota_larger_than_stratum_is_refused_with_stratum_named():
    sizes = {("S01", "head"): 3, ("S01", "staff"): 10}
    with pytest.raises(SamplingError) as raised:
        allocate_fixed(["S01"], {"head": 5, "staff": 4}, stratum_sizes=sizes)
    assert "('S01', 'head')" in str(raised.value)
    assert "quota 5 but only 3" in str(raised.value)


def test_total_larger_than_population_is_refused():
    with pytest.raises(SamplingError, match="exceeds the population size 30"):
        allocate_proportional({"A": 10, "B": 20}, total=31)


def test_empty_stratum_is_refused():
    with pytest.raises(SamplingError, match="stratum 'B'"):
        allocate_equal({"A": 10, "B": 0}, total=5)


def test_allocation_index_is_the_strata():
    sizes = pd.Series({"A": 10, "B": 20})
    assert list(allocate_proportional(sizes, 6).index) == ["A", "B"]
