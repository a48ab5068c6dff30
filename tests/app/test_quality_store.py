"""Stored quality flags (survey_app/results/quality_store.py): flagged in batches of any size, they equal
analysis.quality.quality_flags computed in one pass over the whole campaign, and new responses are flagged as they
arrive without reading the earlier ones' answers again."""

from __future__ import annotations

import datetime as dt
import uuid

import pandas as pd
import pytest
import pytest_asyncio

from analysis.quality import quality_flags
from survey_app.core import db
from survey_app.core.tables import Response
from survey_app.results import quality_store
from survey_app.results.dashboard import campaign_by_code
from survey_app.results.frames import campaign_frame
from survey_app.results.quality_store import RULE_BITS
from tests.app.analyst_helpers import LateResponse, copy_campaign, delete_campaign


@pytest_asyncio.fixture
async def campaign(app):
    code = f"FLAG-{uuid.uuid4().hex[:6]}"
    campaign_id = await copy_campaign("SIPAS-2026", code, dt.date(2026, 3, 1), {})
    await _copies_of_every_response("SIPAS-2026", campaign_id, 120)
    await _in_order_of_submission(campaign_id)
    yield await campaign_by_code(code)
    await delete_campaign(campaign_id)


async def _copies_of_every_response(source_code: str, campaign_id: int, limit: int) -> None:
    source = await campaign_by_code(source_code)
    rows = await Response.select().where(Response.campaign == source["id"]).order_by(Response.id).limit(limit)
    await Response.insert(*[Response(campaign=campaign_id, **{key: row[key] for key in (
        "unit", "counter", "domain", "questionnaire", "answers_digest", "answers")}, idempotency_key=uuid.uuid4().hex,
        channel="test") for row in rows])


async def _in_order_of_submission(campaign_id: int) -> None:
    """Times that follow the ids (as answers arrive), 97 s apart; the first six of every twenty responses identical
    and from one counter, so bursts happen; every ninth fast."""
    rows = await Response.select(Response.id, Response.answers, Response.counter).where(
        Response.campaign == campaign_id).order_by(Response.id)
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)
    previous = None
    for number, row in enumerate(rows):
        submitted = start + dt.timedelta(seconds=97 * number)
        answers = previous["answers"] if previous and 0 < number % 20 < 6 else row["answers"]
        seconds = 20 if number % 9 == 0 else 180 + number
        await Response.update({Response.submitted_at: submitted, Response.answers: answers,
                               Response.counter: previous["counter"] if previous and 0 < number % 20 < 6 else row["counter"],
                               Response.started_at: submitted - dt.timedelta(seconds=seconds)}).where(
            Response.id == row["id"])
        previous = {"answers": answers, "counter": previous["counter"] if previous and 0 < number % 20 < 6 else row["counter"]}


async def one_pass_flags(code: str) -> pd.DataFrame:
    """quality_flags on the whole campaign, as the queue computed them before flags were stored."""
    campaign, _, frame = await campaign_frame(code)
    items = [column for column in frame.columns if column not in ("response_id", "unit", "level", "domain", "weight")]
    rows = await Response.select(Response.id, Response.started_at, Response.submitted_at,
                                 Response.counter.code.as_alias("counter")).where(Response.campaign == campaign["id"])
    timing = pd.DataFrame(rows).set_index("id").reindex(frame["response_id"].to_numpy())
    submitted = pd.to_datetime(timing["submitted_at"], utc=True)
    durations = (submitted - pd.to_datetime(timing["started_at"], utc=True)).dt.total_seconds()
    answers = frame[items].set_axis(frame["response_id"].to_numpy())
    return quality_flags(answers, durations, timing["counter"].fillna("(none)"), submitted)


async def stored_flags(campaign_id: int) -> pd.DataFrame:
    rows = await db.fetch_tuples("SELECT response, rules, outlier_score FROM quality_flag WHERE campaign = $1 "
                                 "ORDER BY response", campaign_id)
    frame = pd.DataFrame(rows, columns=["response", "rules", "outlier_score"]).set_index("response")
    for name, bit in RULE_BITS.items():
        frame[name] = (frame["rules"] & bit) > 0
    return frame


