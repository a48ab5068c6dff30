"""The dashboard shows exactly what analysis/ computes (via `survey indices`), suppresses small groups, compares
with stored targets, follows earlier campaigns, and shows indices with and without excluded responses."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import pytest_asyncio
from cachetools import LRUCache

from analysis.sipas import compute_indices
from survey_app.results import dashboard as dashboard_module
from survey_app.results.dashboard import campaign_by_code, campaign_figures
from survey_app.core.campaign_tables import CampaignTarget, QualityReview
from survey_app.results.analysis import run_indices
from survey_app.results.frames import campaign_frame, design_of
from survey_app.core.tables import Response
from tests.app.analyst_helpers import (
    copy_campaign, delete_campaign, last_audit, officials_parent_and_child, shown_counts, shown_interval, shown_percent,
    signed_in_client, table_row,
)
from tests.app.helpers import post_form, started_app

DASHBOARD = "/analyst/campaigns/QUAY-2026/dashboard"


@pytest_asyncio.fixture(scope="module")
async def earlier_campaign(app):
    """QUAY-2025: SO01 with 6 copied responses, SO02 with 3 (below the threshold of 5)."""
    campaign_id = await copy_campaign("QUAY-2026", "QUAY-2025", dt.date(2025, 1, 1), {"SO01": 6, "SO02": 3})
    yield "QUAY-2025"
    await delete_campaign(campaign_id)


async def test_unit_and_province_figures_equal_the_indices_command(analyst):
    page = (await analyst.get(DASHBOARD)).text
    province = (await run_indices("QUAY-2026"))["groups"][0]
    assert f'id="province-index">{shown_percent(province["overall"])}<' in page
    assert shown_interval(province["ci_low"], province["ci_high"]) in page
    checked = 0
    for group in (await run_indices("QUAY-2026", by="unit"))["groups"]:
        row = table_row(page, "data-unit", group["group"])
        if group["response_count"] >= 5:
            assert shown_percent(group["overall"]) in row and shown_interval(group["ci_low"], group["ci_high"]) in row
            assert f'<td class="num">{group["response_count"]}</td>' in row
            checked += 1
        else:
            assert "không đủ số phiếu" in row and shown_percent(group["overall"]) not in row
    assert checked >= 20
    for by, attribute in (("level", "data-level"), ("domain", "data-domain")):
        for group in (await run_indices("QUAY-2026", by=by))["groups"]:
            if group["response_count"] >= 5 and group["group"] != "(none)":
                assert shown_percent(group["overall"]) in table_row(page, attribute, group["group"])


async def test_ranking_puts_the_highest_index_first_and_charts_are_svg(analyst):
    page = (await analyst.get(DASHBOARD)).text
    groups = [g for g in (await run_indices("QUAY-2026", by="unit"))["groups"] if g["response_count"] >= 5]
    best = max(groups, key=lambda group: group["overall"])
    assert '<td class="num">1</td>' in table_row(page, "data-unit", best["group"])
    assert page.count('src="data:image/svg+xml;base64,') == 2


async def test_small_groups_show_no_figure(analyst, earlier_campaign):
    page = (await analyst.get(f"/analyst/campaigns/{earlier_campaign}/dashboard")).text
    assert "không đủ số phiếu" in table_row(page, "data-unit", "SO02")
    so01 = next(g for g in (await run_indices(earlier_campaign, by="unit"))["groups"] if g["group"] == "SO01")
    assert shown_percent(so01["overall"]) in table_row(page, "data-unit", "SO01")


async def test_trend_lists_earlier_campaigns_of_the_same_questionnaire(analyst, earlier_campaign):
    page = (await analyst.get(DASHBOARD)).text
    earlier = (await run_indices(earlier_campaign))["groups"][0]
    row = table_row(page, "data-campaign", earlier_campaign)
    assert "01/01/2025" in row and shown_percent(earlier["overall"]) in row
    assert page.index('data-campaign="QUAY-2025"') < page.index('data-campaign="QUAY-2026"')


async def test_targets_are_stored_compared_and_audit_logged(analyst):
    form = {"targets_form": "1", "target_overall": "99,5", "cmp_overall": ">=", "target_domain:dat_dai": "1",
            "cmp_domain:dat_dai": ">"}
    response = await post_form(analyst, "/analyst/campaigns/QUAY-2026/targets", form)
    assert response.status_code == 303
    campaign = await campaign_by_code("QUAY-2026")
    stored = {row["subject"]: (row["comparison"], row["value"])
              for row in await CampaignTarget.select().where(CampaignTarget.campaign == campaign["id"])}
    assert stored == {"overall": (">=", 99.5), "domain:dat_dai": (">", 1.0)}
    assert (await last_audit("campaign_targets"))["after"] == {"overall": [">=", 99.5], "domain:dat_dai": [">", 1.0]}
    page = (await analyst.get(DASHBOARD)).text
    province = (await run_indices("QUAY-2026"))["groups"][0]
    assert province["overall"] < 99.5 and "chưa đạt" in table_row(page, "data-subject", "overall")
    assert "đạt" in table_row(page, "data-subject", "domain:dat_dai")


async def test_a_bad_target_names_the_field_and_changes_nothing(analyst):
    campaign = await campaign_by_code("QUAY-2026")
    before = await CampaignTarget.count().where(CampaignTarget.campaign == campaign["id"])
    response = await post_form(analyst, "/analyst/campaigns/QUAY-2026/targets",
                               {"targets_form": "1", "target_overall": "120"})
    assert response.status_code == 422 and "Chỉ số chung: mục tiêu phải là số từ 0 đến 100" in response.text
    assert await CampaignTarget.count().where(CampaignTarget.campaign == campaign["id"]) == before


async def test_excluding_a_response_changes_only_the_without_view(analyst):
    _, scoring, frame = await campaign_frame("QUAY-2026")
    worst = int(frame.loc[frame[[c for c in frame.columns if c not in ("response_id", "unit", "level", "domain", "weight")]]
                          .sum(axis=1).idxmin(), "response_id"])
    asked = await post_form(analyst, "/analyst/campaigns/QUAY-2026/quality",
                            {"response_id": str(worst), "decision": "exclude"}, "/analyst/campaigns/QUAY-2026/quality")
    assert asked.status_code == 200 and "không được tính vào chỉ số công bố" in asked.text
    assert not await QualityReview.exists().where(QualityReview.response == worst)
    response = await post_form(analyst, "/analyst/campaigns/QUAY-2026/quality",
                               {"response_id": str(worst), "decision": "exclude", "confirm": "yes",
                                "reason": "mọi câu cùng một mức"}, "/analyst/campaigns/QUAY-2026/quality")
    assert response.status_code == 303
    review = await QualityReview.select().where(QualityReview.response == worst).first()
    assert review["decision"] == "exclude" and review["reviewed_by"] == "analyst"
    assert review["reason"] == "mọi câu cùng một mức"
    assert "mọi câu cùng một mức" in (await analyst.get("/analyst/campaigns/QUAY-2026/quality")).text
    entry = await last_audit("quality_review")
    assert entry["target"] == f"response {worst}" and entry["detail"] == "lý do: mọi câu cùng một mức"
    kept = frame[frame["response_id"] != worst].reset_index(drop=True)
    without = compute_indices(kept, scoring, design=design_of(kept)[0])
    with_all = (await run_indices("QUAY-2026"))["groups"][0]
    assert shown_percent(without.overall) in (await analyst.get(DASHBOARD + "?excluded=without")).text
    assert f'id="province-index">{shown_percent(with_all["overall"])}<' in (await analyst.get(DASHBOARD)).text
    await post_form(analyst, "/analyst/campaigns/QUAY-2026/quality", {"response_id": str(worst), "decision": "keep"},
                    "/analyst/campaigns/QUAY-2026/quality")
    assert (await QualityReview.select().where(QualityReview.response == worst).first())["decision"] == "keep"


async def test_a_decision_on_another_campaigns_response_is_refused(analyst):
    other = await Response.select(Response.id).where(Response.campaign.code == "SIPAS-2026").first()
    response = await post_form(analyst, "/analyst/campaigns/QUAY-2026/quality",
                               {"response_id": str(other["id"]), "decision": "exclude", "confirm": "yes",
                                "reason": "thử"})
    assert response.status_code == 422 and "Phiếu này không thuộc đợt khảo sát" in response.text
    assert not await QualityReview.exists().where(QualityReview.response == other["id"])


async def test_the_quality_queue_lists_flagged_responses(analyst):
    page = await analyst.get("/analyst/campaigns/SIPAS-2026/quality")
    assert page.status_code == 200 and 'id="quality-queue"' in page.text


async def test_figures_are_cached_per_campaign_state(analyst):
    campaign = await campaign_by_code("QUAY-2026")
    assert await campaign_figures(campaign) is await campaign_figures(campaign)


async def test_weights_moved_between_responses_with_the_same_total_are_computed_again(analyst):
    """Post-stratification keeps the weights' total at the population: the cache must still see the change."""
    campaign = await campaign_by_code("QUAY-2026")
    first, second = await Response.select(Response.id, Response.weight).where(
        Response.campaign == campaign["id"]).order_by(Response.id).limit(2)
    before = await campaign_figures(campaign)
    try:
        await Response.update({Response.weight: first["weight"] + 0.5}).where(Response.id == first["id"])
        await Response.update({Response.weight: second["weight"] - 0.5}).where(Response.id == second["id"])
        assert await campaign_figures(campaign) is not before
    finally:
        for row in (first, second):
            await Response.update({Response.weight: row["weight"]}).where(Response.id == row["id"])


