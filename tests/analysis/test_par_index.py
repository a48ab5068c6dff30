"""PAR INDEX survey points and totals, checked against numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.par_index import (
    SelfAssessmentError,
    criteria_with_points,
    parse_self_assessment,
    read_self_assessment,
    survey_points,
    unit_totals,
)

SCORING = {"factors": [
    {"key": "direction", "criteria": [
        {"key": "plan", "items": ["plan"], "max_points": 0.5},
        {"key": "head", "items": ["head"], "max_points": 1.0},
    ]},
    {"key": "procedures", "criteria": [{"key": "simplify", "items": ["simplify_a", "simplify_b"], "max_points": 2.0}]},
]}

NA = np.nan
ANSWERS = pd.DataFrame({
    "unit": ["SO01", "SO01", "SO01", "SO02", "SO02"],
    "plan": [5, 3, NA, 1, 2],
    "head": [4, 4, 5, NA, NA],
    "simplify_a": [5, 1, 3, 4, 5],
    "simplify_b": [NA, 2, 4, 5, 5],
})


def row(table, unit, criterion):
    return table[(table["unit"] == unit) & (table["criterion"] == criterion)].iloc[0]


def test_linear_rule_points_by_hand():
    table = survey_points(ANSWERS, SCORING, "unit")
    # SO01 plan: (5-1)/4 = 1, (3-1)/4 = .5, N/A out -> mean .75 -> 0.5 × .75 = 0.375
    assert row(table, "SO01", "plan")["points"] == pytest.approx(0.375)
    assert row(table, "SO01", "plan")["valid_count"] == 2
    # SO01 head: .75, .75, 1 -> 2.5/3 -> 1.0 × 0.8333 = 0.83333
    assert row(table, "SO01", "head")["points"] == pytest.approx(2.5 / 3)
    # SO01 simplify (two items pooled): 5,1,3 and 2,4 -> 1, 0, .5, .25, .75 -> 2.5/5 = .5 -> 2.0 × .5 = 1.0
    assert row(table, "SO01", "simplify")["points"] == pytest.approx(1.0)
    assert row(table, "SO01", "simplify")["valid_count"] == 5
    # SO02 plan: 0, .25 -> .125 -> 0.0625; head: nobody answered -> None, not NaN
    assert row(table, "SO02", "plan")["points"] == pytest.approx(0.0625)
    assert row(table, "SO02", "head")["points"] is None and row(table, "SO02", "head")["valid_count"] == 0
    # SO02 simplify: 4,5,5,5 -> .75,1,1,1 -> .9375 -> 1.875
    assert row(table, "SO02", "simplify")["points"] == pytest.approx(1.875)


def test_share_rule_and_weights():
    table = survey_points(ANSWERS, SCORING, "unit", rule="share_4_5")
    assert row(table, "SO01", "plan")["points"] == pytest.approx(0.25)  # one of two valid answers is 4–5
    assert row(table, "SO01", "simplify")["points"] == pytest.approx(2.0 * 2 / 5)
    weighted = survey_points(ANSWERS, SCORING, "unit", weights=[3, 1, 1, 1, 1])
    # SO01 plan: (3·1 + 1·.5) / 4 = .875 -> 0.4375
    assert row(weighted, "SO01", "plan")["points"] == pytest.approx(0.4375)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="rule"):
        survey_points(ANSWERS, SCORING, "unit", rule="median")
    with pytest.raises(ValueError, match="max_points"):
        criteria_with_points({"factors": [{"key": "f", "criteria": [{"key": "c", "items": ["c"]}]}]})
    with pytest.raises(ValueError, match="outside 1..5"):
        survey_points(ANSWERS.assign(plan=[5, 0, 3, 1, 2]), SCORING, "unit")


def test_self_assessment_from_csv_and_xlsx(tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_text("Unit,Criterion,Points\nSO01,reform_plan,\"4,5\"\nSO02,reform_plan,6\n\nSO01,training,2\n", encoding="utf-8")
    table = read_self_assessment(csv)
    assert table.to_dict("records") == [
        {"unit": "SO01", "criterion": "reform_plan", "points": 4.5},
        {"unit": "SO02", "criterion": "reform_plan", "points": 6.0},
        {"unit": "SO01", "criterion": "training", "points": 2.0},
    ]
    workbook = tmp_path / "points.xlsx"
    table.to_excel(workbook, index=False)
    assert read_self_assessment(workbook).equals(table)


def test_self_assessment_bad_rows_are_all_reported_with_row_numbers():
    raw = pd.DataFrame({"unit": ["SO01", "", "SO02", "SO01", "SO03"], "criterion": ["a", "a", "a", "a", "zz"],
                        "points": ["1", "2", "x", "0.5", "-1"]})
    with pytest.raises(SelfAssessmentError) as error:
        parse_self_assessment(raw, max_points={"a": 0.75})
    assert error.value.problems == [
        "row 2: points 1 exceed the criterion's maximum 0.75",
        "row 3: unit is empty",
        "row 3: points 2 exceed the criterion's maximum 0.75",
        "row 4: points 'x' is not a number",
        "row 5: unit 'SO01' and criterion 'a' were already given in row 2",
        "row 6: criterion 'zz' is not in the scoring map",
        "row 6: points -1 is negative",
    ]
    with pytest.raises(SelfAssessmentError, match="row 1: missing column"):
        parse_self_assessment(pd.DataFrame({"unit": ["SO01"], "score": [1]}))


def test_unit_totals_and_ranking():
    survey = survey_points(ANSWERS, SCORING, "unit")
    assessed = pd.DataFrame({"unit": ["SO01", "SO01", "SO02", "SO03"], "criterion": ["a", "b", "a", "a"], "points": [10.0, 5.0, 16.0, 9.0]})
    totals = unit_totals(survey, assessed).set_index("unit")
    so01_survey = 0.375 + 2.5 / 3 + 1.0
    so02_survey = 0.0625 + 1.875  # head unanswered adds nothing
    assert totals.loc["SO01", "survey_points"] == pytest.approx(so01_survey)
    assert totals.loc["SO01", "total"] == pytest.approx(15 + so01_survey)
    assert totals.loc["SO02", "total"] == pytest.approx(16 + so02_survey)
    assert totals.loc["SO02", "rank"] == 1 and totals.loc["SO01", "rank"] == 2
    # SO03 has no survey answers: listed, not ranked, no total (never a silent zero)
    assert totals.loc["SO03", "complete"] is False or totals.loc["SO03", "complete"] == False  # noqa: E712
    assert totals.loc["SO03", "total"] is None and totals.loc["SO03", "rank"] is None
    assert list(totals.index) == ["SO02", "SO01", "SO03"]
