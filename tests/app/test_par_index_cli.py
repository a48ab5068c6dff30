"""`survey par-index`: a province's PAR INDEX structure (written here as a realistic sở index), its self-assessment
and appraisal points, the officials' survey points, totals worked by hand, ranking, suppression, an N/A in a
five-person unit, and a warning on an open campaign."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from questionnaires import load_shipped
from survey_app.results.frames import AnalysisCommandError
from survey_app.results.par_index import par_index_text, run_par_index
from survey_app.campaigns.demo import valid_answers
from survey_app.public.services import answers_digest
from survey_app.core.tables import Campaign, Questionnaire, Response, Unit

# Every rating item of a respondent gets the same rating; "na" is excluded from the share.
RATINGS = {"SO03": ["5", "5", "4", "3", "2", "na"], "SO04": ["4", "4", "4", "4", "1"], "SO05": ["5", "5", "5"],
           "SO06": ["4", "4", "4", "4", "4"]}
NA_IN_SO06 = "reform_plan"  # SO06's first official answers "không áp dụng" to this criterion only


def raw_answers(definition, rating: str, not_applicable: tuple = ()) -> dict:
    raw = {}
    for item in definition.items:
        if item.type == "rating5":
            raw[item.key] = "na" if item.key in not_applicable else rating
        elif item.choices:
            raw[item.key] = item.choices[0].value
    return raw


# A sở PAR INDEX as a province issues it (80 points here): self-assessed and appraised criteria, and in each field
# a criterion scored by the officials' survey, split over the questionnaire's criteria.
STRUCTURE = """id,parent,title,max_points,scored_by,survey_criteria
1,,Công tác chỉ đạo điều hành cải cách hành chính,12,,
1.1,1,Kế hoạch CCHC năm,2,self_assessment,
1.2,1,Báo cáo CCHC,1,self_assessment,
1.3,1,Kiểm tra CCHC,1.5,self_assessment,
1.4,1,Tuyên truyền CCHC,2,self_assessment,
1.5,1,Sáng kiến trong CCHC,1.5,appraisal,
1.6,1,Đánh giá của công chức về chỉ đạo điều hành,4,,
1.6.1,1.6,Chất lượng kế hoạch CCHC,1,survey,reform_plan
1.6.2,1.6,Tác động của tuyên truyền,1,survey,reform_communication
1.6.3,1.6,Vai trò người đứng đầu,2,survey,head_commitment
2,,Xây dựng và tổ chức thi hành văn bản QPPL,8,,
2.1,2,Tham mưu ban hành VBQPPL,3,self_assessment,
2.2,2,Theo dõi thi hành pháp luật,2,self_assessment,
2.3,2,Đánh giá của công chức về VBQPPL,3,survey,legal_drafting;legal_enforcement
3,,Cải cách thủ tục hành chính,15,,
3.1,3,Rà soát đơn giản hóa TTHC,3,self_assessment,
3.2,3,Công khai TTHC,3,self_assessment,
3.3,3,Kết quả giải quyết hồ sơ,4,appraisal,
3.4,3,Đánh giá của công chức về TTHC,5,,
3.4.1,3.4,Rà soát đơn giản hóa,2,survey,procedure_simplification
3.4.2,3.4,Bộ phận Một cửa,3,survey,one_stop
4,,Cải cách tổ chức bộ máy,10,,
4.1,4,Sắp xếp tổ chức,4,self_assessment,
4.2,4,Quản lý biên chế,3,self_assessment,
4.3,4,Đánh giá của công chức về tổ chức bộ máy,3,survey,structure_fit;delegation
5,,Cải cách chế độ công vụ,15,,
5.1,5,Vị trí việc làm,3,self_assessment,
5.2,5,Tuyển dụng,2,self_assessment,
5.3,5,Đào tạo bồi dưỡng,2,self_assessment,
5.4,5,Kỷ luật kỷ cương,2,appraisal,
5.5,5,Đánh giá của công chức về công vụ,6,survey,recruitment;appointment;performance_review;discipline
6,,Cải cách tài chính công,8,,
6.1,6,Quản lý tài chính,3,self_assessment,
6.2,6,Thực hiện cơ chế tự chủ,2,self_assessment,
6.3,6,Đánh giá của công chức về tài chính công,3,survey,financial_autonomy;income_effect
7,,Xây dựng chính quyền điện tử và chính quyền số,12,,
7.1,7,Ứng dụng công nghệ thông tin,3,self_assessment,
7.2,7,Dịch vụ công trực tuyến,3,appraisal,
7.3,7,Số hóa hồ sơ,2,self_assessment,
7.4,7,Đánh giá của công chức về chính quyền số,4,survey,it_in_work;online_services
"""
SELF_ASSESSED = {"1.1": 2, "1.2": 1, "1.3": 1.5, "1.4": 2, "2.1": 2.5, "2.2": 2, "3.1": 3, "3.2": 2.75, "4.1": 4,
                 "4.2": 3, "5.1": 3, "5.2": 2, "5.3": 1.5, "6.1": 3, "6.2": 2, "7.1": 2.5, "7.3": 2}
APPRAISED = {"1.5": 1, "3.3": 3.5, "5.4": 2, "7.2": 2.5}
SURVEY_MAX = 4 + 3 + 5 + 3 + 6 + 3 + 4  # the survey leaves' maxima: 28


def points_file(path, units=("SO03", "SO04", "SO06")):
    lines = ["unit,id,points"] + [f"{unit},{node},{points}" for unit in units
                                  for node, points in {**SELF_ASSESSED, **APPRAISED}.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def items_of(definition, criterion_key: str) -> tuple:
    return next(tuple(criterion["items"]) for factor in definition.scoring_dict()["factors"]
                for criterion in factor["criteria"] if criterion["key"] == criterion_key)


@pytest.fixture(scope="module")
async def par_campaign(app):
    definition = load_shipped()["par_index_so"]
    questionnaire = await Questionnaire.select(Questionnaire.id).where(Questionnaire.key == "par_index_so").first()
    campaign = Campaign(code="PAR-T", name="PAR test", questionnaire=questionnaire["id"], mode="invitation",
                        status="closed", starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31))
    await campaign.save()
    rows = []
    for unit_code, ratings in RATINGS.items():
        unit = await Unit.select(Unit.id).where(Unit.code == unit_code).first()
        for number, rating in enumerate(ratings):
            not_applicable = items_of(definition, NA_IN_SO06) if (unit_code, number) == ("SO06", 0) else ()
            answers = valid_answers(definition, raw_answers(definition, rating, not_applicable))
            assert answers is not None
            rows.append(Response(campaign=campaign.id, unit=unit["id"], questionnaire=questionnaire["id"],
                                 idempotency_key=uuid.uuid4().hex, answers_digest=answers_digest(answers),
                                 answers=json.dumps(answers), channel="invitation", stratum="cong_chuc"))
    await Response.insert(*rows)
    max_total = sum(criterion["max_points"] for factor in definition.scoring_dict()["factors"]
                    for criterion in factor["criteria"])
    return max_total


async def test_a_province_index_file_imports_and_a_units_total_is_worked_by_hand(par_campaign, tmp_path):
    structure = tmp_path / "chi-so-cchc-so.csv"
    structure.write_text(STRUCTURE, encoding="utf-8")
    result = await run_par_index("PAR-T", points_file(tmp_path / "diem.csv"), suppress_below=5, structure_file=structure)

    by_unit = {row["unit"]: row for row in result["units"]}
    # SO03: 3 of 5 valid answers are 4–5 in every criterion (rule share_4_5, the map's) → 0.6 × 28 survey points
    self_points, appraisal_points, survey = 39.75, 9.0, 0.6 * SURVEY_MAX
    assert sum(SELF_ASSESSED.values()) == self_points and sum(APPRAISED.values()) == appraisal_points
    so03 = by_unit["SO03"]
    assert so03["self_assessment_points"] == pytest.approx(self_points)
    assert so03["appraisal_points"] == pytest.approx(appraisal_points)
    assert so03["survey_points"] == pytest.approx(survey)
    assert so03["total"] == pytest.approx(self_points + appraisal_points + survey)  # 65.55
    assert so03["fields"]["1"] == pytest.approx(2 + 1 + 1.5 + 2 + 1 + 0.6 * 4)  # 1.1–1.4, 1.5, 1.6
    assert sum(so03["fields"].values()) == pytest.approx(so03["total"])
    # SO04: 4 of 5 → 0.8 × 28; SO06 (all 4s, one N/A): full survey points → ranks 1, 2, 3 among the sở
    assert by_unit["SO04"]["total"] == pytest.approx(self_points + appraisal_points + 0.8 * SURVEY_MAX)
    assert [(row["unit"], row["rank"]) for row in result["units"]] == [("SO06", 1), ("SO04", 2), ("SO03", 3)]
    assert all(row["level"] == "so" for row in result["units"])
    assert "SO05" not in by_unit and result["suppressed"] == [{"unit": "SO05", "respondents": 3}]
    text = par_index_text(result)
    assert "\n   1  SO06" in text and "1.0" not in text.split("\n")[3][:6] and "không đủ số phiếu" in text


async def test_an_na_in_a_five_person_unit_is_counted_and_does_not_drop_the_criterion(par_campaign, tmp_path):
    """SO06: 5 officials rate everything 4, one says N/A to reform_plan: 4 valid answers, withheld (fewer than 5)
    with its real count; the unit's mean fills it, so SO06 keeps the full survey points (it lost 1 point and its
    rank before)."""
    result = await run_par_index("PAR-T", None, suppress_below=5)
    so06 = {row["criterion"]: row for row in result["criteria"] if row["unit"] == "SO06"}
    assert (so06[NA_IN_SO06]["valid_count"], so06[NA_IN_SO06]["points"], so06[NA_IN_SO06]["withheld"]) == (4, None, True)
    assert so06["reform_communication"]["valid_count"] == 5
    survey_total = next(row["survey_points"] for row in result["units"] if row["unit"] == "SO06")
    assert survey_total == pytest.approx(par_campaign)  # every criterion's maximum (all 4s: share 1)


async def test_bad_points_rows_are_reported_by_row(par_campaign, tmp_path):
    structure = tmp_path / "chi-so.csv"
    structure.write_text(STRUCTURE, encoding="utf-8")
    assessed = tmp_path / "bad.csv"
    assessed.write_text("unit,id,points\nSO99,1.1,1\nSO03,reform_plan,0.1\nSO04,1.1,9\nSO04,1.6.1,1\n")
    with pytest.raises(AnalysisCommandError) as refused:
        await run_par_index("PAR-T", assessed, suppress_below=5, structure_file=structure)
    message = str(refused.value)
    assert "dòng 2: đơn vị 'SO99' không có" in message and "dòng 3: tiêu chí 'reform_plan' không có" in message
    assert "dòng 4: điểm 9 vượt điểm tối đa 2" in message and "dòng 5: tiêu chí 1.6.1 được chấm bằng điều tra" in message


async def test_an_open_campaign_is_flagged(par_campaign):
    await Campaign.update({Campaign.status: "open"}).where(Campaign.code == "PAR-T")
    try:
        result = await run_par_index("PAR-T", None, suppress_below=5)
    finally:
        await Campaign.update({Campaign.status: "closed"}).where(Campaign.code == "PAR-T")
    assert result["campaign_status"] == "open" and "CẢNH BÁO: đợt khảo sát PAR-T chưa kết thúc" in par_index_text(result)


async def test_a_satisfaction_campaign_is_not_a_par_index_survey(app):
    with pytest.raises(AnalysisCommandError, match="max_points"):
        await run_par_index("QUAY-2026", None, suppress_below=5)
