"""Sample-size rules: Yamane and Cochran (for a proportion, with finite-population correction)."""

from __future__ import annotations

import math
from statistics import NormalDist

from sampling.errors import refuse


def yamane_size(population_size: int, margin_of_error: float = 0.05) -> int:
    """Yamane's n = N / (1 + N e²), rounded up (SIPAS uses e = 5%)."""
    _check_population(population_size)
    _check_margin(margin_of_error)
    exact = population_size / (1 + population_size * margin_of_error**2)
    return _round_up(exact)


def cochran_size(
    population_size: int | None = None,
    margin_of_error: float = 0.05,
    proportion: float = 0.5,
    confidence: float = 0.95,
) -> int:
    """Cochran's n₀ = z² p(1−p) / e², corrected to n₀ / (1 + (n₀−1)/N) when N is given; rounded up."""
    _check_margin(margin_of_error)
    if not 0 < proportion < 1 or not 0 < confidence < 1:
        raise refuse("cochran_size", "Tỷ lệ và độ tin cậy phải nằm trong (0, 1).",
                     "proportion and confidence must lie strictly between 0 and 1.")
    z_score = NormalDist().inv_cdf(0.5 + confidence / 2)
    infinite_size = z_score**2 * proportion * (1 - proportion) / margin_of_error**2
    if population_size is None:
        return _round_up(infinite_size)
    _check_population(population_size)
    return _round_up(infinite_size / (1 + (infinite_size - 1) / population_size))


def _round_up(exact: float) -> int:
    # Guard against 99.99999999 becoming 100 from floating-point noise alone.
    return math.ceil(round(exact, 9))


def _check_population(population_size: int) -> None:
    if population_size < 1 or int(population_size) != population_size:
        raise refuse("population_size", "Cỡ tổng thể phải là số nguyên dương.",
                     f"population size must be a positive integer, got {population_size!r}.")


def _check_margin(margin_of_error: float) -> None:
    if not 0 < margin_of_error < 1:
        raise refuse("margin_of_error", "Sai số phải nằm trong (0, 1), ví dụ 0,05.",
                     f"margin of error must lie in (0, 1), e.g. 0.05; got {margin_of_error!r}.")
