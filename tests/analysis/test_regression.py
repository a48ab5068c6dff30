"""svyglm equivalent against R survey's published output (design-based SEs from the one Taylor engine).

Sources (figures printed by R, copied with the digits R shows):
  [vignette] R survey vignette "A survey analysis example", cran/survey inst/doc/survey.tex
             (https://github.com/cran/survey/blob/master/inst/doc/survey.tex): svyglm on dclus1, with fpc.
  [regression] "Regression models", http://r-survey.r-forge.r-project.org/survey/example-regression.html:
             svyglm on dclus2 <- svydesign(id=~dnum+snum, weights=~pw, data=apiclus2) (with replacement).
  [domain]   R survey vignette "Estimates in subpopulations", cran/survey inst/doc/domain.pdf:
             svyglm(api00~comp.imp-1) on calibrate(dclus1, ~stype+api99, ...).
Tolerance: 4 significant digits (conftest.significant). R's glm stops IRLS one step before the final fit, so its
last printed digits of a logistic SE can differ by one unit.
"""

import numpy as np
import pytest

from analysis import estimators, weighting
from analysis.design import SurveyDesign
from analysis.regression import svyglm

from .conftest import read_api, significant


def _check(fit, expected: dict) -> None:
    table = fit.table().set_index("term")
    for term, (coefficient, se) in expected.items():
        assert table.loc[term, "coefficient"] == significant(coefficient), term
        assert table.loc[term, "se"] == significant(se), term


def test_linear_svyglm_on_one_stage_cluster_with_fpc(dclus1):
    # [vignette] summary(svyglm(api00 ~ ell + meals, design = dclus1))
    _check(svyglm(dclus1, "api00", ["ell", "meals"]),
           {"intercept": (817.1823, 18.6709), "ell": (-0.5088, 0.3259), "meals": (-3.1456, 0.3018)})


def test_logistic_svyglm_on_one_stage_cluster(dclus1):
    # [vignette] summary(svyglm(I(sch.wide == "Yes") ~ ell + meals, design = dclus1, family = quasibinomial()))
    data = dclus1.data.assign(met_target=(dclus1.data["sch.wide"] == "Yes").astype(float))
    design = SurveyDesign.from_frame(data, clusters="dnum", weights="pw", fpc="fpc")
    _check(svyglm(design, "met_target", ["ell", "meals"], family="binomial"),
           {"intercept": (1.899557, 0.509917), "ell": (0.039925, 0.012442), "meals": (-0.019115, 0.008825)})


def test_linear_svyglm_on_two_stage_with_replacement():
    # [regression] summary(svyglm(api00 ~ ell + meals + mobility, design = dclus2)), dclus2 with weights, no fpc
    design = SurveyDesign.from_frame(read_api("apiclus2"), clusters=["dnum", "snum"], weights="pw")
    _check(svyglm(design, "api00", ["ell", "meals", "mobility"]),
           {"intercept": (811.4907, 30.8795), "ell": (-2.0592, 1.4075), "meals": (-1.7772, 1.1053), "mobility": (0.3253, 0.5305)})
    # [regression] summary(svyglm(api00 ~ stype - 1, dclus2)): domain means as coefficients
    _check(svyglm(design, "api00", ["stype"], intercept=False),
           {"stype[E]": (692.81, 30.28), "stype[H]": (598.34, 16.96), "stype[M]": (642.35, 45.34)})


def test_svyglm_after_greg_calibration_equals_domain_mean(dclus1):
    # [domain] svyglm(api00 ~ comp.imp - 1, gclus1): No 649.706 (12.563), Yes 672.049 (6.518);
    # svymean(~api00, subset(gclus1, comp.imp == "Yes")) = 672.05 (6.5182)
    totals = {"intercept": 6194, "stype[H]": 755, "stype[M]": 1018, "api99": 3914069}
    calibrated = weighting.calibrate(dclus1, ["stype", "api99"], totals).design
    _check(svyglm(calibrated, "api00", ["comp.imp"], intercept=False),
           {"comp.imp[No]": (649.706, 12.563), "comp.imp[Yes]": (672.049, 6.518)})
    domain_mean = estimators.mean(calibrated, "api00", domain=calibrated.data["comp.imp"] == "Yes")
    assert domain_mean.value == significant(672.05)
    assert domain_mean.se == significant(6.5182)


def test_rows_with_missing_values_stay_in_the_design_with_zero_score():
    data = read_api("apiclus1")
    data.loc[[3, 40], "ell"] = np.nan
    design = SurveyDesign.from_frame(data, clusters="dnum", weights="pw", fpc="fpc")
    fit = svyglm(design, "api00", ["ell", "meals"])
    assert fit.count == len(data) - 2
    assert np.isfinite(fit.standard_errors).all()


def test_logistic_needs_a_zero_one_outcome(dclus1):
    with pytest.raises(ValueError, match="coded 0/1"):
        svyglm(dclus1, "api00", ["ell"], family="binomial")


def test_unknown_column_and_family_are_named(dclus1):
    with pytest.raises(ValueError, match="not in the data"):
        svyglm(dclus1, "api00", ["nope"])
    with pytest.raises(ValueError, match="family"):
        svyglm(dclus1, "api00", ["ell"], family="poisson")
