"""`survey par-index`: officials' survey points from the scoring map's maximum points, self-assessment points,
totals, ranking, and suppression of units with too few respondents."""

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
RATINGS = {"SO03": ["5", "5", "4", "3", "2", "na"], "SO04": ["4", "4", "4", "4", "1"], "SO05": ["5", "5", "5"]}


def raw_answers(definition, rating: str) -> dict:
    raw = {}
    for item in definition.items:
        if item.type == "rating5":
            raw[item.key] = rating
        elif item.choices:
            raw[item.key] = item.choices[0].value
    return raw


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
        for rating in ratings:
            answers = valid_answers(definition, raw_answers(definition, rating))
            assert answers is not None
            rows.append(Response(campaign=campaign.id, unit=unit["id"], questionnaire=questionnaire["id"],
                                 idempotency_key=uuid.uuid4().hex, answers_digest=answers_digest(answers),
                                 answers=json.dumps(answers), channel="invitation", stratum="cong_chuc"))
    await Response.insert(*rows)
    max_total = sum(criterion["max_points"] for factor in definition.scoring_dict()["factors"]
                    for criterion in factor["criteria"])
    return max_total


async def test_points_totals_ranking_and_suppression(par_campaign, tmp_path):
    max_total = par_campaign
    assessed = tmp_path / "self.csv"
    assessed.write_text("unit,criterion,points\nSO03,reform_plan,0.3\nSO04,reform_plan,0.1\nSO05,reform_plan,0.5\n")
    result = await run_par_index("PAR-T", assessed, suppress_below=5)

    by_unit = {row["unit"]: row for row in result["units"]}
    # share of 4–5 among valid answers × maximum points (rule share_4_5 from the map): SO03 3/5, SO04 4/5
    assert by_unit["SO03"]["survey_points"] == pytest.approx(0.6 * max_total)
    assert by_unit["SO04"]["survey_points"] == pytest.approx(0.8 * max_total)
    assert by_unit["SO03"]["total"] == pytest.approx(0.6 * max_total + 0.3)
    assert by_unit["SO04"]["rank"] == 1 and by_unit["SO03"]["rank"] == 2
    assert by_unit["SO03"]["respondents"] == 6
    assert "SO05" not in by_unit and result["suppressed"] == [{"unit": "SO05", "respondents": 3}]
    assert not any(row["unit"] == "SO05" for row in result["criteria"])
    assert "không đủ số phiếu" in par_index_text(result)


async def test_bad_self_assessment_rows_are_reported_by_row(par_campaign, tmp_path):
    assessed = tmp_path / "bad.csv"
    assessed.write_text("unit,criterion,points\nSO03,reform_plan,abc\nSO04,no_such_criterion,0.1\nSO04,reform_plan,9\n")
    with pytest.raises(AnalysisCommandError) as refused:
        await run_par_index("PAR-T", assessed, suppress_below=5)
    message = str(refused.value)
    assert "row 2" in message and "row 3" in message and "row 4" in message and "exceed" in message


async def test_a_satisfaction_campaign_is_not_a_par_index_survey(app):
    with pytest.raises(AnalysisCommandError, match="max_points"):
        await run_par_index("QUAY-2026", None, suppress_below=5)
