"""The dashboard shows exactly what analysis/ computes (via `survey indices`), suppresses small groups, compares
with stored targets, follows earlier campaigns, and shows indices with and without excluded responses."""

from __future__ import annotations

import asyncio
import re
import dataclasses
import datetime as dt

import pytest
import pytest_asyncio
from cachetools import LRUCache

from analysis.sipas import compute_indices, compute_indices_by
from survey_app.core.campaign_tables import CampaignTarget, QualityReview
from survey_app.core.figure_tables import QualityFlag, QualityFlagState
from survey_app.core.tables import Response
from survey_app.results import dashboard as dashboard_module
from survey_app.results import figures as figures_module
from survey_app.results.analysis import run_indices
from survey_app.results.dashboard import campaign_by_code, campaign_figures, unit_rows
from survey_app.results.figures import descendants, fold_again
from survey_app.results.frames import campaign_frame, design_of
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
    """Each unit's figure is the unit with the units below it, as on the report, manager view and public results
    (computed here from the raw answers), and its own responses' figure is labelled beside it."""
    page = (await analyst.get(DASHBOARD)).text
    province = (await run_indices("QUAY-2026"))["groups"][0]
    assert f'id="province-index">{shown_percent(province["overall"])}<' in page
    assert shown_interval(province["ci_low"], province["ci_high"]) in page
    _, scoring, frame = await campaign_frame("QUAY-2026")
    design = design_of(frame)[0]
    below = descendants(await unit_rows())
    alone = {group["group"]: group for group in (await run_indices("QUAY-2026", by="unit"))["groups"]}
    checked = with_communes = 0
    for code in sorted(set(frame["unit"])):
        members = frame["unit"].isin(below[code])
        group = compute_indices_by(frame, scoring, members, design=design)[True].to_dict()
        row = table_row(page, "data-unit", code)
        if group["response_count"] >= 5:
            assert shown_percent(group["overall"]) in row and shown_interval(group["ci_low"], group["ci_high"]) in row
            assert f'<td class="num">{group["response_count"]}</td>' in row
            checked += 1
        else:
            assert "không đủ số phiếu" in row and shown_percent(group["overall"]) not in row
        if group["response_count"] != alone[code]["response_count"] and alone[code]["response_count"] >= 5:
            assert f'{shown_percent(alone[code]["overall"])} ({alone[code]["response_count"]} phiếu)' in row
            with_communes += 1
    assert checked >= 20 and with_communes >= 1 and "Chỉ số (gồm đơn vị trực thuộc)" in page
    for by, attribute in (("level", "data-level"), ("domain", "data-domain")):
        for group in (await run_indices("QUAY-2026", by=by))["groups"]:
            if group["response_count"] >= 5 and group["group"] != "(none)":
                assert shown_percent(group["overall"]) in table_row(page, attribute, group["group"])


async def test_ranking_puts_the_highest_index_first_and_charts_are_svg(analyst):
    page = (await analyst.get(DASHBOARD)).text
    by_unit = (await campaign_figures(await campaign_by_code("QUAY-2026")))["by"]["unit"]
    best = max(({"group": code, **group} for code, group in by_unit.items() if group["response_count"] >= 5),
               key=lambda group: group["overall"])
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


async def test_excluding_a_response_leaves_it_out_of_the_published_view(analyst):
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
    with_all = compute_indices(frame, scoring, design=design_of(frame)[0])
    assert f'id="province-index">{shown_percent(without.overall)}<' in (await analyst.get(DASHBOARD)).text
    assert (await run_indices("QUAY-2026"))["groups"][0]["overall"] == pytest.approx(without.overall)  # the CLI alike
    assert f'id="province-index">{shown_percent(with_all.overall)}<' in (await analyst.get(DASHBOARD + "?excluded=with")).text
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
        await fold_again(campaign["id"])  # as `survey weight` does in its transaction
        after = await campaign_figures(campaign)
        assert after is not before and after["province"]["overall"] != before["province"]["overall"]
    finally:
        for row in (first, second):
            await Response.update({Response.weight: row["weight"]}).where(Response.id == row["id"])
        await fold_again(campaign["id"])


