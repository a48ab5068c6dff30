"""`survey estimate` for svyglm, svyquantile, svychisq, deff, PPS designs and replicate weights, against R's figures.

Sources: [vignette] cran/survey inst/doc/survey.pdf "A survey analysis example" (2025): summary(svyglm(...)) and
svyquantile on dclus1; [svychisq] R's svychisq help example output; [deff] tests/deff.Rout.save;
[pps] tests/pps.Rout.save; [api] tests/api.Rout.save (rclus1, rclus1p); [rakecheck] tests/rakecheck.Rout.save (rclus1g).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from survey_app.cli import app
from tests.analysis.conftest import significant

DATA = Path(__file__).resolve().parents[1] / "data"
CLUS1 = [str(DATA / "apiclus1.csv"), "--cluster", "dnum", "--weights", "pw", "--fpc", "fpc"]
TYPES = "variable,level,count\nstype,E,4421\nstype,H,755\nstype,M,1018\n"
MARGINS = TYPES + "sch.wide,No,1072\nsch.wide,Yes,5122\n"


def run(*arguments: str):
    return CliRunner().invoke(app, ["estimate", *arguments])


def output(*arguments: str) -> dict:
    result = run(*arguments, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def by_level(rows: list[dict]) -> dict:
    return {row["level"]: row for row in rows}


def test_linear_and_logistic_svyglm_through_the_command():
    rows = output(*CLUS1, "--regress", "api00 ~ ell + meals", "--logistic", "sch.wide=Yes ~ ell + meals")["estimates"]
    linear = by_level([row for row in rows if row["statistic"] == "svyglm"])
    # [vignette] summary(svyglm(api00~ell+meals, design=dclus1)): 817.1823 (18.6709), -0.5088 (0.3259), -3.1456 (0.3018)
    assert (linear["intercept"]["estimate"], linear["intercept"]["se"]) == (significant(817.1823, 7), significant(18.6709, 6))
    assert (linear["ell"]["estimate"], linear["ell"]["se"]) == (significant(-0.5088, 4), significant(0.3259, 4))
    assert linear["meals"]["p_value"] == significant(2.29e-07, 3)
    logistic = by_level([row for row in rows if row["statistic"] == "logistic"])
    # [vignette] logistic: 1.899557 (0.509915) p 0.00290; ell 0.039925 (0.012443) p 0.00751; meals -0.019115 (0.008825) p 0.05117
    assert logistic["intercept"]["estimate"] == significant(1.899557, 7)
    assert logistic["intercept"]["se"] == significant(0.509915, 5)  # R's IRLS stops one step early: last digit may differ
    assert (logistic["ell"]["se"], logistic["meals"]["se"]) == (significant(0.012443, 5), significant(0.008825, 4))
    assert (logistic["ell"]["p_value"], logistic["meals"]["p_value"]) == (significant(0.00751, 3), significant(0.05117, 4))


def test_quantiles_chisq_and_deff_through_the_command():
    result = output(*CLUS1, "--quantile", "api00", "--quantiles", "0.25,0.5,0.75", "--chisq", "sch.wide+stype")
    quantiles = by_level(result["estimates"])
    # [vignette] svyquantile(~api00, dclus1, c(.25,.5,.75), ci=TRUE): 552 [492, 627] 31.47166; 652 [561, 714] 35.66788
    assert [quantiles[0.25][key] for key in ("estimate", "ci_low", "ci_high")] == [552, 492, 627]
    assert quantiles[0.5]["se"] == significant(35.66788, 7)
    # [svychisq] F = 5.1934, ndf = 1.4946, ddf = 20.9250, p-value = 0.02175; X-squared = 11.941, p-value = 0.005553
    [test] = result["tests"]
    assert (test["F"], test["ndf"], test["ddf"], test["p_value"]) == (
        significant(5.1934, 5), significant(1.4946, 5), significant(20.9250, 6), significant(0.02175, 4))
    assert (test["X2"], test["df"], test["p_value_chisq"]) == (significant(11.941, 5), 2, significant(0.005553, 4))
    table = run(*CLUS1, "--chisq", "sch.wide+stype").output
    assert "F = 5.1934, ndf = 1.4946, ddf = 20.9250, p = 0.02175" in table


def test_deff_replace_through_the_command(tmp_path):
    kigyo = tmp_path / "kigyo.csv"
    pd.DataFrame({"uriage": [15, 143, 21, 51, 337, 50, 274, 145, 15, 86],
                  "pps_w": [20, 200, 11, 25, 550, 30, 250, 100, 10, 55]}).to_csv(kigyo, index=False)
    mean, total = output(str(kigyo), "--weights", "pps_w", "--mean", "uriage", "--total", "uriage", "--deff-replace")["estimates"]
    # [deff] svymean(~uriage, des.pps, deff='replace'): 243.914 48.752 1.9741; svytotal: 305136 184965 18.157
    assert (mean["estimate"], mean["se"], mean["deff"]) == (significant(243.914, 6), significant(48.752, 5), significant(1.9741, 5))
    assert (total["se"], total["deff"]) == (significant(184965, 6), significant(18.157, 5))


@pytest.mark.parametrize("method, extra, ses", [
    ("brewer", [], (2447629, 102420)), ("overton", [], (2939608, 104373)), ("hartley-rao", [], (2472753, 102595))])
def test_pps_designs_through_the_command(method, extra, ses):
    rows = output(str(DATA / "election_pps.csv"), "--pps", method, "--probabilities", "p", *extra, "--total", "Bush", "--total", "Nader")["estimates"]
    # [pps] svytotal(~Bush+Kerry+Nader, dpps_br / dpps_ov / dpps_hr1)
    assert [row["se"] for row in rows] == [pytest.approx(se, abs=0.5) for se in ses]


def test_pps_joint_probabilities_file_and_its_errors(tmp_path):
    election = pd.read_csv(DATA / "election_pps.csv")
    joint = np.outer(election["p"], election["p"]) * 0.95
    np.fill_diagonal(joint, election["p"])
    path = tmp_path / "joint.csv"
    pd.DataFrame(joint).to_csv(path, header=False, index=False)
    assert output(str(DATA / "election_pps.csv"), "--pps", "ht", "--probabilities", "p", "--joint-probabilities", str(path), "--total", "Bush")
    joint[2, 7] = joint[7, 2] = 0.5  # above π_7
    pd.DataFrame(joint).to_csv(path, header=False, index=False)
    result = run(str(DATA / "election_pps.csv"), "--pps", "ht", "--probabilities", "p", "--joint-probabilities", str(path), "--total", "Bush")
    assert result.exit_code == 1 and "π[2,7]" in result.output and "inconsistent" in result.output
    bad = tmp_path / "bad.csv"
    election.assign(p=election["p"].where(election.index != 4, 1.2)).to_csv(bad, index=False)
    result = run(str(bad), "--pps", "brewer", "--probabilities", "p", "--total", "Bush")
    assert result.exit_code == 1 and "'p', row 6" in result.output and "above 1" in result.output


def test_jackknife_with_post_stratification_and_raking_redone_per_replicate(tmp_path):
    types, margins = tmp_path / "types.csv", tmp_path / "margins.csv"
    types.write_text(TYPES)
    margins.write_text(MARGINS)
    arguments = (*CLUS1, "--mean", "api00", "--total", "enroll", "--variance", "jackknife", "--post-stratify", str(types))
    mean, total = output(*arguments, "--mse")["estimates"]
    # [api] (current api.Rout.save, options(survey.replicates.mse=TRUE)): svymean(~api00, rclus1p) 642.31 (26.936);
    # svytotal(~enroll, rclus1p) 3680893 (473434)
    assert (mean["estimate"], mean["se"]) == (significant(642.31, 5), significant(26.936, 5))
    assert (total["estimate"], total["se"]) == (pytest.approx(3680893, abs=0.5), pytest.approx(473434, abs=0.5))
    mean, total = output(*arguments)["estimates"]
    # [api] mse=FALSE: 642.31 (26.934), 3680893 (473431). Here 26.93454: R's last digit differs by 1 (2·10⁻⁶ relative).
    assert mean["se"] == pytest.approx(26.934, rel=5e-5)
    assert total["se"] == pytest.approx(473431, abs=0.5)
    mean, total = output(*CLUS1, "--mean", "api00", "--total", "enroll", "--variance", "jackknife", "--rake", str(margins))["estimates"]
    # [rakecheck] calibrate(rclus1, ~stype+sch.wide, poptotals, calfun="raking") — raking to convergence:
    # svymean 641.23 (26.874), svytotal 3647280 (463582). (R's rake() stops at margin error < 1 and prints 26.873.)
    assert (mean["estimate"], mean["se"]) == (significant(641.23, 5), significant(26.874, 5))
    assert (total["estimate"], total["se"]) == (pytest.approx(3647280, abs=0.5), pytest.approx(463582, abs=0.5))


def _jk1_columns(tmp_path) -> str:
    """apiclus1 with R's as.svrepdesign(dclus1) JK1 weights written out by their definition: drop district d, × 15/14."""
    data = pd.read_csv(DATA / "apiclus1.csv")
    districts = sorted(data["dnum"].unique())
    for number, district in enumerate(districts):
        data[f"repw{number + 1}"] = np.where(data["dnum"] == district, 0.0, data["pw"] * 15 / 14)
    path = tmp_path / "jk1.csv"
    data.to_csv(path, index=False)
    return str(path)


