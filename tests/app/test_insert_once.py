"""insert_once under concurrency, on the suite's database (SQLite's writer thread or PostgreSQL's batching task):
answers sent together are stored once each, a retry is told from a conflict, a bad row fails alone."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import pytest

from survey_app.core.db import insert_once
from survey_app.core.pg_writer import PostgresInsertBatcher
from survey_app.core.tables import Campaign, Counter, Response


async def row_factory():
    campaign = await Campaign.select().where(Campaign.code == "QUAY-2026").first()
    counter = await Counter.select().first()

    def row(key: str, digest: str, dossier: str | None = None, campaign_id: int | None = None) -> dict:
        return {"campaign": campaign_id or campaign["id"], "unit": counter["unit"], "counter": counter["id"],
                "domain": None, "questionnaire": campaign["questionnaire"], "idempotency_key": key,
                "answers_digest": digest, "answers": json.dumps({"q": 1}), "dossier_hash": dossier,
                "submitted_at": dt.datetime.now(dt.timezone.utc)}

    return row


async def store_together(rows: list[dict]) -> list:
    return await asyncio.gather(
        *(insert_once(Response, row, key="idempotency_key", wanted="answers_digest") for row in rows),
        return_exceptions=True)


async def stored_keys(prefix: str) -> list[str]:
    rows = await Response.select(Response.idempotency_key).where(Response.idempotency_key.like(prefix + "%"))
    return sorted(row["idempotency_key"] for row in rows)


async def test_rows_sent_together_are_each_stored_once_and_retries_are_recognised(app):
    row, prefix = await row_factory(), f"together-{uuid.uuid4().hex[:8]}-"
    fresh = [row(f"{prefix}{number}", "d" * 64) for number in range(40)]
    retry = row(f"{prefix}0", "d" * 64)  # the same key and answers again, in the same batch
    conflict = row(f"{prefix}1", "e" * 64)  # the same key with other answers
    dossier = f"dossier-{uuid.uuid4().hex}"
    first_rating, second_rating = row(f"{prefix}x", "f" * 64, dossier), row(f"{prefix}y", "f" * 64, dossier)
    outcomes = await store_together([*fresh, retry, conflict, first_rating, second_rating])
    assert outcomes[:40] == [(True, None)] * 40
    assert outcomes[40] == (False, "d" * 64)  # a retry: the stored digest equals its own
    assert outcomes[41] == (False, "d" * 64)  # a conflict: the stored digest differs from its "e…"
    assert outcomes[42] == (True, None) and outcomes[43] == (False, None)  # a dossier rated twice: no such key
    assert await stored_keys(prefix) == sorted([f"{prefix}{number}" for number in range(40)] + [f"{prefix}x"])


async def test_a_row_the_database_refuses_fails_alone(app):
    row, prefix = await row_factory(), f"alone-{uuid.uuid4().hex[:8]}-"
    good = [row(f"{prefix}{number}", "d" * 64) for number in range(10)]
    unknown_campaign = row(f"{prefix}bad", "d" * 64, campaign_id=987654321)  # breaks the foreign key
    outcomes = await store_together([*good[:5], unknown_campaign, *good[5:]])
    assert isinstance(outcomes[5], Exception)
    assert [outcome for index, outcome in enumerate(outcomes) if index != 5] == [(True, None)] * 10
    assert await stored_keys(prefix) == sorted(f"{prefix}{number}" for number in range(10))


class HangingPool:
    """A pool whose connection never comes: the batcher's task is stuck inside a batch."""

    def acquire(self, timeout=None):
        return self

    async def __aenter__(self):
        await asyncio.sleep(3600)

    async def __aexit__(self, *exc_info):
        return False


async def test_callers_of_a_batcher_that_dies_get_an_error_not_a_hang():
    batcher = PostgresInsertBatcher(HangingPool())
    batcher.start()
    waiting = [asyncio.ensure_future(batcher.insert_once("response", {"idempotency_key": f"k{n}", "d": "x"},
                                                         "idempotency_key", "d")) for n in range(3)]
    await asyncio.sleep(0.05)  # the first batch is taken and stuck; the others wait in the queue or the batch
    batcher._task.cancel()  # e.g. a shutdown that does not drain, or a bug that ends the task
    outcomes = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), timeout=10)
    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)
    with pytest.raises(ConnectionError):
        await batcher.insert_once("response", {"idempotency_key": "late", "d": "x"}, "idempotency_key", "d")


async def test_of_two_copies_of_a_key_only_the_one_kept_is_told_stored(app):
    row, prefix = await row_factory(), f"copies-{uuid.uuid4().hex[:8]}-"
    rated = f"dossier-{uuid.uuid4().hex}"
    assert await store_together([row(f"{prefix}first", "a" * 64, rated)]) == [(True, None)]
    # the same key twice in one batch: one copy names the dossier already rated (refused), the other a new one
    refused_copy, kept_copy = row(f"{prefix}k", "b" * 64, rated), row(f"{prefix}k", "c" * 64, f"new-{rated}")
    outcomes = await store_together([refused_copy, kept_copy])
    assert outcomes[0][0] is False and outcomes[1] == (True, None)
    stored = await Response.select(Response.answers_digest).where(Response.idempotency_key == f"{prefix}k")
    assert stored == [{"answers_digest": "c" * 64}]


def test_the_answers_digest_stays_what_earlier_versions_stored():
    """A retry is told from a conflict by this digest, also when it spans an upgrade: its text may never change."""
    from survey_app.public.services import answers_digest

    answers = {"reception": 4, "domain": "đất_đai", "why": 'Chờ "lâu"', "rate": 3.5, "many": ["a", "b"],
               "_dossier_hash": None}
    assert answers_digest(answers) == "89c623dc23575ee85f23b26d45246c2e10bd3b0d3d490a279cce1d0facde28c8"
