"""Officials' answers are published once their campaign is closed, and every tool counts them as the pages do:
the difference of two publications must never be one official's answer (a second review's attacks, proven)."""

from __future__ import annotations

import uuid

import pytest

from survey_app.results import quality
from survey_app.campaigns.services import CampaignRefused
from survey_app.results.dashboard import campaign_by_code
from survey_app.core.campaign_tables import QualityReview
from survey_app.core.figure_tables import QualityFlag
from survey_app.results.analysis import run_indices
from survey_app.results.par_index import run_par_index
from survey_app.exports.report import ReportError, build_report
from survey_app.exports.service import officials_groups_below
from survey_app.core.tables import Campaign, Response, Unit
from tests.app.analyst_helpers import officials_parent_and_child, signed_in_client
from tests.app.helpers import counter_definition, filled_form, form_path
from tests.app.test_manager_view import parent_managers_page
from tests.app.test_sample_cli import make_campaign


async def reopened(code: str) -> None:
    await Campaign.update({Campaign.status: "open"}).where(Campaign.code == code)


async def test_an_open_officials_campaign_shows_no_figure_to_its_manager_and_gets_no_report(app, settings):
    """Live figures give a new answer away by difference (5 answers shown, then 6)."""
    units = await officials_parent_and_child(settings.suppress_below, settings.suppress_below)
    await reopened(units["campaign"])
    page = await parent_managers_page(app, units)
    assert 'id="until-closed"' in page and 'id="scope-row"' not in page
    with pytest.raises(ReportError, match="chưa kết thúc"):
        await build_report(units["campaign"], minimum=settings.suppress_below)


async def test_a_closed_officials_campaigns_decisions_are_final(app, settings):
    """Excluding one of 6 answers after publication would publish the 5 and give the sixth away."""
    units = await officials_parent_and_child(settings.suppress_below, settings.suppress_below)
    campaign = await campaign_by_code(units["campaign"])
    response = await Response.select(Response.id).where(Response.campaign == campaign["id"]).first()
    with pytest.raises(CampaignRefused) as refused:
        await quality.decide(campaign, str(response["id"]), "exclude", "analyst")
    assert "không đổi quyết định" in refused.value.message_vi
    assert not await QualityReview.exists().where(QualityReview.response == response["id"])


async def exclude(campaign: dict, unit_code: str) -> None:
    """The analyst excludes one answer of the unit (stored directly: decisions are refused once closed)."""
    row = await Response.select(Response.id).where(
        (Response.campaign == campaign["id"]) & (Response.unit.code == unit_code)).first()
    await QualityReview.insert(QualityReview(campaign=campaign["id"], response=row["id"], decision="exclude"))


async def test_par_index_and_exports_count_officials_as_the_pages_do(app, settings):
    """The child has 5 answers, one excluded: 4 on every published page, so par-index leaves it out and the export
    blanks it too (both used to count 5; par-index's 6 beside the public 5 gave an excluded answer away)."""
    units = await officials_parent_and_child(settings.suppress_below + 1, settings.suppress_below)
    campaign = await campaign_by_code(units["campaign"])
    await exclude(campaign, units["child"])
    par = await run_par_index(units["campaign"], None, settings.suppress_below)
    assert [row["unit"] for row in par["suppressed"]] == [units["child"]]
    child = await Unit.select(Unit.id).where(Unit.code == units["child"]).first()
    assert child["id"] in await officials_groups_below(campaign, settings.suppress_below)


async def test_survey_indices_leaves_out_a_small_units_officials_answers(app, settings):
    units = await officials_parent_and_child(settings.suppress_below, 2)
    by_unit = await run_indices(units["campaign"], "unit", settings.suppress_below)
    assert [group["group"] for group in by_unit["groups"]] == [units["parent"]]
    assert (await run_indices(units["campaign"], None, settings.suppress_below))["responses"] == settings.suppress_below


async def test_the_quality_queue_lists_no_answer_of_a_unit_left_out(app, settings):
    units = await officials_parent_and_child(settings.suppress_below, 2)
    campaign = await campaign_by_code(units["campaign"])
    await quality.queue(campaign, settings.suppress_below)  # flags stored
    await QualityFlag.update({QualityFlag.rules: 1}).where(QualityFlag.campaign == campaign["id"])  # all flagged
    listed = await quality.queue(campaign, settings.suppress_below)
    assert {row["unit"] for row in listed["rows"]} == {units["parent"]}
    assert listed["total"] == settings.suppress_below


async def test_a_counters_qr_code_cannot_answer_an_officials_campaign(app, client, settings):
    """A manager printed a counter poster for their unit's officials' campaign and posted known answers through it:
    with the official's one answer, five, and the figure gave the official's answer away (and let the manager
    rate their own unit). Officials answer with an invitation code only."""
    code = await make_campaign(f"PAR-QR-{uuid.uuid4().hex[:6]}")
    campaign = await Campaign.select().where(Campaign.code == code).first()
    path = form_path(settings, "SO01-Q1", code)
    assert (await client.get(path)).status_code == 404
    refused = await client.post(path, data=filled_form(counter_definition()))
    assert refused.status_code == 404 and not await Response.exists().where(Response.campaign == campaign["id"])
    manager = await signed_in_client(app, "so01")
    poster = await manager.get("/staff/units/SO01/counters/SO01-Q1/poster", params={"campaign": code, "format": "svg"})
    listed = (await manager.get("/staff/units/SO01/counters")).text
    await manager.aclose()
    assert poster.status_code == 422 and "invitation codes" in poster.text and code not in listed
