"""PAR INDEX survey points, the province's structure and totals, checked against numbers worked out by hand
(the worked example is docs/method.md §6b's)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from analysis.par_index import criteria_with_points, leaf_points, rule_of, survey_points, unit_totals
from analysis.par_structure import ParIndexFileError, parse_points, parse_structure, read_structure

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
    assert not row(table, "SO02", "head")["withheld"]
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


# ---- docs/method.md §6b, the worked example ---------------------------------------------------------------------

EXAMPLE_SCORING = {"rule": "share_4_5", "factors": [
    {"key": "direction", "criteria": [{"key": "plan", "items": ["plan"], "max_points": 0.5},
                                      {"key": "head", "items": ["head"], "max_points": 1.0}]},
    {"key": "procedures", "criteria": [{"key": "simplify", "items": ["simplify"], "max_points": 2.0}]},
]}
EXAMPLE_STRUCTURE = """id,parent,title,max_points,scored_by,survey_criteria
1,,Công tác chỉ đạo điều hành CCHC,6,,
1.1,1,Kế hoạch CCHC năm,2,self_assessment,
1.2,1,Báo cáo CCHC đúng hạn,1,appraisal,
1.3,1,Đánh giá của công chức,3,,
1.3.1,1.3,Kế hoạch được phổ biến,1,survey,plan
1.3.2,1.3,Người đứng đầu quan tâm,2,survey,head
2,,Cải cách thủ tục hành chính,6,,
2.1,2,Rà soát đơn giản hóa TTHC,2.5,self_assessment,
2.2,2,Đánh giá của công chức về TTHC,3.5,survey,simplify
"""
EXAMPLE_ANSWERS = pd.DataFrame({
    "unit": ["SO01"] * 5 + ["SO02"] * 5 + ["H01"] * 5,
    "plan": [5, 4, 4, 3, NA] + [4] * 5 + [5] * 5,  # SO01: one N/A, 4 valid answers
    "head": [5, 5, 4, 2, 1] + [4, 4, 3, 3, 3] + [5] * 5,
    "simplify": [4, 4, 4, 4, 2] * 2 + [5] * 5,
})
EXAMPLE_POINTS = pd.DataFrame({"unit": ["SO01", "SO01", "SO01", "SO02", "SO02", "SO02", "H01", "H01", "H01"],
                               "id": ["1.1", "1.2", "2.1"] * 3,
                               "points": ["1.5", "0.75", "2"] * 2 + ["2", "1", "2.5"]})
LEVELS = {"SO01": "so", "SO02": "so", "H01": "huyen"}


def structure_table() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(EXAMPLE_STRUCTURE), dtype=str, keep_default_na=False)


@pytest.fixture
def example(tmp_path):
    path = tmp_path / "chi-so-par.csv"
    path.write_text(EXAMPLE_STRUCTURE, encoding="utf-8")
    structure = read_structure(path, {"plan", "head", "simplify"})
    survey = survey_points(EXAMPLE_ANSWERS, EXAMPLE_SCORING, "unit", minimum_valid=5)
    assessed = parse_points(EXAMPLE_POINTS, structure, set(LEVELS))
    leaves = leaf_points(survey, structure, assessed)
    return survey, leaves, unit_totals(leaves, structure, LEVELS).set_index("unit")


def test_a_criterion_rated_by_fewer_than_the_minimum_shows_its_real_count_and_no_points(example):
    survey = example[0]
    assert row(survey, "SO01", "plan")[["valid_count", "score", "points", "withheld"]].tolist() == [4, None, None, True]
    assert row(survey, "SO01", "head")["points"] == pytest.approx(1.0 * 3 / 5)
    assert row(survey, "SO02", "plan")["withheld"] == False  # noqa: E712  (5 valid answers)


def test_the_worked_example_by_hand(example):
    _, leaves, totals = example
    # SO01: 1.3.2 = 2 × 3/5 = 1.2; 2.2 = 3.5 × 4/5 = 2.8; 1.3.1 (plan withheld) = 1 × (1.2 + 2.8) / (2 + 3.5)
    so01 = leaves[leaves["unit"] == "SO01"].set_index("id")
    assert so01.loc["1.3.1", "points"] == pytest.approx(4 / 5.5) and so01.loc["1.3.1", "source"] == "unit_mean"
    survey = 1.2 + 2.8 + 4 / 5.5
    assert totals.loc["SO01", "survey_points"] == pytest.approx(survey)
    assert totals.loc["SO01", "self_assessment_points"] == pytest.approx(1.5 + 2.0)
    assert totals.loc["SO01", "appraisal_points"] == pytest.approx(0.75)
    assert totals.loc["SO01", "total"] == pytest.approx(3.5 + 0.75 + survey)  # 8.9773
    assert totals.loc["SO01", "fields"] == pytest.approx({"1": 1.5 + 0.75 + 4 / 5.5 + 1.2, "2": 2.0 + 2.8})
    # H01 (everyone answered 5): every point, exactly
    assert totals.loc["H01", "survey_points"] == 6.5 and totals.loc["H01", "total"] == 12.0


def test_an_na_in_a_five_person_unit_does_not_reorder_the_ranking(example):
    """SO02 = SO01 but for head (2 of 5 satisfied, not 3) and plan (5 valid 4s, not 4 of 4): SO01 stays ahead.
    Dropping SO01's withheld criterion (0 points) gave 8.25 and put it behind SO02 (8.85)."""
    totals = example[2]
    assert totals.loc["SO02", "total"] == pytest.approx(3.5 + 0.75 + 1.0 + 0.8 + 2.8)
    assert totals.loc["SO01", "total"] > totals.loc["SO02", "total"]
    assert (totals.loc["SO01", "rank"], totals.loc["SO02", "rank"]) == (1, 2)