def test_replicate_weight_columns_are_read(tmp_path):
    path = _jk1_columns(tmp_path)
    scale = str((1 - 15 / 757) * 14 / 15)  # as.svrepdesign(dclus1): JK1 scale (n−1)/n times the fpc (1 − f)
    [mean] = output(path, "--weights", "pw", "--replicate-weights", "^repw[0-9]+$", "--replicate-type", "JK1",
                    "--replicate-scale", scale, "--mean", "api00")["estimates"]
    # [api] svymean(~api00, rclus1) 644.17 (26.329)
    assert (mean["estimate"], mean["se"]) == (significant(644.17, 5), significant(26.329, 5))
    types = tmp_path / "types.csv"
    types.write_text(TYPES)
    [mean] = output(path, "--weights", "pw", "--replicate-weights", "^repw", "--replicate-type", "JK1", "--replicate-scale", scale,
                    "--mean", "api00", "--post-stratify", str(types))["estimates"]
    # [api] svymean(~api00, rclus1p) 642.31 (26.934): post-stratification redone in each given replicate
    assert (mean["estimate"], mean["se"]) == (significant(642.31, 5), pytest.approx(26.934, rel=5e-5))


def test_replicate_weight_errors_name_the_column_or_replicate(tmp_path):
    path = _jk1_columns(tmp_path)
    result = run(path, "--weights", "pw", "--replicate-weights", "^nothing", "--mean", "api00")
    assert result.exit_code == 1 and "No column name matches" in result.output
    negative = pd.read_csv(path)
    negative.loc[4, "repw3"] = -1.0
    negative.to_csv(tmp_path / "negative.csv", index=False)
    result = run(str(tmp_path / "negative.csv"), "--weights", "pw", "--replicate-weights", "^repw", "--mean", "api00")
    assert result.exit_code == 1 and "'repw3', row 6: '-1.0' is not a weight" in result.output  # data row 4 = CSV row 6
    result = run(path, "--weights", "pw", "--replicate-weights", "^repw", "--replicate-type", "Fay", "--mean", "api00")
    assert result.exit_code == 1 and "--fay-rho" in result.output
    result = run(path, "--weights", "pw", "--replicate-weights", "^repw", "--quantile", "api00")
    assert result.exit_code == 1 and "--quantile" in result.output and "Taylor" in result.output
    result = run(path, "--weights", "pw", "--replicate-weights", "^repw", "--mean", "api00", "--variance", "bootstrap")
    assert result.exit_code == 0  # the given columns win; the variance line names them
    assert "variance: JK1" in result.output


