"""Estimators against R survey's published results on the api data (Lumley; survey package docs).

Tolerance: relative 5e-5 on estimates and SEs, i.e. agreement to the 4–5 significant digits R prints.
"""

import pytest

from analysis import estimators

RELATIVE = 5e-5


def near(expected):
    return pytest.approx(expected, rel=RELATIVE)


@pytest.mark.parametrize(
    "design_name, statistic, variable, value, se",
    [
        ("dsrs", "mean", "api00", 656.585, 9.2497),  # svymean(~api00, dsrs)
        ("dstrat", "mean", "api00", 662.29, 9.4089),  # svymean(~api00, dstrat)
        ("dstrat", "total", "enroll", 3687178, 114642),  # svytotal(~enroll, dstrat)
        ("dclus1", "mean", "api00", 644.17, 23.542),  # svymean(~api00, dclus1)
        ("dclus1", "total", "enroll", 3404940, 932235),  # svytotal(~enroll, dclus1)
        ("dclus2", "mean", "api00", 670.81, 30.099),  # svymean(~api00, dclus2)
        ("dclus2", "total", "enroll", 2639273, 799638),  # svytotal(~enroll, dclus2, na.rm=TRUE)
    ],
)
def test_mean_and_total_match_r(request, design_name, statistic, variable, value, se):
    design = request.getfixturevalue(design_name)
    estimate = getattr(estimators, statistic)(design, variable, na_rm=True)
    assert estimate.value == pytest.approx(value, rel=1e-5)
    assert estimate.se == near(se)


def test_design_effect_matches_r(dclus1, dsrs):
    # svymean(~api00, dclus1, deff=TRUE): deff 9.3459; an SRS design has deff 1.
    assert estimators.mean(dclus1, "api00", deff=True).deff == pytest.approx(9.3459, rel=1e-4)
    assert estimators.mean(dsrs, "api00", deff=True).deff == pytest.approx(1.0)


def test_ratio_matches_r(dclus1):
    # svyratio(~api.stu, ~enroll, dclus1): 0.8497087, SE 0.008386297
    estimate = estimators.ratio(dclus1, "api.stu", "enroll")
    assert estimate.value == pytest.approx(0.8497087, rel=1e-6)
    assert estimate.se == pytest.approx(0.008386297, rel=1e-6)


def test_domain_means_match_r_svyby(dclus1):
    # svyby(~api00, ~stype, dclus1, svymean)
    result = estimators.by(dclus1, "stype", "mean", "api00")
    expected = {"E": (648.8681, 22.36241), "H": (618.5714, 38.02025), "M": (631.4400, 31.60947)}
    for level, (value, se) in expected.items():
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