@pytest.mark.parametrize("batch", [3, 7, 40, 20_000])
async def test_flags_in_batches_equal_one_pass_over_the_campaign(campaign, monkeypatch, batch):
    """Every rule, outlier model included (the campaign is smaller than MODEL_SAMPLE): the same responses flagged."""
    monkeypatch.setattr(quality_store, "BATCH", batch)
    await quality_store.keep_up(campaign)
    while quality_store.updating(campaign["id"]):
        await quality_store._updating[campaign["id"]]
    expected, stored = await one_pass_flags(campaign["code"]), await stored_flags(campaign["id"])
    assert list(stored.index) == list(expected.index)
    for name in RULE_BITS:
        assert stored[name].tolist() == expected[name].tolist(), name
    assert stored["outlier_score"].to_numpy() == pytest.approx(expected["outlier_score"].to_numpy())
    assert expected["burst"].any() and expected["speeding"].any() and expected["outlier"].any()


async def test_a_new_response_is_flagged_without_reading_the_earlier_answers_again(campaign, monkeypatch):
    monkeypatch.setattr(quality_store, "MODEL_SAMPLE", 50)  # the model is fixed after the first 50 responses
    await quality_store.keep_up(campaign)
    before = await quality_store.latest_response_id(campaign["id"])
    first = await Response.select().where(Response.campaign == campaign["id"]).order_by(Response.id).first()
    copy = Response(**{key: first[key] for key in ("campaign", "unit", "counter", "domain", "questionnaire",
                                                   "answers_digest", "weight", "answers")},
                    idempotency_key=uuid.uuid4().hex, channel="test",
                    submitted_at=dt.datetime(2026, 3, 3, 8, 0, tzinfo=dt.timezone.utc),
                    started_at=dt.datetime(2026, 3, 3, 7, 58, tzinfo=dt.timezone.utc))
    await copy.save()
    read = []
    fetch = db.fetch_tuples

    async def counted(sql, *arguments):
        if sql == quality_store.ROWS_SQL:
            read.append(arguments)
        return await fetch(sql, *arguments)

    monkeypatch.setattr(db, "fetch_tuples", counted)
    await quality_store.keep_up(campaign)
    assert [arguments[1:3] for arguments in read] == [(before, copy.id)]  # the new response's answers only
    stored = await stored_flags(campaign["id"])
    # a day later, alone in its window, but the same counter and answers as a group that held a run: flagged from
    # the group's first run kept in the state, as bursts() over the whole campaign flags it
    assert len(stored) == 121 and stored.loc[copy.id, "burst"]
    assert stored["burst"].tolist() == (await one_pass_flags(campaign["code"]))["burst"].tolist()


async def test_under_serve_a_batch_runs_in_the_worker_on_its_own_connection_at_lower_priority(campaign, settings,
                                                                                             monkeypatch):
    """batch_in_worker is what the worker process runs: its own connection, a thread of lower CPU priority."""
    import os

    priorities = []
    monkeypatch.setattr(os, "setpriority", lambda which, who, value: priorities.append((who, value)))
    flagged, more = quality_store.batch_in_worker(settings, campaign)  # the test's loop waits: nothing else runs
    assert (flagged, more) == (120, False)
    assert priorities and priorities[0][0] not in (0, os.getpid()) and priorities[0][1] > 0
    assert (await stored_flags(campaign["id"]))["burst"].tolist() == (await one_pass_flags(campaign["code"]))["burst"].tolist()


async def test_a_response_committed_after_a_higher_id_was_flagged_is_flagged_too(campaign, settings):
    """PostgreSQL: a response takes its id when inserted and may commit after a later one was flagged; batches read
    only up to ids no open transaction can still add below."""
    if settings.is_sqlite:
        pytest.skip("SQLite's one writer commits ids in order")
    await quality_store.keep_up(campaign)
    first = await Response.select().where(Response.campaign == campaign["id"]).order_by(Response.id).first()
    async with LateResponse(settings.database_url, first["id"]) as late:
        copy = Response(**{key: first[key] for key in ("campaign", "unit", "counter", "domain", "questionnaire",
                                                       "answers_digest", "weight", "answers", "submitted_at",
                                                       "started_at")},
                        idempotency_key=uuid.uuid4().hex, channel="test")
        await copy.save()
        assert copy.id > late.id
        await quality_store.keep_up(campaign)  # a batch runs while the lower id is not committed
        await late.commit()
    await quality_store.keep_up(campaign)
    while quality_store.updating(campaign["id"]):
        await quality_store._updating[campaign["id"]]
    stored = await stored_flags(campaign["id"])
    assert {late.id, copy.id} <= set(stored.index) and len(stored) == 122