def test_raking_that_cannot_converge_names_its_iterations(tmp_path):
    # Every high school is a "Yes": 5000 high schools cannot coexist with only 1194 "Yes" schools; IPF never settles.
    data = pd.read_csv(DATA / "apiclus1.csv")
    data.loc[data["stype"] == "H", "sch.wide"] = "Yes"
    path, margins = tmp_path / "data.csv", tmp_path / "margins.csv"
    data.to_csv(path, index=False)
    margins.write_text("variable,level,count\nstype,E,600\nstype,H,5000\nstype,M,594\nsch.wide,No,5000\nsch.wide,Yes,1194\n")
    design = [str(path), "--cluster", "dnum", "--weights", "pw", "--fpc", "fpc", "--mean", "api00", "--rake", str(margins)]
    result = run(*design)
    assert result.exit_code == 1
    assert "did not converge in 100 iterations" in result.output
    result = run(*design, "--variance", "jackknife")
    assert result.exit_code == 1
    assert "did not converge in 100 iterations" in result.output


def test_nonresponse_from_statuses_and_trimming_through_the_command(tmp_path):
    # The hand-worked sample of tests/analysis/test_nonresponse.py: respondents' weights 18.75, 18.75, 16/3 × 3.
    sample = pd.DataFrame({
        "unit": ["a"] * 5 + ["b"] * 4,
        "status": ["pending", "ineligible", "refused", "completed", "completed", "not_reached", "completed", "completed", "completed"],
        "w": [10.0] * 5 + [4.0] * 4, "y": [0, 0, 0, 1.0, 3.0, 0, 2.0, 2.0, 5.0]})
    path = tmp_path / "sample.csv"
    sample.to_csv(path, index=False)
    result = output(str(path), "--weights", "w", "--nonresponse", "status", "--nonresponse-cells", "unit", "--total", "y")
    [total] = result["estimates"]
    assert total["estimate"] == pytest.approx(18.75 * 4 + 16 / 3 * 9)
    assert result["weighting"][0]["respondents"] == 5 and result["rows"] == 5
    trimmed = output(str(path), "--weights", "w", "--nonresponse", "status", "--nonresponse-cells", "unit", "--trim", ":15", "--total", "y")
    assert trimmed["weighting"][1]["after"]["maximum"] <= 15 + 1e-9
    assert trimmed["weighting"][1]["after"]["total"] == pytest.approx(53.5)
    bad = run(str(path), "--weights", "w", "--nonresponse", "y", "--total", "y")
    assert bad.exit_code == 1 and "'y', row 2: status '0.0' is not one of" in bad.output  # data row 0 = CSV row 2
    assert "--trim 'x'" in run(str(path), "--weights", "w", "--trim", "x", "--total", "y").output


def test_regression_errors_are_plain(tmp_path):
    result = run(*CLUS1, "--logistic", "api00 ~ ell")
    assert result.exit_code == 1 and "coded 0/1; found values [411.0, 436.0" in result.output
    result = run(*CLUS1, "--regress", "api00 ~ ell + ell")
    assert result.exit_code == 1 and "collinear" in result.output
    result = run(*CLUS1, "--regress", "api00 ell")
    assert result.exit_code == 1 and "write OUTCOME ~ PREDICTOR" in result.output