async def test_two_first_requests_compute_the_figures_once(app, monkeypatch):
    computed = []
    compute = dashboard_module.compute_figures
    monkeypatch.setattr(dashboard_module, "compute_figures", lambda *arguments: computed.append(1) or compute(*arguments))
    monkeypatch.setattr(dashboard_module, "_figures", LRUCache(maxsize=32))
    campaign = await campaign_by_code("QUAY-2026")
    first, second = await asyncio.gather(campaign_figures(campaign), campaign_figures(campaign))
    assert first is second and len(computed) == 1


async def test_a_raised_suppress_below_hides_a_unit_the_default_shows(app, settings, analyst):
    groups = (await run_indices("QUAY-2026", by="unit"))["groups"]
    smallest = min((group for group in groups if group["response_count"] >= 5), key=lambda g: g["response_count"])
    figure = shown_percent(smallest["overall"])
    assert figure in table_row((await analyst.get(DASHBOARD)).text, "data-unit", smallest["group"])
    threshold = smallest["response_count"] + 1
    async with started_app(app, dataclasses.replace(settings, suppress_below=threshold)) as strict:
        strict_client = await signed_in_client(strict, "analyst")
        page = (await strict_client.get(DASHBOARD)).text
        await strict_client.aclose()
    row = table_row(page, "data-unit", smallest["group"])
    assert "không đủ số phiếu" in row and figure not in row
    assert f"Nhóm dưới {threshold} phiếu" in page


