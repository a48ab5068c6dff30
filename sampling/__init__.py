"""Sampling for SIPAS and PAR INDEX surveys: frames, sizes, allocation, draws, reserves, codes, rates.

A pure library (numpy, pandas, openpyxl): usable from a notebook without the web app. See docs/sampling.md.
"""

from sampling.allocate import (
    allocate_equal,
    allocate_fixed,
    allocate_neyman,
    allocate_proportional,
    largest_remainder,
)
from sampling.errors import Problem, SamplingError
from sampling.size import cochran_size, yamane_size

__all__ = [
    "Problem",
    "SamplingError",
    "allocate_equal",
    "allocate_fixed",
    "allocate_neyman",
    "allocate_proportional",
    "cochran_size",
    "largest_remainder",
    "yamane_size",
]
