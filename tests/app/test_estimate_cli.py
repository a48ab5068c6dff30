"""`survey estimate` on the R survey api CSVs, against R's published figures, and its refusals.

Sources: [api.Rout.save] cran/survey tests/api.Rout.save; [vignette] cran/survey inst/doc/survey.tex;
[rakecheck.Rout.save] cran/survey tests/rakecheck.Rout.save. No database: the command reads a CSV only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from survey_app.cli import app

DATA = Path(__file__).resolve().parents[1] / "data"
STRAT = ["--strata", "stype", "--weights", "pw", "--fpc", "fpc"]
CLUS1 = ["--cluster", "dnum", "--weights", "pw", "--fpc", "fpc"]
CLUS2 = ["--cluster", "dnum", "--cluster", "snum", "--fpc", "fpc1", "--fpc", "fpc2"]


def run(*arguments: str):
    return CliRunner().invoke(app, ["estimate", *arguments])


def figures(*arguments: str) -> list[dict]:
    result = run(*arguments, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["estimates"]


def four_digits(published: float):
    from tests.analysis.conftest import significant

    return significant(published, 4)


@pytest.mark.parametrize("csv, design, statistic, variable, value, se", [
    ("apistrat", STRAT, "--mean", "api00", 662.29, 9.4089),  # [api.Rout.save] svymean(~api00, dstrat)
    ("apistrat", STRAT, "--total", "enroll", 3687178, 114642),  # [api.Rout.save] svytotal(~enroll, dstrat)
    ("apiclus1", CLUS1, "--mean", "api00", 644.17, 23.542),  # [api.Rout.save] svymean(~api00, dclus1)
    ("apiclus1", CLUS1, "--total", "enroll", 3404940, 932235),  # [api.Rout.save] svytotal(~enroll, dclus1)
    ("apiclus2", CLUS2, "--mean", "api00", 670.81, 30.099),  # [api.Rout.save] svymean(~api00, dclus2)
])
def test_command_matches_r_published_figures(csv, design, statistic, variable, value, se):
    [figure] = figures(str(DATA / f"{csv}.csv"), *design, statistic, variable)
    assert figure["estimate"] == pytest.approx(value, rel=1e-5)
    assert figure["se"] == pytest.approx(se, rel=5e-5)
    assert figure["ci_low"] < value < figure["ci_high"]


def test_two_stage_total_with_missing_values_needs_na_rm():
    # [api.Rout.save] svytotal(~enroll, dclus2, na.rm=TRUE) = 2639273 (799638)
    result = run(str(DATA / "apiclus2.csv"), *CLUS2, "--total", "enroll")
    assert result.exit_code == 1
    assert "'enroll'" in result.output and "--na-rm" in result.output
    [figure] = figures(str(DATA / "apiclus2.csv"), *CLUS2, "--total", "enroll", "--na-rm")
    assert (figure["estimate"], figure["se"]) == (pytest.approx(2639273, rel=1e-6), pytest.approx(799638, rel=5e-6))


def test_ratio_and_domain_figures_match_the_vignette():
    csv = str(DATA / "apiclus1.csv")
    # [vignette] svyratio(~api.stu, ~enroll, dclus1) = 0.8497087 (0.008386297)
    [ratio] = figures(csv, *CLUS1, "--ratio", "api.stu/enroll")
    assert (ratio["estimate"], ratio["se"]) == (pytest.approx(0.8497087, rel=1e-6), pytest.approx(0.008386297, rel=1e-6))
    # [vignette] svyby(~ell+meals, ~stype, design=dclus1, svymean): ell E 29.69444 (1.411617), H 15 (5.347065)
    rows = {row["domain"]: row for row in figures(csv, *CLUS1, "--mean", "ell", "--by", "stype")}
    assert (rows["E"]["estimate"], rows["E"]["se"]) == (pytest.approx(29.69444, rel=1e-6), pytest.approx(1.411617, rel=1e-6))
    assert rows["H"]["se"] == pytest.approx(5.347065, rel=1e-6)


def test_proportions_by_level_sum_to_one_with_logit_intervals():
    rows = figures(str(DATA / "apiclus1.csv"), *CLUS1, "--proportion", "sch.wide", "--by", "stype")
    assert len(rows) == 6
    for domain in ("E", "H", "M"):
        shares = [row for row in rows if row["domain"] == domain]
        assert sum(row["estimate"] for row in shares) == pytest.approx(1)
        assert all(0 < row["ci_low"] < row["estimate"] < row["ci_high"] < 1 for row in shares)


def test_post_stratification_from_a_file_matches_r(tmp_path):
    # [api.Rout.save] postStratify(dclus1, ~stype, pop.types): svymean(~api00) 642.31 (23.921), svytotal(~enroll) 3680893 (406293)
    margins = tmp_path / "types.csv"
    margins.write_text("variable,level,count\nstype,E,4421\nstype,H,755\nstype,M,1018\n")
    mean, total = figures(str(DATA / "apiclus1.csv"), *CLUS1, "--mean", "api00", "--total", "enroll", "--post-stratify", str(margins))
    assert (mean["estimate"], mean["se"]) == (four_digits(642.31), four_digits(23.921))
    assert (total["estimate"], total["se"]) == (pytest.approx(3680893, abs=0.5), pytest.approx(406293, abs=0.5))


def test_raking_from_a_file_matches_r(tmp_path):
    # [rakecheck.Rout.save] rake(dclus1, list(~stype, ~sch.wide), ...): svymean(~api00) 641.23 (23.704)
    margins = tmp_path / "margins.csv"
    margins.write_text("variable,level,count\nstype,E,4421\nstype,H,755\nstype,M,1018\nsch.wide,No,1072\nsch.wide,Yes,5122\n")
    result = run(str(DATA / "apiclus1.csv"), *CLUS1, "--mean", "api00", "--rake", str(margins), "--json")
    output = json.loads(result.output)
    assert output["adjustment"]["converged"]
    [mean] = output["estimates"]
    assert (mean["estimate"], mean["se"]) == (four_digits(641.23), four_digits(23.704))


def test_greg_calibration_from_a_file_matches_the_vignette(tmp_path):
    # [vignette] calibrate(dclus1, ~api99, c(6194, 3914069)); svymean(~api00) 666.72 (3.2959)
    totals = tmp_path / "totals.csv"
    totals.write_text("term,total\nintercept,6194\napi99,3914069\n")
    [mean] = figures(str(DATA / "apiclus1.csv"), *CLUS1, "--mean", "api00", "--calibrate", str(totals))
    assert (mean["estimate"], mean["se"]) == (four_digits(666.72), four_digits(3.2959))


def test_jackknife_matches_r_and_bootstrap_is_seeded():
    # [api.Rout.save] svymean(~api00, as.svrepdesign(dclus1)) = 644.17 (26.329)
    [jackknife] = figures(str(DATA / "apiclus1.csv"), *CLUS1, "--mean", "api00", "--variance", "jackknife")
    assert (jackknife["estimate"], jackknife["se"]) == (four_digits(644.17), four_digits(26.329))
    arguments = (str(DATA / "apistrat.csv"), *STRAT, "--mean", "api00", "--variance", "bootstrap", "--replicates", "200", "--seed", "3")
    first, second = figures(*arguments), figures(*arguments)
    assert first == second
    assert first[0]["se"] == pytest.approx(9.4089, rel=0.25)  # a bootstrap SE is near the Taylor SE, not equal


def test_readable_table_without_json():
    result = run(str(DATA / "apistrat.csv"), *STRAT, "--total", "enroll")
    assert result.exit_code == 0
    assert "3687178" in result.output and "95% CI" in result.output


def _bad_copy(tmp_path, name="apistrat", **changes) -> str:
    import pandas as pd

    frame = pd.read_csv(DATA / f"{name}.csv")
    for (column, row), value in changes.get("cells", {}).items():
        frame[column] = frame[column].astype(object)
        frame.at[row, column] = value
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_unknown_column_is_named():
    result = run(str(DATA / "apistrat.csv"), *STRAT, "--mean", "api2000")
    assert result.exit_code == 1
    assert "column 'api2000' is not in the data" in result.output


def test_non_numeric_value_names_column_and_row(tmp_path):
    path = _bad_copy(tmp_path, cells={("api00", 12): "n/a"})
    result = run(path, *STRAT, "--mean", "api00")
    assert result.exit_code == 1
    assert "column 'api00', row 14: 'n/a' is not a number" in result.output  # data row 12 is CSV row 14


def test_non_positive_weight_names_column_and_row(tmp_path):
    path = _bad_copy(tmp_path, cells={("pw", 4): 0})
    result = run(path, *STRAT, "--mean", "api00")
    assert result.exit_code == 1
    assert "column 'pw', row 6" in result.output and "greater than 0" in result.output


def test_lonely_psu_fails_with_the_options_and_each_option_runs(tmp_path):
    import pandas as pd

    frame = pd.read_csv(DATA / "apiclus1.csv")
    frame["region"] = frame["dnum"].map(lambda district: "north" if district == frame["dnum"].iloc[0] else "south")
    path = tmp_path / "lonely.csv"
    frame.to_csv(path, index=False)
    design = ["--strata", "region", "--cluster", "dnum", "--weights", "pw"]
    result = run(str(path), *design, "--mean", "api00")
    assert result.exit_code == 1
    assert "'north' has only one PSU" in result.output and "--lonely-psu certainty|remove|adjust|average" in result.output
    errors = {option: figures(str(path), *design, "--mean", "api00", "--lonely-psu", option)[0]["se"]
              for option in ("certainty", "remove", "adjust", "average")}
    assert errors["certainty"] == pytest.approx(errors["remove"])
    assert errors["average"] > errors["certainty"] and errors["adjust"] > errors["certainty"]


def test_margins_with_different_totals_are_refused(tmp_path):
    margins = tmp_path / "margins.csv"
    margins.write_text("variable,level,count\nstype,E,4421\nstype,H,755\nstype,M,1018\nsch.wide,No,1000\nsch.wide,Yes,5000\n")
    result = run(str(DATA / "apiclus1.csv"), *CLUS1, "--mean", "api00", "--rake", str(margins))
    assert result.exit_code == 1
    assert "same population total" in result.output and "stype: 6194" in result.output and "sch.wide: 6000" in result.output


def test_bad_margin_file_rows_are_named(tmp_path):
    margins = tmp_path / "margins.csv"
    margins.write_text("variable,level,count\nstype,E,4421\nstype,H,lots\nstype,M,1018\n")
    result = run(str(DATA / "apiclus1.csv"), *CLUS1, "--mean", "api00", "--post-stratify", str(margins))
    assert result.exit_code == 1
    assert "row 3: count 'lots' is not a number" in result.output
    margins.write_text("variable,level,count\nschool,E,4421\n")
    result = run(str(DATA / "apiclus1.csv"), *CLUS1, "--mean", "api00", "--post-stratify", str(margins))
    assert "row 2: variable 'school' is not a column" in result.output


def test_nothing_to_estimate_and_bad_choices():
    assert "nothing to estimate" in run(str(DATA / "apistrat.csv"), *STRAT).output
    assert "--lonely-psu 'skip'" in run(str(DATA / "apistrat.csv"), *STRAT, "--mean", "api00", "--lonely-psu", "skip").output
