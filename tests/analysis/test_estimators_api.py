"""Estimators against R survey's published results on the api data.

Sources (R output as printed):
  [api.Rout.save]  cran/survey tests/api.Rout.save (example(api)), https://github.com/cran/survey/blob/master/tests/api.Rout.save
  [vignette]       cran/survey inst/doc/survey.tex, vignette "A survey analysis example"
  [deff.Rout.save] cran/survey tests/deff.Rout.save
Tolerance: relative 5e-5 on estimates and SEs, i.e. agreement to the 4–5 significant digits R prints.
"""

import numpy as np
import pandas as pd
import pytest

from analysis import estimators
from analysis.design import SurveyDesign

from .conftest import significant

RELATIVE = 5e-5


def near(expected):
    return pytest.approx(expected, rel=RELATIVE)


@pytest.mark.parametrize(
    "design_name, statistic, variable, value, se",
    [
        ("dstrat", "mean", "api00", 662.29, 9.4089),  # svymean(~api00, dstrat) [api.Rout.save]
        ("dstrat", "total", "enroll", 3687178, 114642),  # svytotal(~enroll, dstrat) [api.Rout.save]
        ("dclus1", "mean", "api00", 644.17, 23.542),  # svymean(~api00, dclus1) [api.Rout.save]
        ("dclus1", "total", "enroll", 3404940, 932235),  # svytotal(~enroll, dclus1) [api.Rout.save]
        ("dclus2", "mean", "api00", 670.81, 30.099),  # svymean(~api00, dclus2) [api.Rout.save]
        ("dclus2", "total", "enroll", 2639273, 799638),  # svytotal(~enroll, dclus2, na.rm=TRUE) [api.Rout.save]
    ],
)
def test_mean_and_total_match_r(request, design_name, statistic, variable, value, se):
    design = request.getfixturevalue(design_name)
    estimate = getattr(estimators, statistic)(design, variable, na_rm=True)
    assert estimate.value == pytest.approx(value, rel=1e-5)
    assert estimate.se == near(se)


def test_design_effect_matches_r():
    # [deff.Rout.save] kigyo data, svydesign(ids=~1, weights=~srs.w): svymean(~uriage, deff=TRUE) 113.700 (35.626)
    # DEff 1.0101; svytotal 113700 (35626) DEff 1.0101. (The 9.3459 deff of dclus1 once quoted here had no source.)
    kigyo = pd.DataFrame({"uriage": [15, 143, 21, 51, 337, 50, 274, 145, 15, 86], "srs_w": 100.0})
    design = SurveyDesign.from_frame(kigyo, weights="srs_w")
    mean = estimators.mean(design, "uriage", deff=True)
    total = estimators.total(design, "uriage", deff=True)
    assert (mean.value, mean.se, mean.deff) == (significant(113.700), significant(35.626), significant(1.0101))
    assert (total.value, total.se, total.deff) == (significant(113700), significant(35626), significant(1.0101))


def test_totals_of_a_factor_and_a_domain_ratio_match_the_vignette(dclus1):
    # [vignette] svytotal(~stype, dclus1): E 4873.97 (1333.32), H 473.86 (158.70), M 846.17 (167.55)
    totals = estimators.by(dclus1.__class__(dclus1.data.assign(one=1.0), dclus1.weights, dclus1.stages), "stype", "total", "one")
    for level, (value, se) in {"E": (4873.97, 1333.32), "H": (473.86, 158.70), "M": (846.17, 167.55)}.items():
        assert (totals[level].value, totals[level].se) == (significant(value), significant(se))
    # [vignette] svyratio(~api.stu, ~enroll, design=subset(dclus1, stype == "H")): 0.8300683 (0.01472607)
    high_schools = estimators.ratio(dclus1, "api.stu", "enroll", domain=dclus1.data["stype"] == "H")
    assert high_schools.value == pytest.approx(0.8300683, rel=1e-6)
    assert high_schools.se == pytest.approx(0.01472607, rel=1e-6)


def test_ratio_matches_r(dclus1):
    # svyratio(~api.stu, ~enroll, dclus1): 0.8497087, SE 0.008386297 [vignette]
    estimate = estimators.ratio(dclus1, "api.stu", "enroll")
    assert estimate.value == pytest.approx(0.8497087, rel=1e-6)
    assert estimate.se == pytest.approx(0.008386297, rel=1e-6)


def test_domain_means_match_r_svyby(dclus1):
    # [vignette] svyby(~ell + meals, ~stype, design = dclus1, svymean)
    expected = {"ell": {"E": (29.69444, 1.411617), "H": (15.00000, 5.347065), "M": (22.68000, 2.952862)},
                "meals": {"E": (53.09028, 7.070399), "H": (37.57143, 5.912262), "M": (43.08000, 6.017110)}}
    for variable, levels in expected.items():
        result = estimators.by(dclus1, "stype", "mean", variable)
        for level, (value, se) in levels.items():
            assert result[level].value == pytest.approx(value, rel=1e-6)
            assert result[level].se == pytest.approx(se, rel=1e-6)


def test_domain_keeps_rows_rather_than_dropping_them(dclus1):
    # Dropping rows would lose the PSUs with no high school and understate the SE.
    in_domain = estimators.mean(dclus1, "api00", domain=dclus1.data["stype"] == "H")
    by_domain = estimators.by(dclus1, "stype", "mean", "api00")["H"]
    assert in_domain.se == pytest.approx(by_domain.se)
    assert in_domain.count == 14


def test_proportion_has_logit_interval_inside_zero_one(dclus1):
    shares = estimators.proportion(dclus1, "sch.wide")
    assert shares["No"].value + shares["Yes"].value == pytest.approx(1)
    assert shares["No"].se == pytest.approx(shares["Yes"].se)
    assert 0 < shares["No"].ci_low < shares["No"].value < shares["No"].ci_high < 1


def test_empty_domain_is_a_clear_error(dclus1):
    with pytest.raises(ValueError, match="empty"):
        estimators.mean(dclus1, "api00", domain=dclus1.data["stype"] == "nothing")


def test_missing_values_need_na_rm(dclus2):
    with pytest.raises(ValueError, match="na_rm=True"):
        estimators.total(dclus2, "enroll")


@pytest.mark.parametrize("design_name", ["dstrat", "dclus1", "dclus2"])
def test_whole_sample_fast_path_equals_the_general_path(request, design_name):
    # The prebuilt-design mean uses per-unit sums instead of row scores; a domain covering every row takes the
    # general path, so the two routes must agree to rounding on one- and two-stage designs.
    design = request.getfixturevalue(design_name)
    fast = estimators.mean(design, "api00")
    general = estimators.mean(design, "api00", domain=np.ones(design.row_count, dtype=bool))
    assert fast.value == pytest.approx(general.value, rel=1e-12)
    assert fast.se == pytest.approx(general.se, rel=1e-10)


def test_fast_path_falls_back_on_missing_values(dclus2):
    with pytest.raises(ValueError, match="na_rm=True"):
        estimators.mean(dclus2, "enroll")
    assert estimators.mean(dclus2, "enroll", na_rm=True).count == dclus2.row_count - int(dclus2.data["enroll"].isna().sum())
