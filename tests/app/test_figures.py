"""Stored figures (survey_app/results/figures.py): sums folded as responses arrive, exclusions taken out and put back, a large
backlog folded in the background while the last figures are served, nothing read from answers when nothing changed,
and the same figures as analysis.sipas on the raw answers."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
import pytest_asyncio

from analysis.sipas import compute_indices
from survey_app.results import figures
from survey_app.results.dashboard import campaign_by_code, campaign_figures
from survey_app.core.campaign_tables import QualityReview
from survey_app.results.frames import campaign_frame, design_of
from survey_app.core.figure_tables import FigureCell, FigureState
from survey_app.core.tables import Response
from tests.app.analyst_helpers import LateResponse, copy_campaign, delete_campaign

UNITS = {"SO01": 6, "SO02": 6, "H01": 6}


@pytest_asyncio.fixture
async def campaign(app):
    code = f"FOLD-{uuid.uuid4().hex[:6]}"
    campaign_id = await copy_campaign("QUAY-2026", code, dt.date(2026, 3, 1), UNITS)
    yield await campaign_by_code(code)
    await delete_campaign(campaign_id)


async def raw_province(code: str) -> dict:
    """The province figure from the raw answers (without excluded responses), as analysis/ computes it."""
    campaign, scoring, frame = await campaign_frame(code)
    excluded = {row["response"] for row in await QualityReview.select(QualityReview.response).where(
        (QualityReview.campaign == campaign["id"]) & (QualityReview.decision == "exclude"))}
    frame = frame[~frame["response_id"].isin(excluded)].reset_index(drop=True)
    return compute_indices(frame, scoring, design=design_of(frame)[0]).to_dict()


def same_figure(stored: dict, raw: dict) -> None:
    assert stored["response_count"] == raw["response_count"]
    for key in ("overall", "se", "ci_low", "ci_high"):
        assert stored[key] == pytest.approx(raw[key], rel=1e-9, abs=1e-6), key


async def add_copy(campaign: dict) -> int:
    row = await Response.select().where(Response.campaign == campaign["id"]).order_by(Response.id).first()
    copy = Response(**{key: row[key] for key in ("campaign", "unit", "counter", "domain", "questionnaire",
                                                 "answers_digest", "weight", "answers")},
                    idempotency_key=uuid.uuid4().hex, channel="test")
    await copy.save()
    return copy.id


async def test_new_responses_and_exclusions_are_folded_into_the_stored_sums(campaign):
    same_figure((await campaign_figures(campaign))["province"], await raw_province(campaign["code"]))
    added = await add_copy(campaign)
    state = await FigureState.select().where(FigureState.campaign == campaign["id"]).first()
    assert state["through_response"] < added
    after = (await campaign_figures(campaign))["province"]
    assert after["response_count"] == sum(UNITS.values()) + 1
    same_figure(after, await raw_province(campaign["code"]))

    worst = (await Response.select(Response.id).where(Response.campaign == campaign["id"]).order_by(Response.id)
             .offset(3).first())["id"]
    await QualityReview.insert(QualityReview(campaign=campaign["id"], response=worst, decision="exclude"))
    excluded = (await campaign_figures(campaign))["province"]
    assert excluded["response_count"] == sum(UNITS.values())
    same_figure(excluded, await raw_province(campaign["code"]))
    await QualityReview.update({QualityReview.decision: "keep"}).where(QualityReview.response == worst)
    same_figure((await campaign_figures(campaign))["province"], await raw_province(campaign["code"]))
    assert await FigureCell.count().where(FigureCell.campaign == campaign["id"]) <= len(UNITS) * 10


async def test_a_current_state_reads_no_answer(campaign, client, monkeypatch):
    await campaign_figures(campaign)

    def no_answers(*_):
        raise AssertionError("answers were read on request")

    monkeypatch.setattr(figures, "_chunk_sums", no_answers)
    response = await client.get("/api/v1/units/SO01/index", params={"campaign": campaign["code"]})
    assert response.status_code == 200 and response.json()["index"]["response_count"] == UNITS["SO01"]


async def test_a_large_backlog_is_folded_in_the_background_while_the_last_figures_are_served(campaign, monkeypatch):
    before = (await campaign_figures(campaign))["province"]
    monkeypatch.setattr(figures, "AWAIT_AT_MOST", -1)  # every backlog counts as large
    await add_copy(campaign)
    served = (await campaign_figures(campaign))["province"]
    assert served["response_count"] == before["response_count"]  # not waited for
    await asyncio.gather(*figures._folding.values())
    assert (await campaign_figures(campaign))["province"]["response_count"] == before["response_count"] + 1


async def test_folding_every_campaign_rebuilds_lost_sums(campaign):
    """What the migration's backfill and `survey serve` do: a campaign without stored sums gets them."""
    expected = (await campaign_figures(campaign))["province"]
    await FigureCell.delete().where(FigureCell.campaign == campaign["id"])
    await FigureState.delete().where(FigureState.campaign == campaign["id"])
    await figures.refresh_every_campaign()
    assert await FigureCell.count().where(FigureCell.campaign == campaign["id"]) > 0
    figures._cells.clear()
    same_figure((await campaign_figures(campaign))["province"], expected)


async def test_public_figures_may_lag_new_answers_by_max_age_then_catch_up(campaign, monkeypatch):
    """RESULTS_MAX_AGE_SECONDS: within it the last figures are served without any database read of figures; after
    it the same figures are served at once while newer ones are made, which the next request gets."""
    from survey_app.results import dashboard
    from survey_app.results.services import unit_index

    first = (await unit_index("SO01", campaign["code"], max_age=60))["index"]
    await add_copy(campaign)  # a copy of the campaign's first response, of SO01
    monkeypatch.setattr(figures, "fresh_state", None)  # any read of the stored state would fail
    assert (await unit_index("SO01", campaign["code"], max_age=60))["index"] == first
    monkeypatch.undo()
    key = (campaign["id"], True, 5)
    dashboard._last[key] = (dashboard._last[key][0] - 120, dashboard._last[key][1])  # two minutes old
    assert (await unit_index("SO01", campaign["code"], max_age=60))["index"] == first  # served at once
    await asyncio.gather(*dashboard._refreshing.values())
    caught_up = (await unit_index("SO01", campaign["code"], max_age=60))["index"]
    assert caught_up["response_count"] == first["response_count"] + 1


async def test_a_response_committed_after_a_higher_id_was_folded_is_folded_too(campaign, settings):
    """PostgreSQL: a response takes its id when inserted and may commit after a later one was read; the fold reads
    only up to ids no open transaction can still add below (on SQLite the one writer commits ids in order)."""
    if settings.is_sqlite:
        pytest.skip("SQLite's one writer commits ids in order")
    before = (await campaign_figures(campaign))["province"]["response_count"]
    first = (await Response.select(Response.id).where(Response.campaign == campaign["id"]).order_by(Response.id)
             .first())["id"]
    async with LateResponse(settings.database_url, first) as late:
        higher = await add_copy(campaign)
        assert higher > late.id
        await campaign_figures(campaign)  # the fold runs while the lower id is not committed
        await late.commit()
    after = (await campaign_figures(campaign))["province"]
    assert after["response_count"] == before + 2
    same_figure(after, await raw_province(campaign["code"]))
