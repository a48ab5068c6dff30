"""SIPAS indices with a survey design: SEs equal the ratio estimator's, by group as domains."""

import numpy as np
import pandas as pd
import pytest

from analysis import estimators
from analysis.design import SurveyDesign
from analysis.sipas import compute_indices, compute_indices_by

from .conftest import read_api

SCORING = {
    "key": "sipas",
    "factors": [
        {"key": "access", "criteria": [{"key": "access_1", "items": ["q1"]}, {"key": "access_2", "items": ["q2"]}]},
        {"key": "results", "criteria": [{"key": "results_1", "items": ["q3"]}]},
    ],
}


@pytest.fixture(scope="module")
def rated():
    """apiclus1 with synthetic 1..5 ratings derived from school data, some N/A, and its design."""
    data = read_api("apiclus1")
    data["q1"] = np.ceil(data["api00"].rank(pct=True) * 5)
    data["q2"] = np.where(data["meals"] > 80, np.nan, np.ceil(data["ell"].rank(pct=True) * 5))
    data["q3"] = np.ceil(data["enroll"].rank(pct=True, na_option="keep") * 5)
    data["satisfied_1"] = (data["q1"] >= 4).astype(float)
    data["valid_1"] = 1.0
    data["satisfied_2"] = (data["q2"] >= 4).astype(float)
    data["valid_2"] = data["q2"].notna().astype(float)
    design = SurveyDesign.from_frame(data, clusters="dnum", weights="pw", fpc="fpc")
    return data, design


def test_item_se_equals_ratio_estimator(rated):
    data, design = rated
    result = compute_indices(data, SCORING, design=design)
    item_one = estimators.ratio(design, "satisfied_1", "valid_1")
    item_two = estimators.ratio(design, "satisfied_2", "valid_2")
    access = result.factors[0]
    assert access.criteria[0].value == pytest.approx(100 * item_one.value)
    assert access.criteria[0].se == pytest.approx(100 * item_one.se)
    assert access.criteria[1].se == pytest.approx(100 * item_two.se)
    assert access.criteria[0].ci_low < access.criteria[0].value < access.criteria[0].ci_high


def test_factor_se_is_that_of_the_mean_of_items(rated):
    data, design = rated
    item_one = estimators.ratio(design, "satisfied_1", "valid_1").value
    item_two = estimators.ratio(design, "satisfied_2", "valid_2").value
    weights = design.weights
    scores = 0.5 * weights * (data["satisfied_1"] - item_one) / weights.sum()
    scores += 0.5 * weights * (data["satisfied_2"] - item_two * data["valid_2"]) / (weights * data["valid_2"]).sum()
    from analysis.variance import standard_errors

    expected = 100 * standard_errors(design, scores.to_numpy())[0]
    assert compute_indices(data, SCORING, design=design).factors[0].se == pytest.approx(expected)


def test_weights_without_design_give_same_values(rated):
    data, design = rated
    with_design = compute_indices(data, SCORING, design=design)
    with_weights = compute_indices(data, SCORING, weights=pd.Series(design.weights))
    assert with_design.overall == pytest.approx(with_weights.overall)
    assert with_weights.se is None
    assert with_design.se > 0 and with_design.ci_low < with_design.overall < with_design.ci_high


def test_groups_are_domains_of_the_whole_design(rated):
    data, design = rated
    by_type = compute_indices_by(data, SCORING, "stype", design=design)
    expected = estimators.by(design, "stype", "ratio", "satisfied_2", denominator="valid_2")
    assert set(by_type) == {"E", "H", "M"}
    for level, estimate in expected.items():
        criterion = by_type[level].factors[0].criteria[1]
        assert criterion.value == pytest.approx(100 * estimate.value)
        assert criterion.se == pytest.approx(100 * estimate.se)
    assert sum(result.response_count for result in by_type.values()) == len(data)


def test_groups_without_design_and_json(rated):
    data, _ = rated
    by_type = compute_indices_by(data, SCORING, data["stype"])
    assert by_type["H"].response_count == 14
    assert by_type["E"].to_dict()["factors"][1]["criteria"][0]["se"] is None


def test_design_and_weights_together_are_refused(rated):
    data, design = rated
    with pytest.raises(ValueError, match="not both"):
        compute_indices(data, SCORING, weights=pd.Series(design.weights), design=design)


def test_interval_stays_inside_zero_hundred(rated):
    data, design = rated
    data = data.assign(q1=5.0, q2=np.where(np.arange(len(data)) == 0, 1.0, 5.0))
    result = compute_indices(data, SCORING, design=design)
    near_full = result.factors[0].criteria[1]
    assert 0 <= near_full.ci_low < near_full.value <= near_full.ci_high <= 100
    full = result.factors[0].criteria[0]
    assert full.value == 100 and full.ci_high == 100



@pytest.mark.parametrize("questionnaire", ["par_index_so", "par_index_huyen"])
def test_a_group_where_everyone_answered_5_has_index_100_and_a_ci_around_it(questionnaire):
    """Issue #25: with the shipped PAR INDEX maps, the mean of seven factor shares of 1.0 came out
    0.9999999999999999 (index 99.99999999999999) with a lower bound of 100.0 (or 100 with bounds below it), and
    the dashboard's error bar went negative."""
    from analysis.sipas import scoring_items
    from questionnaires import load_shipped

    scoring = load_shipped()[questionnaire].scoring_dict()
    everyone_5 = pd.DataFrame(5.0, index=range(6), columns=scoring_items(scoring)).assign(
        weight=1.0, unit=["A", "A", "A", "B", "B", "B"])
    design = SurveyDesign.from_frame(everyone_5, weights="weight")
    by_unit = compute_indices_by(everyone_5, scoring, "unit", design=design)
    for result in (*by_unit.values(), compute_indices(everyone_5, scoring, design=design)):
        assert result.overall == 100.0 and result.ci_low <= 100.0 == result.ci_high
        for factor in result.factors:
            assert factor.value == 100.0 and factor.ci_low <= 100.0 == factor.ci_high
