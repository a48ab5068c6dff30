"""svyquantile (Woodruff), svychisq (Rao–Scott) and deff against R survey's printed figures.

Sources (copied with every digit R prints):
  [vignette] R survey vignette "A survey analysis example" (Lumley, 28 Aug 2025), cran/survey inst/doc/survey.pdf:
             svyquantile(~api00, dclus1, quantile=c(0.25,0.5,0.75), ci=TRUE) and the same on
             gclus1 <- calibrate(dclus1, formula=~api99, population=c(6194, 3914069)).
  [svychisq] R survey's svychisq help page example, svychisq(~sch.wide+stype, dclus1), output as R prints it
             (statistic "F" and "Chisq"), and svytable(~sch.wide+stype, dclus1).
  [deff]     cran/survey tests/deff.Rout.save (Takahiro Tsuchiya's kigyo data, typed in below as in deff.R).
"""

import pandas as pd
import pytest

from analysis import estimators, weighting
from analysis.crosstab import svychisq
from analysis.design import SurveyDesign
from analysis.quantiles import quantile

from .conftest import significant


@pytest.mark.parametrize("share, value, low, high, se", [
    (0.25, 552, 492, 627, 31.47166), (0.5, 652, 561, 714, 35.66788), (0.75, 719, 696, 777, 18.88300)])
def test_woodruff_quantiles_match_the_vignette(dclus1, share, value, low, high, se):
    estimate = quantile(dclus1, "api00", share)
    assert (estimate.value, estimate.ci_low, estimate.ci_high) == (value, low, high)
    assert estimate.se == significant(se, 7)


@pytest.mark.parametrize("share, value, low, high, se", [
    (0.25, 595, 561, 627, 15.386145), (0.5, 684, 664, 698, 7.926196), (0.75, 737, 722, 759, 8.625566)])
def test_woodruff_quantiles_after_calibration_match_the_vignette(dclus1, share, value, low, high, se):
    calibrated = weighting.calibrate(dclus1, ["api99"], {"intercept": 6194, "api99": 3914069}).design
    estimate = quantile(calibrated, "api00", share)
    assert (estimate.value, estimate.ci_low, estimate.ci_high) == (value, low, high)
    assert estimate.se == significant(se, 7)


def test_quantile_outside_zero_one_is_refused(dclus1):
    with pytest.raises(ValueError, match="between 0 and 1"):
        quantile(dclus1, "api00", 1.5)


def test_rao_scott_test_matches_svychisq(dclus1):
    test = svychisq(dclus1, "sch.wide", "stype")
    # [svychisq] F = 5.1934, ndf = 1.4946, ddf = 20.9250, p-value = 0.02175
    assert test.f_statistic == significant(5.1934, 5)
    assert test.numerator_df == significant(1.4946, 5)
    assert test.denominator_df == significant(20.9250, 6)
    assert test.f_p_value == significant(0.02175, 4)
    # [svychisq] statistic="Chisq": X-squared = 11.941, df = 2, p-value = 0.005553
    assert test.pearson == significant(11.941, 5)
    assert test.pearson_df == 2
    assert test.chisq_p_value == significant(0.005553, 4)
    # [svychisq] svytable(~sch.wide+stype, dclus1): No/E 406.1640, Yes/M 575.3989
    assert test.table.loc["No", "E"] == significant(406.1640, 7)
    assert test.table.loc["Yes", "M"] == significant(575.3989, 7)


def test_rao_scott_needs_two_levels(dclus1):
    with pytest.raises(ValueError, match="two observed levels"):
        svychisq(dclus1.__class__.from_frame(dclus1.data.assign(one="x"), clusters="dnum", weights="pw", fpc="fpc"), "one", "stype")


KIGYO = pd.DataFrame({"uriage": [15, 143, 21, 51, 337, 50, 274, 145, 15, 86], "srs_w": [100] * 10,
                      "pps_w": [20, 200, 11, 25, 550, 30, 250, 100, 10, 55]})


def test_design_effects_match_deff_rout_save():
    srs = SurveyDesign.from_frame(KIGYO, weights="srs_w")
    mean, total = estimators.mean(srs, "uriage", deff=True), estimators.total(srs, "uriage", deff=True)
    # [deff] svymean(~uriage, des.srs, deff=TRUE): 113.700 35.626 1.0101; svytotal: 113700 35626 1.0101
    assert (mean.value, mean.se, mean.deff) == (significant(113.700, 6), significant(35.626, 5), significant(1.0101, 5))
    assert (total.value, total.se, total.deff) == (significant(113700, 6), significant(35626, 5), significant(1.0101, 5))
    pps = SurveyDesign.from_frame(KIGYO, weights="pps_w")
    mean, total = estimators.mean(pps, "uriage", deff="replace"), estimators.total(pps, "uriage", deff="replace")
    # [deff] deff='replace': mean 243.914 48.752 1.9741; total 305136 184965 18.157
    assert (mean.value, mean.se, mean.deff) == (significant(243.914, 6), significant(48.752, 5), significant(1.9741, 5))
    assert (total.value, total.se, total.deff) == (significant(305136, 6), significant(184965, 6), significant(18.157, 5))
