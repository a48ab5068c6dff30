"""Weighting-class non-response adjustment from sampling statuses, checked by hand (Valliant et al. 2013, §13.4)."""

import numpy as np
import pandas as pd
import pytest

from analysis.design import SurveyDesign
from analysis.nonresponse import adjust_for_statuses
from analysis.weighting import WeightingError

# Class a: weights 10 each; 1 pending, 1 ineligible, 1 refused, 2 completed.
# Step 1: unknown → known: factor 50/40 = 1.25 → known weights 12.5.
# Step 2: eligible (refused + 2 completed = 37.5) over respondents (25): factor 1.5 → respondents 18.75 each.
# Class b: weights 4; 1 not_reached, 3 completed → factor 16/12 → respondents 5.333…
SAMPLE = pd.DataFrame({
    "unit": ["a"] * 5 + ["b"] * 4,
    "status": ["pending", "ineligible", "refused", "completed", "completed", "not_reached", "completed", "completed", "completed"],
    "w": [10.0] * 5 + [4.0] * 4,
    "y": [0, 0, 0, 1.0, 3.0, 0, 2.0, 2.0, 5.0],
})


def test_two_step_adjustment_by_hand():
    design = SurveyDesign.from_frame(SAMPLE, weights="w")
    adjusted = adjust_for_statuses(design, "status", "unit")
    assert adjusted.design.row_count == 5
    assert adjusted.design.weights == pytest.approx([18.75, 18.75, 16 / 3, 16 / 3, 16 / 3])
    assert adjusted.report["eligibility_factor"] == {"a": pytest.approx(1.25), "b": 1.0}
    assert adjusted.report["response_factor"] == {"a": 1.5, "b": pytest.approx(4 / 3)}
    # The ineligible case's share (12.5) is out of the population: respondents carry 50 − 12.5 + 16.
    assert adjusted.design.weights.sum() == pytest.approx(53.5)


def test_without_classes_everyone_shares_one_factor():
    adjusted = adjust_for_statuses(SurveyDesign.from_frame(SAMPLE, weights="w"), "status")
    assert adjusted.report["cells"] == 1
    assert np.unique(adjusted.design.weights / SAMPLE.loc[SAMPLE["status"] == "completed", "w"].to_numpy()).size == 1


def test_bad_statuses_and_empty_classes_are_named():
    bad = SAMPLE.assign(status=SAMPLE["status"].where(SAMPLE.index != 6, "done"))
    with pytest.raises(WeightingError, match=r"'status', row 6: status 'done' is not one of"):
        adjust_for_statuses(SurveyDesign.from_frame(bad, weights="w"), "status", "unit")
    no_respondent = SAMPLE.assign(status=np.where(SAMPLE["unit"] == "b", "refused", SAMPLE["status"]))
    with pytest.raises(WeightingError, match="class 'b' has eligible cases but no respondent"):
        adjust_for_statuses(SurveyDesign.from_frame(no_respondent, weights="w"), "status", "unit")
    only_pending = SAMPLE.assign(status=np.where(SAMPLE["unit"] == "b", "pending", SAMPLE["status"]))
    with pytest.raises(WeightingError, match="class 'b' has cases of unknown eligibility but none of known"):
        adjust_for_statuses(SurveyDesign.from_frame(only_pending, weights="w"), "status", "unit")
