"""Weighting steps against R survey (postStratify, calibrate) and by their defining properties."""

import numpy as np
import pandas as pd
import pytest

from analysis import estimators, weighting
from analysis.weighting import WeightingError

SCHOOL_TYPES = {"E": 4421, "H": 755, "M": 1018}
SCHOOL_WIDE = {"No": 1072, "Yes": 5122}


def test_post_stratify_matches_r_dclus1(dclus1):
    # postStratify(dclus1, ~stype, pop.types); svymean(~api00) = 642.31 (SE 23.921)
    design = weighting.post_stratify(dclus1, "stype", SCHOOL_TYPES).design
    estimate = estimators.mean(design, "api00")
    assert estimate.value == pytest.approx(642.31, rel=1e-5)
    assert estimate.se == pytest.approx(23.921, rel=5e-5)


def test_post_stratify_matches_r_dclus2(dclus2):
    # postStratify(dclus2, ~stype, pop.types); svytotal(~enroll, na.rm=TRUE) = 3074076 (SE 292584)
    design = weighting.post_stratify(dclus2, "stype", SCHOOL_TYPES).design
    estimate = estimators.total(design, "enroll", na_rm=True)
    assert estimate.value == pytest.approx(3074076, rel=1e-6)
    assert estimate.se == pytest.approx(292584, rel=5e-6)


def test_post_stratify_accepts_r_style_population_frame(dclus1):
    population = pd.DataFrame({"stype": ["E", "H", "M"], "Freq": [4421, 755, 1018]})
    weighted = weighting.post_stratify(dclus1, "stype", population)
    assert weighted.after.total == pytest.approx(6194)
    assert weighted.before.cv == pytest.approx(0, abs=1e-12)
    assert weighted.after.effective_n < weighted.before.effective_n


def test_linear_calibration_on_one_factor_equals_post_stratification(dclus1):
    # R documents calibrate(dclus1, ~stype, pop.totals) as equivalent to postStratify.
    totals = {"intercept": 6194, "stype[H]": 755, "stype[M]": 1018}
    calibrated = estimators.mean(weighting.calibrate(dclus1, ["stype"], totals).design, "api00")
    assert calibrated.value == pytest.approx(642.31, rel=1e-5)
    assert calibrated.se == pytest.approx(23.921, rel=5e-5)


def test_linear_calibration_hits_numeric_totals(dclus1):
    totals = {"intercept": 6194, "stype[H]": 755, "stype[M]": 1018, "api99": 3914069}
    design = weighting.calibrate(dclus1, ["stype", "api99"], totals).design
    assert estimators.total(design, "api99").value == pytest.approx(3914069)
    assert estimators.total(design, "api99").se == pytest.approx(0, abs=1e-4)  # calibrated totals have no variance


def test_calibration_needs_every_total(dclus1):
    with pytest.raises(WeightingError, match="lacks"):
        weighting.calibrate(dclus1, ["stype"], {"intercept": 6194})


def test_rake_converges_to_margins_and_reports(dclus1):
    raked = weighting.rake(dclus1, {"stype": SCHOOL_TYPES, "sch.wide": SCHOOL_WIDE})
    assert raked.report["converged"]
    assert raked.report["iterations"] < 100
    for variable, margin in {"stype": SCHOOL_TYPES, "sch.wide": SCHOOL_WIDE}.items():
        sums = pd.Series(raked.design.weights).groupby(raked.design.data[variable]).sum()
        assert sums.to_dict() == pytest.approx(margin)
    # R rake example on dclus1 (stype, sch.wide): svymean(~api00) = 641.23, value recalled, SE not verified
    assert estimators.mean(raked.design, "api00").value == pytest.approx(641.23, abs=0.005)


def test_rake_on_one_margin_is_post_stratification(dclus1):
    raked = estimators.mean(weighting.rake(dclus1, {"stype": SCHOOL_TYPES}).design, "api00")
    post_stratified = estimators.mean(weighting.post_stratify(dclus1, "stype", SCHOOL_TYPES).design, "api00")
    assert raked.value == pytest.approx(post_stratified.value)
    assert raked.se == pytest.approx(post_stratified.se)


def test_rake_refuses_margins_with_different_totals(dclus1):
    with pytest.raises(WeightingError, match="same population total"):
        weighting.rake(dclus1, {"stype": SCHOOL_TYPES, "sch.wide": {"No": 1, "Yes": 5122}})


def test_rake_that_cannot_converge_raises_or_warns(dclus1):
    margins = {"stype": SCHOOL_TYPES, "sch.wide": SCHOOL_WIDE}
    with pytest.raises(WeightingError, match="did not converge"):
        weighting.rake(dclus1, margins, max_iterations=1, tolerance=1e-14)
    with pytest.warns(weighting.ConvergenceWarning):
        result = weighting.rake(dclus1, margins, max_iterations=1, tolerance=1e-14, on_failure="warn")
    assert not result.report["converged"]


def test_empty_post_stratum_is_a_clear_error(dclus1):
    with pytest.raises(WeightingError, match="no sampled rows"):
        weighting.post_stratify(dclus1, "stype", {**SCHOOL_TYPES, "K": 10})
    with pytest.raises(WeightingError, match="no population count"):
        weighting.post_stratify(dclus1, "stype", {"E": 4421, "H": 755})


def test_trim_caps_and_keeps_the_total(dclus1):
    raked = weighting.rake(dclus1, {"stype": SCHOOL_TYPES, "sch.wide": SCHOOL_WIDE}).design
    trimmed = weighting.trim(raked, upper=45)
    assert trimmed.after.maximum <= 45 + 1e-9
    assert trimmed.after.total == pytest.approx(trimmed.before.total)
    assert trimmed.after.cv < trimmed.before.cv


def test_trim_with_impossible_bounds_says_so(dclus1):
    with pytest.raises(WeightingError, match="widen"):
        weighting.trim(dclus1, upper=30)


def test_nonresponse_adjustment_keeps_cell_totals(dstrat):
    responded = np.arange(dstrat.row_count) % 4 != 0
    adjusted = weighting.adjust_nonresponse(dstrat, responded, cells="stype")
    before = pd.Series(dstrat.weights).groupby(dstrat.data["stype"]).sum()
    after = pd.Series(adjusted.design.weights).groupby(adjusted.design.data["stype"]).sum()
    assert after.to_dict() == pytest.approx(before.to_dict())
    assert adjusted.design.row_count == responded.sum()
    assert estimators.mean(adjusted.design, "api00").se > 0


def test_nonresponse_cell_without_respondents_is_refused(dstrat):
    responded = (dstrat.data["stype"] != "H").to_numpy()
    with pytest.raises(WeightingError, match="merge"):
        weighting.adjust_nonresponse(dstrat, responded, cells="stype")


def test_weighting_returns_a_new_design(dclus1):
    original = dclus1.weights.copy()
    weighting.post_stratify(dclus1, "stype", SCHOOL_TYPES)
    assert np.array_equal(dclus1.weights, original)
