"""Replicate designs re-adjusted per replicate, and replicate weights read from columns.

[api] cran/survey tests/api.Rout.save (current): rclus1p <- postStratify(as.svrepdesign(dclus1), ~stype, pop.types),
      with survey.replicates.mse=TRUE: svymean(~api00) 642.31 (26.936), svytotal(~enroll) 3680893 (473434).
[rakecheck] tests/rakecheck.Rout.save: rclus1g <- calibrate(rclus1, ~stype+sch.wide, poptotals, calfun="raking"):
      svymean(~api00) 641.23 (26.874), svytotal(~enroll) 3647280 (463582) — raking to convergence.
For linear statistics, BRR (full orthogonal balance), Fay and the JKn jackknife reproduce the with-replacement
Taylor variance exactly (Wolter 2007, ch. 3–4); the Taylor engine itself is checked against R elsewhere.
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import hadamard

from analysis import estimators, replicate, weighting
from analysis.design import SurveyDesign

from .conftest import read_api, significant

TYPES = {"E": 4421, "H": 755, "M": 1018}


def test_post_stratified_jackknife_matches_r(dclus1):
    adjusted = replicate.post_stratify(replace(replicate.jackknife(dclus1, use_fpc=True), mse=True), "stype", TYPES)
    mean, total = replicate.replicate_mean(adjusted, "api00"), replicate.replicate_total(adjusted, "enroll")
    assert (mean.value, mean.se) == (significant(642.31, 5), significant(26.936, 5))
    assert (total.value, total.se) == (pytest.approx(3680893, abs=0.5), pytest.approx(473434, abs=0.5))


def test_raked_jackknife_matches_r_raking_calibration(dclus1):
    margins = {"stype": TYPES, "sch.wide": {"No": 1072, "Yes": 5122}}
    adjusted = replicate.rake(replicate.jackknife(dclus1, use_fpc=True), margins)
    mean, total = replicate.replicate_mean(adjusted, "api00"), replicate.replicate_total(adjusted, "enroll")
    assert (mean.value, mean.se) == (significant(641.23, 5), significant(26.874, 5))
    assert (total.value, total.se) == (pytest.approx(3647280, abs=0.5), pytest.approx(463582, abs=0.5))
    # every replicate meets the margins
    weights = adjusted.replicate_weights
    for level, count in TYPES.items():
        assert weights[(adjusted.design.data["stype"] == level).to_numpy()].sum(axis=0) == pytest.approx(np.full(15, count))


def test_a_replicate_that_loses_a_post_stratum_is_named():
    data = read_api("apiclus1")
    lonely_high = data.loc[data["stype"] == "H", "dnum"].unique()[:1]
    data = data[(data["stype"] != "H") | data["dnum"].isin(lonely_high)]  # high schools in one district only
    design = SurveyDesign.from_frame(data, clusters="dnum", weights="pw")
    with pytest.raises(weighting.WeightingError, match=r"Replicate \d+ has no weight in cell 'H' of stype"):
        replicate.post_stratify(replicate.jackknife(design), "stype", TYPES)


def _paired_design():
    """apiclus2's 40 districts paired into 20 strata of two PSUs, sampled with replacement."""
    data = read_api("apiclus2")
    districts = sorted(data["dnum"].unique())
    data["pair"] = data["dnum"].map({district: position // 2 for position, district in enumerate(districts)})
    return SurveyDesign.from_frame(data, clusters="dnum", strata="pair", weights="pw")


def _brr_columns(design, rho: float = 0.0):
    """Replicate columns: in replicate r, the PSU chosen by a Hadamard sign gets 2 − ρ, its partner ρ."""
    signs = hadamard(32)[:, 1:21]  # 32 replicates, one column per stratum: full orthogonal balance
    data = design.data
    first_of_pair = data.groupby("pair")["dnum"].transform("min").to_numpy() == data["dnum"].to_numpy()
    columns = {}
    for row in range(32):
        chosen = np.where(signs[row][data["pair"].to_numpy()] > 0, first_of_pair, ~first_of_pair)
        columns[f"brr{row}"] = design.weights * np.where(chosen, 2 - rho, rho)
    return replace(design, data=data.assign(**columns))


@pytest.mark.parametrize("method, rho", [("BRR", 0.0), ("Fay", 0.5), ("Fay", 0.3)])
def test_brr_and_fay_columns_give_the_with_replacement_variance_of_a_total(method, rho):
    design = _brr_columns(_paired_design(), rho)
    replicates = replicate.from_columns(design, "^brr", method, fay_rho=rho if method == "Fay" else None)
    taylor = estimators.total(design, "api00")
    assert replicate.replicate_total(replicates, "api00").se == pytest.approx(taylor.se, rel=1e-10)


def test_jkn_columns_read_their_scales_from_the_weights(dstrat):
    design = SurveyDesign.from_frame(read_api("apistrat"), strata="stype", weights="pw")  # with replacement
    built = replicate.jackknife(design)
    columns = pd.DataFrame(built.replicate_weights, columns=[f"jk{r}" for r in range(built.replicate_count)])
    data = pd.concat([design.data, columns], axis=1)
    read = replicate.from_columns(replace(design, data=data), "^jk", "JKn")
    taylor = estimators.total(design, "enroll", na_rm=True)
    assert replicate.replicate_total(read, "enroll").se == pytest.approx(taylor.se, rel=1e-10)
    assert read.replicate_scales == pytest.approx(built.replicate_scales)


def test_bad_replicate_columns_are_named(dclus1):
    data = dclus1.data.assign(r1=dclus1.weights, r2=dclus1.weights)
    data.loc[5, "r2"] = -1.0
    with pytest.raises(replicate.ReplicateError, match=r"'r2', row 5"):
        replicate.from_columns(replace(dclus1, data=data), ["r1", "r2"], "JK1")
    with pytest.raises(replicate.ReplicateError, match="not one of"):
        replicate.from_columns(dclus1, ["pw", "fpc"], "SDR")
    with pytest.raises(replicate.ReplicateError, match="singleton stratum"):
        replicate.jackknife(SurveyDesign.from_frame(read_api("apistrat").assign(one=lambda frame: frame.index == 0), strata="one", weights="pw"))