async def test_two_first_requests_compute_the_figures_once(app, monkeypatch):
    computed = []
    compute = figures_module.figure_set
    monkeypatch.setattr(figures_module, "figure_set", lambda *arguments: computed.append(1) or compute(*arguments))
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
    parent, child = table_row(page, "data-unit", exposed["parent"]), table_row(page, "data-unit", exposed["child"])
    assert "không đủ số phiếu" in parent.split("data-alone>")[1]  # its own 2 answers
    assert "không đủ số phiếu" not in child
    assert parent.split("data-alone>")[0].split('"num">', 2)[2] == child.split("data-alone>")[0].split('"num">', 2)[2]
    assert "không đủ số phiếu" not in table_row(page, "data-level", "xa")
    assert shown_counts(page) == {settings.suppress_below} and f"· {settings.suppress_below} phiếu" in page


async def test_a_level_whose_units_are_all_shown_keeps_its_figure(analyst, settings):
    fine = await officials_parent_and_child(settings.suppress_below, settings.suppress_below)
    page = (await analyst.get(f"/analyst/campaigns/{fine['campaign']}/dashboard")).text
    for attribute, value in (("data-unit", fine["parent"]), ("data-unit", fine["child"]), ("data-level", "xa")):
        row = table_row(page, attribute, value)
        assert "không đủ số phiếu" not in row and " %" in row


async def test_the_quality_queue_is_paged(analyst, monkeypatch):
    """A campaign can flag thousands of responses: the page lists PAGE_SIZE of them and links to the next."""
    from survey_app.results import quality

    monkeypatch.setattr(quality, "PAGE_SIZE", 2)
    campaign = await campaign_by_code("SIPAS-2026")
    listed = await quality.queue(campaign, 5)
    assert listed["total"] > 2 and listed["pages"] == -(-listed["total"] // 2)
    first = (await analyst.get("/analyst/campaigns/SIPAS-2026/quality")).text
    second = (await analyst.get("/analyst/campaigns/SIPAS-2026/quality?page=2")).text
    shown = lambda page: re.findall(r'data-response="(\d+)"', page)  # noqa: E731
    assert shown(first) == [str(row["response_id"]) for row in listed["rows"]]
    assert shown(second) == [str(row["response_id"])
                             for row in (await quality.queue(campaign, 5, page_text="2"))["rows"]]
    assert len(set(shown(first) + shown(second))) == 4
    assert f"Trang 1/{listed['pages']}" in first and 'href="?page=2"' in first
    assert shown((await analyst.get("/analyst/campaigns/SIPAS-2026/quality?page=abc")).text) == shown(first)


async def test_a_large_backlog_is_flagged_in_batches_while_the_page_shows_its_progress(analyst, monkeypatch):
    """The page never waits for a whole campaign: beyond WAIT_FOR_AT_MOST new responses it shows "đang tính … %",
    what is flagged so far, and reloads itself; the batches go on in the background."""
    from survey_app.core import db
    from survey_app.results import quality_store

    campaign = await campaign_by_code("SIPAS-2026")
    async with db.write_transaction():
        await QualityFlag.delete().where(QualityFlag.campaign == campaign["id"])
        await QualityFlagState.delete().where(QualityFlagState.campaign == campaign["id"])
    monkeypatch.setattr(quality_store, "WAIT_FOR_AT_MOST", 0)
    monkeypatch.setattr(quality_store, "BATCH", 7)
    page = (await analyst.get("/analyst/campaigns/SIPAS-2026/quality")).text
    assert 'id="flags-progress"' in page and 'data-refresh="5"' in page
    assert re.search(r"Đang tính cờ chất lượng: \d+ %", page)
    await asyncio.gather(*quality_store._updating.values())
    done = (await analyst.get("/analyst/campaigns/SIPAS-2026/quality")).text
    assert 'id="quality-queue"' in done and 'id="flags-progress"' not in done and "data-refresh" not in done


async def test_an_officials_campaign_offers_no_period_and_never_claims_one(analyst, settings):
    """Officials' answers are published per whole campaign only: the page said "chỉ tính các phiếu gửi từ ngày …"
    over whole-campaign figures. It now offers no dates, says why, and a period in the link changes nothing."""
    fine = await officials_parent_and_child(settings.suppress_below, settings.suppress_below)
    whole = (await analyst.get(f"/analyst/campaigns/{fine['campaign']}/dashboard")).text
    dated = (await analyst.get(f"/analyst/campaigns/{fine['campaign']}/dashboard?starts_on=2099-01-01")).text
    assert 'name="starts_on"' not in whole and 'id="no-period"' in whole
    assert "gửi từ ngày" not in dated and shown_counts(dated) == shown_counts(whole)
    assert 'name="starts_on"' in (await analyst.get(DASHBOARD)).text  # a citizens' campaign keeps its period
