"""Officials' answers of a unit with fewer than the threshold are in no figure (survey_app/results/suppression.py)."""

from __future__ import annotations

import pandas as pd

from survey_app.results.suppression import publishable, small_units


def test_small_units_are_those_with_some_answers_but_fewer_than_the_threshold():
    assert small_units(["A"] * 4 + ["B"] * 5 + ["C"], 5) == {"A": 4, "C": 1}


def test_officials_rows_of_small_units_are_dropped_and_citizens_rows_kept():
    frame = pd.DataFrame({"unit": ["A"] * 2 + ["B"] * 5, "x": range(7)})
    kept, left_out = publishable(frame, officials=True, minimum=5)
    assert kept["unit"].tolist() == ["B"] * 5 and kept["x"].tolist() == [2, 3, 4, 5, 6] and left_out == {"A": 2}
    whole, none_left_out = publishable(frame, officials=False, minimum=5)
    assert whole is frame and none_left_out == {}


def test_an_item_few_officials_of_a_unit_rated_counts_as_not_rated_there():
    """5 officials of A, 4 of them 'không áp dụng' on q1: the one rating would be that official's answer."""
    frame = pd.DataFrame({"unit": ["A"] * 5 + ["B"] * 5, "weight": 1.0,
                          "q1": [4.0, None, None, None, None, 5, 5, 4, 4, 3], "q2": [4.0, 5, 3, 2, 1] * 2})
    kept, _ = publishable(frame, officials=True, minimum=5)
    assert kept["q1"].notna().tolist() == [False] * 5 + [True] * 5 and kept["q2"].notna().all()


def test_officials_of_a_unit_share_one_weight():
    """Role weights 2 and 10 in one unit: a weighted figure beside an unweighted one would split the roles."""
    frame = pd.DataFrame({"unit": ["A"] * 5 + ["B"] * 5, "weight": [2.0, 2, 2, 10, 10, 1, 1, 1, 1, 1], "q1": 4.0})
    kept, _ = publishable(frame, officials=True, minimum=5)
    assert kept["weight"].tolist() == [5.2] * 5 + [1.0] * 5
    assert publishable(frame, officials=False, minimum=5)[0]["weight"].tolist() == frame["weight"].tolist()
