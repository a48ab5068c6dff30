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
from sampling.codes import check_code, format_code, generate_code, generate_codes, hash_code, is_valid_code
from sampling.draw import Stage, draw_multistage, draw_pps, draw_stratified, draw_systematic, new_seed, sort_frame
from sampling.errors import Problem, SamplingError
from sampling.frames import FrameImport, RowProblem, import_frame, preview_source, read_table, validate_frame
from sampling.rates import Dispositions, response_rate_1, response_rate_3, response_table
from sampling.sample import Replacement, Sample
from sampling.size import cochran_size, yamane_size

__all__ = [
    "Dispositions", "FrameImport", "Problem", "Replacement", "RowProblem", "Sample", "SamplingError", "Stage",
    "allocate_equal", "allocate_fixed", "allocate_neyman", "allocate_proportional", "check_code",
    "cochran_size", "draw_multistage", "draw_pps", "draw_stratified", "draw_systematic", "format_code",
    "generate_code", "generate_codes", "hash_code", "import_frame", "is_valid_code", "largest_remainder",
    "new_seed", "preview_source", "read_table", "response_rate_1", "response_rate_3", "response_table",
    "sort_frame", "validate_frame", "yamane_size",
]