async def test_a_small_units_officials_answers_are_in_no_figure_of_the_dashboard(analyst, settings):
    """A parent commune with 2 answers of its own, its child with 5. The parent's row shows nothing, and every
    figure on the page (province, level, domain, child) holds the child's 5 only: the reviewer's attack, 7·province
    − 5·child, has no 7 to start from."""
    exposed = await officials_parent_and_child(2, settings.suppress_below)
    page = (await analyst.get(f"/analyst/campaigns/{exposed['campaign']}/dashboard")).text
    assert "không đủ số phiếu" in table_row(page, "data-unit", exposed["parent"])
    assert "không đủ số phiếu" not in table_row(page, "data-unit", exposed["child"])
    assert "không đủ số phiếu" not in table_row(page, "data-level", "xa")
    assert shown_counts(page) == {settings.suppress_below} and f"· {settings.suppress_below} phiếu" in page


async def test_a_level_whose_units_are_all_shown_keeps_its_figure(analyst, settings):
    fine = await officials_parent_and_child(settings.suppress_below, settings.suppress_below)
    page = (await analyst.get(f"/analyst/campaigns/{fine['campaign']}/dashboard")).text
    for attribute, value in (("data-unit", fine["parent"]), ("data-unit", fine["child"]), ("data-level", "xa")):
        row = table_row(page, attribute, value)
        assert "không đủ số phiếu" not in row and " %" in row
