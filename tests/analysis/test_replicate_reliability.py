"""Replicate variance (JK1, bootstrap) and Cronbach's alpha."""

import numpy as np
import pandas as pd
import pytest

from analysis import estimators, replicate
from analysis.design import SurveyDesign
from analysis.reliability import alpha_by_factor, cronbach_alpha

from .conftest import read_api, significant


def test_jk1_total_equals_taylor_with_replacement():
    # For a total in a one-stage cluster sample, JK1 and the with-replacement Taylor variance coincide exactly.
    design = SurveyDesign.from_frame(read_api("apiclus1"), clusters="dnum", weights="pw")
    jackknifed = replicate.replicate_total(replicate.jackknife(design), "enroll")
    taylor = estimators.total(design, "enroll")
    assert jackknifed.value == pytest.approx(taylor.value)
    assert jackknifed.se == pytest.approx(taylor.se, rel=1e-10)


def test_jk1_mean_matches_r_as_svrepdesign(dclus1):
    # cran/survey tests/api.Rout.save: rclus1 <- as.svrepdesign(dclus1); svymean(~api00, rclus1) = 644.17 (26.329);
    # svytotal(~enroll, rclus1, na.rm=TRUE) = 3404940 (932235). R's JK1 scales by the design's (1 − f) (use_fpc=True).
    jackknife = replicate.jackknife(dclus1, use_fpc=True)
    mean = replicate.replicate_mean(jackknife, "api00")
    assert (mean.value, mean.se) == (significant(644.17, 5), significant(26.329, 5))
    total = replicate.replicate_total(jackknife, "enroll")
    assert (total.value, total.se) == (significant(3404940, 7), significant(932235, 6))


def test_jkn_on_stratified_design(dstrat):
    jackknifed = replicate.replicate_mean(replicate.jackknife(dstrat, use_fpc=True), "api00")
    assert jackknifed.se == pytest.approx(9.4089, rel=0.01)


def test_bootstrap_is_reproducible_and_sensible(dstrat):
    first = replicate.replicate_mean(replicate.bootstrap(dstrat, 200, np.random.default_rng(7)), "api00")
    second = replicate.replicate_mean(replicate.bootstrap(dstrat, 200, np.random.default_rng(7)), "api00")
    assert first.se == second.se
    assert first.se == pytest.approx(estimators.mean(dstrat, "api00").se / np.sqrt(1 - 200 / 6194), rel=0.2)


def test_cronbach_alpha_hand_example():
    items = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 2, 3, 5, 5], "c": [1, 3, 3, 4, np.nan]})
    complete = items.dropna()
    item_variances = complete.var(ddof=0).sum()
    total_variance = complete.sum(axis=1).var(ddof=0)
    assert cronbach_alpha(items) == pytest.approx(3 / 2 * (1 - item_variances / total_variance))


def test_identical_items_give_alpha_one_and_degenerate_cases_none():
    items = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 2, 3, 4]})
    assert cronbach_alpha(items) == pytest.approx(1)
    assert cronbach_alpha(items[["a"]]) is None
    assert cronbach_alpha(pd.DataFrame({"a": [3, 3], "b": [3, 3]})) is None


def test_alpha_by_factor_uses_the_scoring_map():
    answers = pd.DataFrame({"q1": [1, 2, 3, 5], "q2": [1, 3, 3, 5], "q3": [5, 1, 2, 2]})
    scoring = {"factors": [{"key": "f", "criteria": [{"key": "c1", "items": ["q1"]}, {"key": "c2", "items": ["q2"]}]},
                           {"key": "g", "criteria": [{"key": "c3", "items": ["q3", "missing"]}]}]}
    alphas = alpha_by_factor(answers, scoring)
    assert alphas["f"] > 0.9
    assert alphas["g"] is None
