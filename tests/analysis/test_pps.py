"""PPS without replacement against R survey's tests/pps.Rout.save (election_pps data, 40 counties, p = π_i).

[pps.Rout.save] cran/survey tests/pps.Rout.save, svytotal(~Bush+Kerry+Nader, design) for:
  dpps_br  <- svydesign(id=~1, fpc=~p, data=election_pps, pps="brewer")
  dpps_ov  <- svydesign(id=~1, fpc=~p, data=election_pps, pps="overton")
  dpps_hr1 <- svydesign(id=~1, fpc=~p, data=election_pps, pps=HR())
  dpps_hr  <- ... pps=HR(sum(election$p^2)/40);  dpps_hryg <- the same with variance="YG"
and the subsets subset(dpps, Nader>0). R's `election` population (for Σp²) and `election_jointprob` are not in our
data; HR(psum) is checked by solving Σp²/40 from R's Bush SE and comparing the five other printed SEs, and
Horvitz–Thompson with joint probabilities by giving the joint probabilities of stratified simple random sampling
without replacement, π_ij = n_h(n_h−1)/(N_h(N_h−1)), which must reproduce R's dstrat figures [api.Rout.save].
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import estimators
from analysis.pps import pps_design

from .conftest import read_api

ELECTION = pd.read_csv(Path(__file__).resolve().parents[1] / "data" / "election_pps.csv")
CANDIDATES = ("Bush", "Kerry", "Nader")
TOTALS = (64518472, 51202102, 478530)


def _totals(design, domain=None):
    return [estimators.total(design, name, domain=domain) for name in CANDIDATES]


@pytest.mark.parametrize("method, ses", [
    ("brewer", (2447629, 2450787, 102420)),
    ("overton", (2939608, 1964632, 104373)),
    ("hartley_rao", (2472753, 2426842, 102595)),  # HR(): Σπ²/n estimated by the sample mean of π
])
def test_pps_approximations_match_r(method, ses):
    totals = _totals(pps_design(ELECTION, "p", method=method))
    assert [total.value for total in totals] == [pytest.approx(value, abs=1) for value in TOTALS]  # R: 478530; here 478530.52
    assert [total.se for total in totals] == [pytest.approx(se, abs=0.5) for se in ses]


def test_brewer_with_given_weights_and_in_a_subset_matches_r():
    design = pps_design(ELECTION, "p", method="brewer", weights="wt")
    # svytotal(~Bush+Kerry+Nader, subset(dpps, Nader>0)): 34944285 (5399833), 25581714 (4028434), 478530 (102420)
    subset = _totals(design, domain=ELECTION["Nader"] > 0)
    assert [total.value for total in subset] == [pytest.approx(value, abs=1) for value in (34944285, 25581714, 478530)]
    assert [total.se for total in subset] == [pytest.approx(se, abs=0.5) for se in (5399833, 4028434, 102420)]


def test_hartley_rao_with_population_term_horvitz_thompson_and_yates_grundy_forms():
    def ses(p2, variance="HT"):
        return [total.se for total in _totals(pps_design(ELECTION, "p", method="hartley_rao", population_p2_mean=p2, variance=variance))]
    # The HT-form variance is linear in Σπ²/n: solve it from R's Bush SE (2624662), then check the other five figures.
    low, high = ses(0.05)[0] ** 2, ses(0.10)[0] ** 2
    p2 = 0.05 + (2624662**2 - low) / (high - low) * 0.05
    assert ses(p2)[1:] == [pytest.approx(2525222, abs=1.5), pytest.approx(102793, abs=0.5)]
    assert ses(p2, "YG") == [pytest.approx(2436738, abs=1.5), pytest.approx(2439845, abs=1.5), pytest.approx(102016, abs=0.5)]


def test_horvitz_thompson_with_stratified_srs_joint_probabilities_reproduces_dstrat():
    data = read_api("apistrat")
    sampled = data.groupby("stype")["stype"].transform("size").to_numpy(dtype=float)
    population = data["fpc"].to_numpy(dtype=float)
    data = data.assign(p=sampled / population)
    same_stratum = data["stype"].to_numpy()[:, None] == data["stype"].to_numpy()[None, :]
    joint = np.where(same_stratum, (sampled * (sampled - 1) / (population * (population - 1)))[:, None], np.outer(data["p"], data["p"]))
    np.fill_diagonal(joint, data["p"])
    design = pps_design(data, "p", method="ht", strata="stype", joint_probabilities=joint)
    # [api.Rout.save] svymean(~api00, dstrat) 662.29 (9.4089); svytotal(~enroll, dstrat) 3687178 (114642)
    mean, total = estimators.mean(design, "api00"), estimators.total(design, "enroll")
    assert (round(mean.value, 2), round(mean.se, 4)) == (662.29, 9.4089)
    assert (round(total.value), round(total.se)) == (3687178, 114642)


def test_bad_pps_input_names_its_cause():
    with pytest.raises(ValueError, match=r"row 0: .*p > 1"):
        pps_design(ELECTION.assign(p=ELECTION["p"].where(ELECTION.index != 0, 1.5)), "p")
    joint = np.outer(ELECTION["p"], ELECTION["p"]) * 0.9
    np.fill_diagonal(joint, ELECTION["p"])
    joint[3, 5] = joint[5, 3] = 0.99  # above min(π_3, π_5)
    with pytest.raises(ValueError, match=r"π\[3,5\].*exceeds the smaller.*inconsistent"):
        pps_design(ELECTION, "p", method="ht", joint_probabilities=joint)
    with pytest.raises(ValueError, match="singleton stratum"):
        pps_design(ELECTION.assign(region=["a"] + ["b"] * 39), "p", strata="region")
    with pytest.raises(ValueError, match="needs the joint inclusion probabilities"):
        pps_design(ELECTION, "p", method="ht")
