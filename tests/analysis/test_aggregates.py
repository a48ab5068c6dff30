"""Indices from stored sums equal analysis.sipas on the raw answers: value, SE, CI and counts, for the whole
campaign and for any group (a domain of the whole design), whatever the answers and weights (hypothesis)."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from analysis.aggregates import RatingSums, grouped_rating_sums, indices_from_sums, rating_sums, rating_spread
from analysis.design import SurveyDesign
from analysis.sipas import compute_indices, compute_indices_by

SCORING = {
    "key": "sipas",
    "factors": [
        {"key": "access", "label": {"vi": "Tiếp cận"},
         "criteria": [{"key": "a1", "items": ["q1"]}, {"key": "a2", "items": ["q2", "q3"]}]},
        {"key": "results", "label": {"vi": "Kết quả"}, "criteria": [{"key": "r1", "items": ["q4"]}]},
    ],
}
ITEMS = ["q1", "q2", "q3", "q4"]

rating = st.one_of(st.none(), st.integers(1, 5))
response = st.tuples(st.lists(rating, min_size=4, max_size=4), st.floats(0.2, 30), st.integers(0, 3))


def frame_of(responses) -> pd.DataFrame:
    frame = pd.DataFrame([[np.nan if value is None else float(value) for value in ratings]
                          for ratings, _, _ in responses], columns=ITEMS)
    return frame.assign(weight=[weight for _, weight, _ in responses], group=[group for _, _, group in responses])


def same(stored: dict, raw: dict) -> None:
    """Every figure of two IndexResult dicts equal (floats to 1e-7 relative, 1e-5 points), None where the other is None."""
    assert stored.keys() == raw.keys()
    for key, raw_value in raw.items():
        if isinstance(raw_value, float) and not math.isnan(raw_value):
            assert stored[key] == pytest.approx(raw_value, rel=1e-7, abs=1e-5), key  # percent; a zero SE comes back as ~1e-7 (cancellation)
        elif isinstance(raw_value, list):
            for stored_part, raw_part in zip(stored[key], raw_value, strict=True):
                same(stored_part, raw_part) if isinstance(raw_part, dict) else None
        else:
            assert stored[key] == raw_value, key


@settings(max_examples=150, deadline=None)
@given(st.lists(response, min_size=2, max_size=40))
def test_sums_give_the_raw_answers_figures_for_the_campaign_and_each_group(responses):
    frame = frame_of(responses)
    design = SurveyDesign.from_frame(frame, weights=frame["weight"].to_numpy())
    cells = grouped_rating_sums(frame[ITEMS].to_numpy(), frame["weight"].to_numpy(), frame["group"].to_numpy())
    whole = sum(cells.values(), RatingSums.empty(len(ITEMS)))
    same(indices_from_sums(whole, SCORING, len(frame)).to_dict(),
         compute_indices(frame, SCORING, design=design).to_dict())
    for group, raw in compute_indices_by(frame, SCORING, "group", design=design).items():
        same(indices_from_sums(cells[group], SCORING, len(frame)).to_dict(), raw.to_dict())


def test_a_group_of_several_cells_is_their_sum():
    frame = frame_of([([5, 4, None, 1], 1.0, 0), ([2, None, 3, 5], 2.0, 1), ([4, 4, 4, 4], 1.5, 2),
                      ([1, 2, 5, None], 0.5, 0)])
    design = SurveyDesign.from_frame(frame, weights=frame["weight"].to_numpy())
    cells = grouped_rating_sums(frame[ITEMS].to_numpy(), frame["weight"].to_numpy(), frame["group"].to_numpy())
    raw = compute_indices_by(frame, SCORING, frame["group"].isin([0, 2]), design=design)[True]
    same(indices_from_sums(cells[0] + cells[2], SCORING, len(frame)).to_dict(), raw.to_dict())


def test_stored_text_gives_back_the_same_sums():
    sums = rating_sums(np.array([[5, np.nan, 3, 1], [4, 4, 2, np.nan]]), np.array([1.25, 0.1]))
    back = RatingSums.decoded(sums.encoded(), len(ITEMS))
    for mine, theirs in zip(sums._parts(), back._parts()):
        np.testing.assert_array_equal(mine, theirs)
    assert not back.all_weights_one and rating_sums(np.array([[5.0]]), np.ones(1)).all_weights_one
    with pytest.raises(ValueError, match="numbers; .* expected for 5 items"):
        RatingSums.decoded(sums.encoded(), 5)


def test_spread_counts_each_rating_of_a_factor():
    sums = rating_sums(np.array([[5, 1, 1, 4], [5, np.nan, 2, 4]]), np.ones(2))
    spread = rating_spread(sums, SCORING)
    assert list(spread["Tiếp cận"]) == pytest.approx([40, 20, 0, 0, 40])
    assert list(spread["Kết quả"]) == pytest.approx([0, 0, 0, 100, 0])
