"""Officials' answers of a unit with fewer than the threshold are in no figure (survey_app/suppression.py)."""

from __future__ import annotations

import pandas as pd

from survey_app.suppression import publishable, small_units


def test_small_units_are_those_with_some_answers_but_fewer_than_the_threshold():
    assert small_units(["A"] * 4 + ["B"] * 5 + ["C"], 5) == {"A": 4, "C": 1}


def test_officials_rows_of_small_units_are_dropped_and_citizens_rows_kept():
    frame = pd.DataFrame({"unit": ["A"] * 2 + ["B"] * 5, "x": range(7)})
    kept, left_out = publishable(frame, officials=True, minimum=5)
    assert kept["unit"].tolist() == ["B"] * 5 and kept["x"].tolist() == [2, 3, 4, 5, 6] and left_out == {"A": 2}
    whole, none_left_out = publishable(frame, officials=False, minimum=5)
    assert whole is frame and none_left_out == {}
