"""Sample-size rules against hand-worked values."""

import pytest

from sampling import SamplingError, cochran_size, yamane_size


@pytest.mark.parametrize(
    ("population_size", "expected"),
    [(1000, 286), (10000, 385), (500, 223), (1, 1)],  # 1000/3.5 = 285.7; 10000/26 = 384.6; 500/2.25 = 222.2
)
def test_yamane_rounds_up(population_size, expected):
    assert yamane_size(population_size) == expected


def test_yamane_with_other_margin():
    assert yamane_size(1000, margin_of_error=0.1) == 91  # 1000 / 11 = 90.9


def test_cochran_infinite_population():
    # z = 1.959964; 1.959964² × 0.25 / 0.0025 = 384.15
    assert cochran_size() == 385


def test_cochran_with_finite_population_correction():
    # 384.15 / (1 + 383.15 / 1000) = 277.7
    assert cochran_size(1000) == 278


def test_cochran_never_exceeds_population():
    assert cochran_size(50) <= 50


@pytest.mark.parametrize("bad", [0, -5, 2.5])
def test_bad_population_is_refused(bad):
    with pytest.raises(SamplingError, match="population size"):
        yamane_size(bad)


def test_bad_margin_is_refused():
    with pytest.raises(SamplingError, match="margin of error"):
        cochran_size(100, margin_of_error=5)
