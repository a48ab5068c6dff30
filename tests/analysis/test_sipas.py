"""SIPAS index arithmetic on small hand-computed examples."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.sipas import compute_indices

SCORING = {
    "key": "sipas",
    "factors": [
        {
            "key": "access",
            "label": {"vi": "Tiếp cận dịch vụ", "en": "Access"},
            "criteria": [
                {"key": "access_1", "label": {"vi": "Chỗ ngồi", "en": "Seats"}, "items": ["q1"]},
                {"key": "access_2", "items": ["q2"]},
            ],
        },
        {"key": "results", "criteria": [{"key": "results_1", "items": ["q3", "q4"]}]},
    ],
}


def test_unweighted_hand_example():
    answers = pd.DataFrame(
        {
            "q1": [5, 4, 2, np.nan],  # 2 of 3 valid satisfied → 66.67
            "q2": [3, 4, 5, 5],  # 3 of 4 → 75
            "q3": [1, 1, 4, 4],  # 50
            "q4": [5, np.nan, np.nan, np.nan],  # 100
            "ignored": [1, 1, 1, 1],
        }
    )
    result = compute_indices(answers, SCORING)
    access, results = result.factors
    assert access.criteria[0].value == pytest.approx(200 / 3)
    assert access.criteria[0].valid_count == 3
    assert access.value == pytest.approx((200 / 3 + 75) / 2)
    assert results.criteria[0].value == pytest.approx(75)  # mean of items 50 and 100
    assert results.criteria[0].valid_count == 5
    assert result.overall == pytest.approx(((200 / 3 + 75) / 2 + 75) / 2)
    assert result.response_count == 4
    assert access.label == {"vi": "Tiếp cận dịch vụ", "en": "Access"}
    assert results.label is None


def test_weights_change_the_share():
    answers = pd.DataFrame({"q1": [5, 1, np.nan], "q2": [4, 4, 4], "q3": [1, 1, 1], "q4": [np.nan] * 3})
    weights = pd.Series([3.0, 1.0, 100.0])
    result = compute_indices(answers, SCORING, weights=weights)
    # q1: weight 3 satisfied out of 3+1 valid; the N/A row's weight stays out of the denominator.
    assert result.factors[0].criteria[0].value == pytest.approx(75)
    assert result.factors[1].value == pytest.approx(0)


def test_missing_items_and_empty_criteria_are_left_out():
    answers = pd.DataFrame({"q1": [np.nan, np.nan], "q2": [5, 1]})  # q3, q4 absent from the frame
    result = compute_indices(answers, SCORING)
    access, results = result.factors
    assert access.criteria[0].value is None
    assert access.criteria[0].valid_count == 0
    assert access.value == pytest.approx(50)  # only access_2 counts
    assert results.value is None
    assert results.criteria[0].valid_count == 0
    assert result.overall == pytest.approx(50)  # results factor left out


def test_empty_frame_gives_none_everywhere():
    result = compute_indices(pd.DataFrame(), SCORING)
    assert result.overall is None
    assert result.response_count == 0
    assert all(factor.value is None for factor in result.factors)
    assert result.se is None and result.ci_low is None and result.ci_high is None


def test_to_dict_is_json_able():
    answers = pd.DataFrame({"q1": [5, 4], "q2": [1, 5], "q3": [4, 4], "q4": [2, 2]})
    payload = compute_indices(answers, SCORING).to_dict()
    text = json.dumps(payload)
    assert json.loads(text)["factors"][0]["criteria"][0]["items"] == ["q1"]
    assert payload["overall"] == pytest.approx((75 + 50) / 2)
    assert set(payload["factors"][0]) >= {"key", "label", "value", "criteria", "se", "ci_low", "ci_high"}


def test_out_of_range_rating_is_refused_with_the_fix():
    answers = pd.DataFrame({"q1": [5, 9]})
    with pytest.raises(ValueError, match="Recode"):
        compute_indices(answers, SCORING)


def test_bad_weights_are_refused():
    answers = pd.DataFrame({"q1": [5, 4]})
    with pytest.raises(ValueError, match="weights"):
        compute_indices(answers, SCORING, weights=pd.Series([1.0, -1.0]))
    with pytest.raises(ValueError, match="one weight per response"):
        compute_indices(answers, SCORING, weights=pd.Series([1.0]))


def test_zero_weights_everywhere_gives_none_not_nan():
    answers = pd.DataFrame({"q1": [5, 4]})
    result = compute_indices(answers, SCORING, weights=pd.Series([0.0, 0.0]))
    assert result.factors[0].criteria[0].value is None
    assert result.overall is None or not math.isnan(result.overall)
