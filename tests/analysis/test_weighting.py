"""Weighting steps against R survey (postStratify, rake, calibrate) and by their defining properties.

Sources (R output as printed):
  [api.Rout.save]       cran/survey tests/api.Rout.save (example(api)): postStratify(dclus1, ~stype, pop.types)
  [rakecheck.Rout.save] cran/survey tests/rakecheck.Rout.save: rake / calibrate(calfun="raking") on dclus1
  [vignette]            cran/survey inst/doc/survey.tex ("A survey analysis example"): calibrate(dclus1, ~api99, ...)
  [domain]              cran/survey inst/doc/domain.pdf ("Estimates in subpopulations"): calibrate(dclus1, ~stype+api99)
  [trimWeights]         the example of R's help page ?trimWeights as run on https://rdrr.io/cran/survey/man/trimWeights.html:
                        summary(weights(...)) of calibrate(dclus1, ~stype+api99, ...) and trimWeights(lower=20, upper=45)
"""

import numpy as np
import pandas as pd
import pytest

from analysis import estimators, weighting
from analysis.weighting import WeightingError

from .conftest import significant

SCHOOL_TYPES = {"E": 4421, "H": 755, "M": 1018}
SCHOOL_WIDE = {"No": 1072, "Yes": 5122}


def test_post_stratify_matches_r_dclus1(dclus1):
    # [api.Rout.save] postStratify(dclus1, ~stype, pop.types); svymean(~api00) = 642.31 (SE 23.921)
    design = weighting.post_stratify(dclus1, "stype", SCHOOL_TYPES).design
    estimate = estimators.mean(design, "api00")
    assert estimate.value == pytest.approx(642.31, rel=1e-5)
    assert estimate.se == pytest.approx(23.921, rel=5e-5)


def test_post_stratified_total_matches_r(dclus1):
    # [api.Rout.save] svytotal(~enroll, dclus1p, na.rm=TRUE) = 3680893 (SE 406293). The dclus2 figure
    # 3074076 (292584) once quoted here had no published source and was dropped.
    design = weighting.post_stratify(dclus1, "stype", SCHOOL_TYPES).design
    estimate = estimators.total(design, "enroll", na_rm=True)
    assert estimate.value == significant(3680893, digits=7)
    assert estimate.se == significant(406293, digits=6)


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


def test_greg_on_a_numeric_auxiliary_matches_the_vignette(dclus1):
    # [vignette] gclus1 <- calibrate(dclus1, formula = ~api99, population = c(6194, 3914069))
    design = weighting.calibrate(dclus1, ["api99"], {"intercept": 6194, "api99": 3914069}).design
    mean = estimators.mean(design, "api00")  # svymean(~api00, gclus1): 666.72 (3.2959)
    assert (mean.value, mean.se) == (significant(666.72, 5), significant(3.2959, 5))
    total = estimators.total(design, "enroll")  # svytotal(~enroll, gclus1): 3357372 (243227)
    assert (total.value, total.se) == (significant(3357372, 7), significant(243227, 6))
    ratio = estimators.ratio(design, "api.stu", "enroll")  # svyratio(~api.stu, ~enroll, gclus1): 0.8506941 (0.008674888)
    assert (ratio.value, ratio.se) == (significant(0.8506941, 7), significant(0.008674888, 7))
    counts = estimators.by(design.__class__(design.data.assign(one=1.0), design.weights, design.stages, calibrations=design.calibrations),
                           "stype", "total", "one")  # svytotal(~stype, gclus1): E 4881.77 (302.15), H 463.35 (183.03), M 848.88 (194.76)
    for level, (value, se) in {"E": (4881.77, 302.15), "H": (463.35, 183.03), "M": (848.88, 194.76)}.items():
        assert (counts[level].value, counts[level].se) == (significant(value, 5), significant(se, 5))


def test_greg_on_school_type_and_api99_matches_the_domain_vignette(dclus1):
    # [domain] svymean(~api00, subset(gclus1, comp.imp == "Yes")) = 672.05 (6.5182), gclus1 = calibrate(dclus1,
    # ~stype+api99, c(pop.totals, api99=3914069))
    totals = {"intercept": 6194, "stype[H]": 755, "stype[M]": 1018, "api99": 3914069}
    design = weighting.calibrate(dclus1, ["stype", "api99"], totals).design
    estimate = estimators.mean(design, "api00", domain=design.data["comp.imp"] == "Yes")
    assert (estimate.value, estimate.se) == (significant(672.05, 5), significant(6.5182, 5))


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
    # [rakecheck.Rout.save] dclus1r <- rake(dclus1, list(~stype, ~sch.wide), ...); svymean(~api00) = 641.23 (23.704).
    # R's rake stops at epsilon=1 (one unit of weight); the converged calibrate(calfun="raking") run prints
    # svytotal(~enroll) = 3647280 (400603), which is what a fully converged rake gives.
    mean = estimators.mean(raked.design, "api00")
    assert (mean.value, mean.se) == (significant(641.23, 5), significant(23.704, 5))
    total = estimators.total(raked.design, "enroll")
    assert (total.value, total.se) == (significant(3647280, 7), significant(400603, 6))


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


TRIM_EXAMPLE_TOTALS = {"intercept": 6194, "stype[H]": 755, "stype[M]": 1018, "api99": 3914069}


def _r_summary(weights) -> list[float]:
    """R's summary(): min, 1st quartile, median, mean, 3rd quartile, max (quantile type 7 = numpy's linear)."""
    quartiles = np.percentile(weights, [0, 25, 50, 75, 100])
    return [quartiles[0], quartiles[1], quartiles[2], float(np.mean(weights)), quartiles[3], quartiles[4]]


def test_trim_matches_r_trimweights_example(dclus1):
    # [trimWeights] summary(weights(dclus1g)): 14.17 25.91 33.58 33.85 40.23 62.05
    calibrated = weighting.calibrate(dclus1, ["stype", "api99"], TRIM_EXAMPLE_TOTALS).design
    assert _r_summary(calibrated.weights) == [significant(value) for value in (14.17, 25.91, 33.58, 33.85, 40.23, 62.05)]
    # trimWeights(dclus1g, lower=20, upper=45): 20.00 26.82 34.48 33.85 41.13 45.74 (one pass: trimmings shared
    # equally by the weights inside, which may push some above the bound)
    once = weighting.trim(calibrated, lower=20, upper=45, strict=False)
    assert _r_summary(once.design.weights) == [significant(value) for value in (20.00, 26.82, 34.48, 33.85, 41.13, 45.74)]
    # strict=TRUE: the printed minimum is 20.01 (the weights set to 20 share the next pass's trimmings)
    strict = weighting.trim(calibrated, lower=20, upper=45)
    assert strict.design.weights.min() == significant(20.01)
    assert strict.design.weights.max() <= 45 and strict.report["outside_after"] == 0
    assert strict.after.total == pytest.approx(calibrated.weights.sum())


def test_rake_that_cannot_converge_names_the_margin_off(dclus1):
    with pytest.raises(WeightingError, match=r"in 1 iterations: margin '(stype|sch.wide)' is off by"):
        weighting.rake(dclus1, {"stype": SCHOOL_TYPES, "sch.wide": SCHOOL_WIDE}, max_iterations=1, tolerance=1e-14)


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