def test_ranks_are_integers_per_level(example):
    totals = example[2]
    assert totals.loc["H01", "rank"] == 1 and totals.loc["H01", "level"] == "huyen"
    assert all(type(rank) is int for rank in totals["rank"])


def test_a_unit_without_a_points_row_is_listed_not_ranked(example):
    survey, _, _ = example
    structure = parse_structure(structure_table(), {"plan", "head", "simplify"})
    partial = parse_points(EXAMPLE_POINTS.iloc[:-1], structure, set(LEVELS))  # H01 has no 2.1
    totals = unit_totals(leaf_points(survey, structure, partial), structure, LEVELS).set_index("unit")
    assert totals.loc["H01", "missing"] == ["2.1"] and totals.loc["H01", "total"] is None
    assert totals.loc["H01", "rank"] is None and type(totals.loc["SO01", "rank"]) is int


def test_the_default_rule_is_the_scoring_maps_then_linear():
    assert rule_of(EXAMPLE_SCORING) == "share_4_5" and rule_of(SCORING) == "linear"
    assert rule_of(EXAMPLE_SCORING, "linear") == "linear"
    with pytest.raises(ValueError, match="rule"):
        rule_of(SCORING, "median")


def test_bad_structure_rows_are_all_reported_by_row():
    raw = pd.DataFrame([
        ["1", "", "Lĩnh vực", "5", "", ""],
        ["1.1", "1", "Tiêu chí", "2", "self_assessment", ""],
        ["1.1", "1", "Trùng mã", "1", "appraisal", ""],
        ["1.2", "9", "Cha không có", "1", "survey", "plan"],
        ["1.3", "1", "Điểm sai", "abc", "survey", "plan"],
        ["1.4", "1", "Cách chấm sai", "1", "guess", ""],
    ], columns=["id", "parent", "title", "max_points", "scored_by", "survey_criteria"])
    with pytest.raises(ParIndexFileError) as refused:
        parse_structure(raw, {"plan"})
    assert refused.value.problems == [
        "dòng 4: mã '1.1' đã có ở dòng 3",
        "dòng 5: mã cha '9' chưa được khai báo ở một dòng phía trên",
        "dòng 6: điểm tối đa 'abc' phải là một số dương",
        "dòng 7: cách chấm 'guess' phải là một trong self_assessment, appraisal, survey",
    ]
    whole = pd.DataFrame([["1", "", "L", "5", "", ""], ["1.1", "1", "A", "2", "survey", "nope"],
                          ["1.2", "1", "B", "2", "", ""]], columns=raw.columns)
    with pytest.raises(ParIndexFileError) as refused:
        parse_structure(whole, {"plan"})
    assert refused.value.problems == [
        "dòng 2: 1: điểm tối đa 5 khác tổng điểm tối đa của các tiêu chí con (4)",
        "dòng 3: 1.1: 'nope' không phải tiêu chí của phiếu hỏi",
        "dòng 4: 1.2: thiếu cách chấm (self_assessment, appraisal, survey)",
    ]


def test_bad_points_rows_are_all_reported_by_row(example):
    structure = parse_structure(structure_table(), {"plan", "head", "simplify"})
    raw = pd.DataFrame({"unit": ["SO99", "SO01", "SO01", "SO01", "SO01", "SO01"],
                        "id": ["1.1", "1.3", "2.2", "9.9", "1.1", "1.1"],
                        "points": ["1", "1", "1", "1", "2,5", "x"]})
    with pytest.raises(ParIndexFileError) as refused:
        parse_points(raw, structure, set(LEVELS))
    assert refused.value.problems == [
        "dòng 2: đơn vị 'SO99' không có trong danh sách đơn vị của tỉnh",
        "dòng 3: tiêu chí 1.3 có tiêu chí con: ghi điểm cho từng tiêu chí con",
        "dòng 4: tiêu chí 2.2 được chấm bằng điều tra xã hội học, không nhập điểm",
        "dòng 5: tiêu chí '9.9' không có trong bộ chỉ số",
        "dòng 6: điểm 2.5 vượt điểm tối đa 2 của tiêu chí 1.1",
        "dòng 7: điểm 'x' không phải là số",
        "dòng 7: đơn vị SO01 và tiêu chí 1.1 đã có ở dòng 6",
    ]


def test_the_structure_reads_from_xlsx_too(tmp_path):
    table = structure_table()
    workbook = tmp_path / "chi-so-par.xlsx"
    table.to_excel(workbook, index=False)
    structure = read_structure(workbook, {"plan", "head", "simplify"})
    assert [leaf.id for leaf in structure.leaves] == ["1.1", "1.2", "1.3.1", "1.3.2", "2.1", "2.2"]
    assert structure.nodes["2.1"].max_points == 2.5 and structure.field_of("1.3.2") == "1"
