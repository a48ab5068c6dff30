"""analysis.weighting_plan: calibration then trimming as one plan, with diagnostics, against R survey on the api data.

Sources (R output as printed): [rakecheck.Rout.save] cran/survey tests/rakecheck.Rout.save — rake(dclus1,
list(~stype, ~sch.wide), ...): svymean(~api00) 641.23 (SE 23.704); [trimWeights] the ?trimWeights example as run on
https://rdrr.io/cran/survey/man/trimWeights.html — trimWeights(calibrate(dclus1, ~stype+api99, ...), lower=20,
upper=45, strict=TRUE): weights from 20.01 (summary's minimum).
"""

import numpy as np
import pytest

from analysis import estimators, weighting
from analysis.weighting_plan import calibrate_and_trim, describe, margin_column

from .conftest import read_api, significant

SCHOOL_TYPES = {"E": 4421, "H": 755, "M": 1018}
SCHOOL_WIDE = {"No": 1072, "Yes": 5122}


def test_plan_rake_step_matches_r_rake_and_reports_iterations_and_margins(dclus1):
    data = read_api("apiclus1")
    weights, [step] = calibrate_and_trim(data, data["pw"], method="rake", margins={"stype": SCHOOL_TYPES, "sch.wide": SCHOOL_WIDE},
                                         unit_column="dnum")
    design = weighting.rake(dclus1, {"stype": SCHOOL_TYPES, "sch.wide": SCHOOL_WIDE}).design
    assert weights == pytest.approx(design.weights, rel=1e-12)
    estimate = estimators.mean(design, "api00")
    print(f"\nrake: mean api00 {estimate.value:.5g} (SE {estimate.se:.5g}); R 641.23 (23.704)")
    assert (estimate.value, estimate.se) == (significant(641.23, 5), significant(23.704, 5))
    assert step.after["total"] == pytest.approx(6194) and step.after["population"] == 6194
    assert step.details["iterations"] >= 2 and step.details["converged"]
    assert {hit["margin"] for hit in step.details["margins"]} == {"stype", "sch.wide"}
    assert max(hit["max_relative_error"] for hit in step.details["margins"]) < 1e-8
    assert set(step.after["effective_n_by_unit"]) == {str(value) for value in data["dnum"].unique()}


def test_plan_linear_then_trim_matches_r_trimweights(dclus1):
    data = read_api("apiclus1")
    totals = {"stype": {"E": 6194 - 755 - 1018, "H": 755, "M": 1018}}
    weights, [calibrated, trimmed] = calibrate_and_trim(data, data["pw"], method="linear", margins=totals, lower=20, upper=45)
    direct = weighting.calibrate(dclus1, ["stype"], {"intercept": 6194, "stype[H]": 755, "stype[M]": 1018}).design
    assert calibrated.after["total"] == pytest.approx(direct.weights.sum())
    assert weights == pytest.approx(weighting.trim(direct, lower=20, upper=45).design.weights, rel=1e-12)
    assert weights.min() >= 20 and weights.max() <= 45 and trimmed.details["trimmed"] > 0
    assert trimmed.after["total"] == pytest.approx(trimmed.before["total"])


def test_trim_step_on_the_r_example_weights(dclus1):
    calibrated = weighting.calibrate(dclus1, ["stype", "api99"], {"intercept": 6194, "stype[H]": 755, "stype[M]": 1018,
                                                                  "api99": 3914069}).design
    weights, [step] = calibrate_and_trim(calibrated.data, calibrated.weights, method=None, margins={}, lower=20, upper=45)
    print(f"\ntrimWeights(strict=TRUE): min {weights.min():.4g} (R 20.01), max {weights.max():.4g}")
    assert weights.min() == significant(20.01) and step.warnings == ()
    assert step.before["maximum"] == significant(62.05)


def test_describe_gives_kish_deff_and_effective_n_per_unit():
    weights = np.array([1.0, 1.0, 2.0, 4.0])
    summary = describe(weights, ["a", "a", "b", "b"], population_total=10.0)
    assert summary["kish_deff"] == pytest.approx(4 * 22 / 64)  # n Σw² / (Σw)² = 1 + CV²
    assert summary["kish_deff"] == pytest.approx(1 + (weights.std() / weights.mean()) ** 2)
    assert summary["effective_n"] == pytest.approx(64 / 22)
    assert summary["effective_n_by_unit"] == {"a": 2.0, "b": pytest.approx(36 / 20)}
    assert (summary["minimum"], summary["median"], summary["maximum"], summary["ratio"]) == (1.0, 1.5, 4.0, 4.0)


def test_crossed_margin_and_warnings():
    import pandas as pd

    frame = pd.DataFrame({"unit": ["A", "A", "B", "B", "B", "B", "B", "B"], "domain": ["x", "y"] + ["x"] * 6})
    assert margin_column(frame, "unit×domain").tolist()[:3] == ["A/x", "A/y", "B/x"]
    counts = {"unit×domain": {"A/x": 10, "A/y": 30, "B/x": 60}}
    weights, [step, trimmed] = calibrate_and_trim(frame, np.ones(8), method="post_stratify", margins=counts, upper=20)
    assert step.warnings == ("small_cells:unit×domain:A/x,A/y", "above_bound:1:20")  # A/y's one response: 30
    assert trimmed.warnings == () and weights.max() <= 20 and weights.sum() == pytest.approx(100)
