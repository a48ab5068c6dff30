"""`survey weight-nonresponse`: officials' answer weights from their sample's statuses (SQLite, or PostgreSQL with
TEST_DATABASE_URL). Expected weights worked by hand as in tests/analysis/test_nonresponse.py."""

from __future__ import annotations

import json
import uuid

import pytest

from survey_app.core.sampling_tables import SampleDraw, SampleMember
from survey_app.core.tables import Campaign, Response, Unit
from survey_app.results.frames import AnalysisCommandError
from survey_app.results.nonresponse_weights import nonresponse_text, run_nonresponse_weights
from tests.app.test_analysis_cli import run_survey
from tests.app.test_sample_cli import make_campaign

# Stratum a: design weight 10; 1 invited (not heard from), 1 ineligible, 1 refused, 2 completed → factor 1.25 × 1.5.
# Stratum b: design weight 4; 1 not reached, 3 completed → factor 4/3. A reserve never counts.
MEMBERS = [("a", "invited", 10.0), ("a", "ineligible", 10.0), ("a", "refused", 10.0), ("a", "completed", 10.0),
           ("a", "completed", 10.0), ("b", "not_reached", 4.0), ("b", "completed", 4.0), ("b", "completed", 4.0),
           ("b", "completed", 4.0)]


async def officials_sample(members=MEMBERS, answers={"a": 2, "b": 3}) -> str:
    code = await make_campaign(f"NR-{uuid.uuid4().hex[:6]}")
    campaign = await Campaign.select().where(Campaign.code == code).first()
    unit = await Unit.select(Unit.id).where(Unit.code == "DEMO").first()
    draw = SampleDraw(campaign=campaign["id"], seed=1, design=json.dumps({}))
    await draw.save()
    rows = [SampleMember(draw=draw.id, unit=unit["id"], stratum=stratum, role="r", staff_ref_hash=uuid.uuid4().hex,
                         inclusion_probability=1 / weight, design_weight=weight, status=status)
            for stratum, status, weight in members]
    rows.append(SampleMember(draw=draw.id, unit=unit["id"], stratum="a", role="r", staff_ref_hash=uuid.uuid4().hex,
                             design_weight=10.0, reserve_rank=1, status="reserve"))
    await SampleMember.insert(*rows)
    await Response.insert(*[Response(campaign=campaign["id"], unit=unit["id"], questionnaire=campaign["questionnaire"],
                                     idempotency_key=uuid.uuid4().hex, answers_digest="d", channel="invitation",
                                     answers=json.dumps({}), stratum=stratum, weight=weight)
                            for stratum, count, weight in (("a", answers["a"], 10.0), ("b", answers["b"], 4.0)) for _ in range(count)])
    return code


async def stored_weights(code: str) -> dict:
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == code).first()
    rows = await Response.select(Response.stratum, Response.weight).where(Response.campaign == campaign["id"])
    return {stratum: sorted(row["weight"] for row in rows if row["stratum"] == stratum) for stratum in ("a", "b")}


async def test_a_units_answers_share_its_members_adjusted_weights(app):
    """Per stratum: a 10 × 1.875 for 2 completed, b 4 × 4/3 for 3; the unit's 5 answers (not linked to members,
    no stratum since issue #25) share 2 × 18.75 + 3 × 16/3 = 53.5 equally."""
    code = await officials_sample()
    result = await run_nonresponse_weights(code)
    weights = await stored_weights(code)
    assert weights["a"] + weights["b"] == pytest.approx([53.5 / 5] * 5)
    assert {cell["stratum"]: cell["factor"] for cell in result["cells"]} == {"a": pytest.approx(1.875), "b": pytest.approx(4 / 3)}
    assert (result["respondents"], result["ineligible"], result["unknown_eligibility"]) == (5, 1, 1)
    assert "1 ineligible" in nonresponse_text(result)
    await run_nonresponse_weights(code)  # recomputed from the draw: a second run stores the same weights
    assert await stored_weights(code) == weights


async def test_a_stratum_with_no_completed_member_is_named(app):
    members = [(stratum, "refused" if stratum == "b" else status, weight) for stratum, status, weight in MEMBERS]
    code = await officials_sample(members)
    with pytest.raises(AnalysisCommandError, match="class 'b' has eligible cases but no respondent"):
        await run_nonresponse_weights(code)


async def test_the_command_prints_the_strata_and_refuses_a_campaign_without_a_draw(app, settings):
    code = await officials_sample()
    result = run_survey(settings, "weight-nonresponse", "--campaign", code)
    assert result.returncode == 0, result.stderr
    assert "5 completed, 1 ineligible, 1 not heard from" in result.stdout
    campaign = await make_campaign(f"NR-{uuid.uuid4().hex[:6]}")
    refused = run_survey(settings, "weight-nonresponse", "--campaign", campaign)
    assert refused.returncode == 1 and "has no sample draw" in refused.stderr
