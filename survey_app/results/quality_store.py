"""Stored response-quality flags (issue #26): analysis/quality.py's rules, computed over the responses that arrived
since the last batch (BATCH at a time, never one pass over a campaign) and kept per response in quality_flag.

Per batch: straight-lining from each response alone; bursts from the batch and the responses submitted within the
window before its first (analysis.quality.burst_batch, with each counter-and-pattern group's first run kept in the
state); the outlier model fitted on the campaign's first MODEL_SAMPLE responses (refitted, and the stored responses
scored again, while the campaign has fewer) and applied to the batch; speeding against 0.3 × the median duration of
every stored response, read from the duration index after the batch is stored, the rows whose flag changes with
the new threshold set or cleared by range.

Equal to analysis.quality.quality_flags over the whole campaign when responses arrive in order of submission time
(ids follow it), and, for the outlier model, while the campaign has at most MODEL_SAMPLE responses; beyond, the
model is the one fitted on the first MODEL_SAMPLE (a bounded sample: fitting on a million answers held gigabytes),
and a response without a start time in a campaign whose sample had them all is scored with the sample's median
duration. Batches read only up to a settled id (figures.settled_response_id): on PostgreSQL a response committed
after one with a higher id was read is flagged all the same.

Under `survey serve` each batch runs in the worker process (worker_process.py): the answers, the model and its
memory never reach the web process, and staff pages' work waits for one batch at most.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import sqlite3
import threading
from dataclasses import dataclass

import msgspec
import numpy as np
import pandas as pd
from cachetools import LRUCache

from analysis.quality import OutlierModel, burst_batch, pattern_hashes, straight_lining
from survey_app.core import db, worker_process
from survey_app.results.figures import latest_response_id, settled_response_id

BATCH = 20_000  # responses flagged at a time: bounded memory, and the worker is free again within a second or two
MODEL_SAMPLE = 20_000  # the outlier model is fitted on the campaign's first this many responses
WAIT_FOR_AT_MOST = 5_000  # a page waits for flagging this many new responses at most; more go on in the background
WINDOW = "10min"
WINDOW_US = 600_000_000
SPEEDING_FRACTION = 0.3  # analysis.quality.speeding's default
RULE_BITS = {"straight_lining": 1, "burst": 2, "outlier": 4, "speeding": 8}  # speeding the highest: rules >= 8
MINIMUM_FOR_MODEL = 10  # analysis.quality.quality_flags fits no model on fewer

_models: LRUCache = LRUCache(maxsize=4)  # (campaign id, model_through) → OutlierModel, per process
_updating: dict[int, asyncio.Task] = {}  # campaign id → the flagging under way (one at a time)

ROWS_SQL = ("SELECT id, unit, COALESCE(counter, 0), started_at, submitted_at, answers FROM response "
            "WHERE campaign = $1 AND id > $2 AND id <= $3 ORDER BY id LIMIT $4")
DECODE = msgspec.json.Decoder()


@dataclass
class Batch:
    """Responses read for flagging, in order of id."""

    ids: np.ndarray
    units: np.ndarray
    counters: np.ndarray
    at_us: np.ndarray
    durations: pd.Series  # seconds, NaN without a start time
    ratings: pd.DataFrame

    def __len__(self) -> int:
        return len(self.ids)


def batch_of(rows: list, items: list[str]) -> Batch:
    """Ratings as campaign_frame reads them (numbers; 'na', text and booleans NaN), times in µs since 1970 UTC."""
    ids = np.array([row[0] for row in rows], dtype=np.int64)
    submitted = pd.to_datetime(pd.Series([row[4] for row in rows]), utc=True, format="mixed")
    started = pd.to_datetime(pd.Series([row[3] for row in rows]), utc=True, format="mixed")
    ratings = pd.DataFrame([_ratings(row[5], items) for row in rows], columns=items, dtype=float, index=ids)
    return Batch(ids, np.array([row[1] for row in rows], dtype=np.int64), np.array([row[2] for row in rows], dtype=np.int64),
                 submitted.dt.as_unit("us").astype("int64").to_numpy(),
                 pd.Series((submitted - started).dt.total_seconds().to_numpy(), index=ids), ratings)


def _ratings(answers, items: list[str]) -> list[float]:
    answers = answers if isinstance(answers, dict) else DECODE.decode(answers)
    return [float(value) if type(value) in (int, float) else math.nan for value in map(answers.get, items)]


# One batch.

@dataclass
class Flagged:
    """What one batch changes: its own rows, earlier rows now in a burst, earlier rows scored again."""

    rows: list[tuple]
    burst_ids: list[int]
    rescored: list[tuple]  # (outlier bit, score, response id)
    runs: dict[str, int]
    model_through: int


def flag_batch(batch: Batch, earlier: list, runs: dict[str, int], model: OutlierModel | None,
               rescore: Batch | None, campaign_id: int, model_through: int) -> Flagged:
    """The batch's flags (speeding apart: it needs the stored durations' median). `earlier`: stored rows submitted
    within the window before the batch's first (response, counter, pattern, at_us, rules)."""
    patterns = pattern_hashes(batch.ratings)
    earlier_ids = np.array([row[0] for row in earlier], dtype=np.int64)
    counters = np.concatenate([np.array([row[1] for row in earlier], dtype=np.int64), batch.counters])
    all_patterns = np.concatenate([np.array([row[2] for row in earlier], dtype=np.int64), patterns])
    times = np.concatenate([np.array([row[3] for row in earlier], dtype=np.int64), batch.at_us]) * 1000
    in_burst, found = burst_batch(counters, all_patterns, times, len(earlier), runs, WINDOW)
    already = np.array([row[4] & RULE_BITS["burst"] for row in earlier], dtype=bool)
    burst_ids = earlier_ids[in_burst[:len(earlier)] & ~already].tolist()
    rules = (straight_lining(batch.ratings).to_numpy() * RULE_BITS["straight_lining"]
             + in_burst[len(earlier):] * RULE_BITS["burst"])
    scores = np.full(len(batch), np.nan)
    rescored = []
    if model is not None:
        scored = model.score(batch.ratings, batch.durations)
        rules = rules + scored["outlier"].to_numpy() * RULE_BITS["outlier"]
        scores = scored["outlier_score"].to_numpy()
        if rescore is not None and len(rescore):
            again = model.score(rescore.ratings, rescore.durations)
            rescored = [(int(bit) * RULE_BITS["outlier"], float(score), int(rid))
                        for rid, bit, score in zip(rescore.ids, again["outlier"], again["outlier_score"])]
    rows = [(campaign_id, int(rid), int(unit), int(counter), int(at), None if math.isnan(duration) else float(duration),
             int(pattern), int(rule), None if math.isnan(score) else float(score))
            for rid, unit, counter, at, duration, pattern, rule, score in zip(
                batch.ids, batch.units, batch.counters, batch.at_us, batch.durations.to_numpy(), patterns, rules, scores)]
    return Flagged(rows, burst_ids, rescored, found, model_through)


async def flag_next_batch(campaign: dict) -> tuple[int, bool]:
    """Flag the next BATCH responses of the campaign; returns (responses flagged so far, whether more may wait)."""
    items = await _items(campaign)
    state = await _state(campaign["id"])
    latest = await settled_response_id(campaign["id"], otherwise=state["through_response"])
    if latest < state["through_response"]:  # responses were taken away (a test, a restore): start again
        async with _Writing() as writing:
            for table in ("quality_flag", "quality_flag_state"):
                await writing.execute_many(f"DELETE FROM {table} WHERE campaign = $1", [(campaign["id"],)])
        state = await _state(campaign["id"])
    rows = await db.fetch_tuples(ROWS_SQL, campaign["id"], state["through_response"], latest, BATCH)
    if not rows:
        return state["responses_seen"], False
    batch = await asyncio.to_thread(batch_of, rows, items)
    earlier = await _earlier(campaign["id"], batch)
    seen = state["responses_seen"] + len(batch)
    model, rescore, model_through = await _model(campaign["id"], items, state, batch, seen)
    flagged = await asyncio.to_thread(flag_batch, batch, earlier, json.loads(state["bursts"]), model, rescore,
                                      campaign["id"], model_through)
    missing = state["missing_durations"] + int(batch.durations.isna().sum())
    await _store(campaign["id"], flagged, state, {
        "through_response": int(batch.ids[-1]), "responses_seen": seen, "missing_durations": missing,
        "model_through": model_through, "bursts": json.dumps({**json.loads(state["bursts"]), **flagged.runs})})
    return seen, len(rows) == BATCH


async def _earlier(campaign_id: int, batch: Batch) -> list:
    """Stored responses with one of the batch's answer patterns, submitted within the window before its first: all
    a burst of the batch can hold (looked up by pattern, so answers all stored with one time stay bounded)."""
    patterns = sorted({int(pattern) for pattern in pattern_hashes(batch.ratings)})
    sqlite = await _on_sqlite()
    chosen = "(SELECT value FROM json_each($3))" if sqlite else "(SELECT unnest($3::bigint[]))"
    return await db.fetch_tuples(
        "SELECT response, counter, pattern, at_us, rules FROM quality_flag WHERE campaign = $1 AND at_us >= $2 "
        f"AND pattern IN {chosen} ORDER BY response", campaign_id, int(batch.at_us.min()) - WINDOW_US,
        json.dumps(patterns) if sqlite else patterns)


async def _model(campaign_id: int, items: list[str], state: dict, batch: Batch, seen: int):
    """The outlier model for this batch, the stored responses to score again (when the model changed) and the last
    response id of the model's sample."""
    if seen < MINIMUM_FOR_MODEL:
        return None, None, 0
    if state["responses_seen"] < MODEL_SAMPLE:  # the sample grows with this batch: fit again, score again
        stored = await _read(campaign_id, items, 0, state["through_response"], MODEL_SAMPLE)
        sample = _joined(stored, batch, MODEL_SAMPLE)
        model = await asyncio.to_thread(OutlierModel, sample.ratings, sample.durations)
        _models[(campaign_id, int(sample.ids[-1]))] = model
        return model, stored, int(sample.ids[-1])
    key = (campaign_id, state["model_through"])
    if key not in _models:
        sample = await _read(campaign_id, items, 0, state["model_through"], MODEL_SAMPLE)
        _models[key] = await asyncio.to_thread(OutlierModel, sample.ratings, sample.durations)
    return _models[key], None, state["model_through"]


async def _read(campaign_id: int, items: list[str], after: int, through: int, limit: int) -> Batch:
    rows = await db.fetch_tuples(ROWS_SQL, campaign_id, after, through, limit)
    return await asyncio.to_thread(batch_of, rows, items)


def _joined(first: Batch, second: Batch, limit: int) -> Batch:
    take = lambda a, b: np.concatenate([a, b])[:limit]  # noqa: E731
    return Batch(take(first.ids, second.ids), take(first.units, second.units), take(first.counters, second.counters),
                 take(first.at_us, second.at_us), pd.concat([first.durations, second.durations]).iloc[:limit],
                 pd.concat([first.ratings, second.ratings]).iloc[:limit])


# Storing a batch.

INSERT_COLUMNS = ("campaign", "response", "unit", "counter", "at_us", "duration", "pattern", "rules", "outlier_score")
# SQLite stores a batch in chunks, each its own short transaction, before the one that moves the watermark: after a
# crash between them the batch is flagged again, and its rows replace the ones already there
SQLITE_WRITE_CHUNK = 200  # 500 upserts into four indexes at 1 M stored flags held the lock 39 ms (p50), up to 116
# (200: 18–25 ms). Between two chunks: a writer that found the lock taken sleeps in SQLite's busy handler (1, 2, 5,
# 10, 15, 20 … ms) before trying again; chunks back to back took the lock again first each time, and citizens'
# answers waited for the whole batch; after a chunk of ~20 ms the waiter's next try comes within 15 ms
SQLITE_PAUSE = 0.05
UPSERT_SQL = (f"INSERT INTO quality_flag ({', '.join(INSERT_COLUMNS)}) VALUES "
              f"({', '.join(f'${n + 1}' for n in range(len(INSERT_COLUMNS)))}) ON CONFLICT (response) DO UPDATE SET "
              + ", ".join(f"{name} = excluded.{name}" for name in INSERT_COLUMNS[2:]))


async def _on_sqlite() -> bool:
    from piccolo.engine.sqlite import SQLiteEngine

    from survey_app.core.tables import Unit

    return isinstance(Unit._meta.db, SQLiteEngine)


async def _store(campaign_id: int, flagged: Flagged, state: dict, new_state: dict) -> None:
    """The batch's rows, the changes to earlier rows, the speeding flags against the new median and the state, in
    one transaction (SQLite: the batch's rows before it, in short ones): a page sees the flags before the batch or
    after, never half. The batch's rows are stored flagged against the threshold in force, so only the rows between
    it and the new one change."""
    bit, before = RULE_BITS["speeding"], state["speed_threshold"]
    rows = [row[:7] + (row[7] + bit if before is not None and row[5] is not None and row[5] < before else row[7],)
            + row[8:] for row in flagged.rows]
    sqlite = await _on_sqlite()
    if sqlite:  # its one write lock: citizens' answers wait for each transaction, so short ones
        for start in range(0, len(rows), SQLITE_WRITE_CHUNK):
            async with _Writing() as writing:
                await writing.execute_many(UPSERT_SQL, rows[start:start + SQLITE_WRITE_CHUNK])
            await asyncio.sleep(SQLITE_PAUSE)
        rows = []
        # the median read on a reader of its own, not under the write lock (an OFFSET of half a million index
        # entries at 1 M flags, with the UPDATE over every row below the threshold: the lock held up to 0.65 s)
        threshold = await _speed_threshold(db.fetch_tuples, campaign_id, new_state)
    async with _Writing() as writing:
        await writing.insert("quality_flag", INSERT_COLUMNS, rows)
        await writing.execute_many("UPDATE quality_flag SET rules = rules + 2 WHERE response = $1 AND (rules & 2) = 0",
                                   [(rid,) for rid in flagged.burst_ids])
        await writing.execute_many("UPDATE quality_flag SET rules = rules - (rules & 4) + $1, outlier_score = $2 "
                                   "WHERE response = $3", flagged.rescored)
        if not sqlite:  # the batch's rows are in this transaction
            threshold = await _speed_threshold(writing.fetch, campaign_id, new_state)
        await _mark_speeding(writing, campaign_id, before, threshold)
        values = {**new_state, "speed_threshold": threshold, "updated_at": dt.datetime.now(dt.timezone.utc)}
        names = list(values)
        if state["id"] is None:
            await writing.execute_many(
                f"INSERT INTO quality_flag_state (campaign, {', '.join(names)}) VALUES "
                f"($1, {', '.join(f'${n + 2}' for n in range(len(names)))})", [(campaign_id, *values.values())])
        else:
            await writing.execute_many(
                f"UPDATE quality_flag_state SET {', '.join(f'{name} = ${n + 2}' for n, name in enumerate(names))} "
                "WHERE campaign = $1", [(campaign_id, *values.values())])


async def _speed_threshold(fetch, campaign_id: int, state: dict) -> float | None:
    """SPEEDING_FRACTION × the median duration of every stored response (as pandas' median: the mean of the two
    middle ones for an even count); None while any response has no start time (the rule is then off, as in
    quality_flags)."""
    count = state["responses_seen"]
    if state["missing_durations"] or not count:
        return None
    middle = await fetch("SELECT duration FROM quality_flag WHERE campaign = $1 AND duration IS NOT NULL "
                         "ORDER BY duration LIMIT 2 OFFSET $2", campaign_id, (count - 1) // 2)
    median = middle[0][0] if count % 2 else (middle[0][0] + middle[1][0]) / 2
    return SPEEDING_FRACTION * median


async def _mark_speeding(writing: "_Writing", campaign_id: int, before: float | None, now: float | None) -> None:
    """Set or clear the speeding bit where the new threshold changes it (the rows between the two thresholds)."""
    bit = RULE_BITS["speeding"]
    if now is None or before is None:
        if before is not None:
            await writing.execute_many(f"UPDATE quality_flag SET rules = rules - {bit} WHERE campaign = $1 "
                                       f"AND rules >= {bit}", [(campaign_id,)])
        if now is not None:
            await writing.execute_many(f"UPDATE quality_flag SET rules = rules + {bit} WHERE campaign = $1 "
                                       f"AND duration < $2 AND rules < {bit}", [(campaign_id, now)])
        return
    if now > before:
        await writing.execute_many(f"UPDATE quality_flag SET rules = rules + {bit} WHERE campaign = $1 "
                                   f"AND duration >= $2 AND duration < $3 AND rules < {bit}", [(campaign_id, before, now)])
    elif now < before:
        await writing.execute_many(f"UPDATE quality_flag SET rules = rules - {bit} WHERE campaign = $1 "
                                   f"AND duration >= $2 AND duration < $3 AND rules >= {bit}",
                                   [(campaign_id, now, before)])


class _Writing:
    """One write transaction in plain SQL on either engine ($1 placeholders): SQLite through its own connection
    (BEGIN IMMEDIATE, waiting for the lock like every writer), PostgreSQL on a pooled connection with COPY."""

    async def __aenter__(self) -> "_Writing":
        from piccolo.engine.sqlite import SQLiteEngine

        from survey_app.core.tables import Unit

        engine = Unit._meta.db
        self.sqlite = None
        if isinstance(engine, SQLiteEngine):
            self.sqlite = await asyncio.to_thread(self._open_sqlite, engine.path, getattr(getattr(engine, "writer", None),
                                                                                          "busy_timeout", 5.0))
        else:
            self.connection = await engine.pool.acquire()
            self.transaction = self.connection.transaction()
            await self.transaction.start()
        return self

    @staticmethod
    def _open_sqlite(path: str, busy_timeout: float) -> sqlite3.Connection:
        connection = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        connection.execute("BEGIN IMMEDIATE")
        return connection

    async def __aexit__(self, kind, error, trace) -> None:
        if self.sqlite is not None:
            def finish():
                try:
                    self.sqlite.execute("COMMIT" if kind is None else "ROLLBACK")
                finally:
                    self.sqlite.close()
            await asyncio.to_thread(finish)
            return
        try:
            await (self.transaction.commit() if kind is None else self.transaction.rollback())
        finally:
            from survey_app.core.tables import Unit

            await Unit._meta.db.pool.release(self.connection)

    async def fetch(self, sql: str, *arguments) -> list:
        if self.sqlite is not None:
            return await asyncio.to_thread(lambda: self.sqlite.execute(sql.replace("$", "?"), arguments).fetchall())
        return await self.connection.fetch(sql, *arguments)

    async def execute_many(self, sql: str, rows: list) -> None:
        if not rows:
            return
        if self.sqlite is not None:
            await asyncio.to_thread(self.sqlite.executemany, sql.replace("$", "?"), rows)
        else:
            await self.connection.executemany(sql, rows)

    async def insert(self, table: str, columns: tuple[str, ...], rows: list) -> None:
        if not rows:
            return
        if self.sqlite is not None:
            await self.execute_many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                                    f"({', '.join(f'${n + 1}' for n in range(len(columns)))})", rows)
        else:
            await self.connection.copy_records_to_table(table, records=rows, columns=list(columns))


# The state, the items, keeping up to date.

async def _state(campaign_id: int) -> dict:
    rows = await db.fetch_tuples("SELECT id, through_response, responses_seen, missing_durations, speed_threshold, "
                                 "model_through, bursts FROM quality_flag_state WHERE campaign = $1", campaign_id)
    names = ("id", "through_response", "responses_seen", "missing_durations", "speed_threshold", "model_through",
             "bursts")
    return dict(zip(names, rows[0])) if rows else dict(zip(names, (None, 0, 0, 0, None, 0, "{}")))


async def _items(campaign: dict) -> list[str]:
    """The scoring map's items, in the order campaign_frame reads them (the answer pattern's columns)."""
    from survey_app.results.figures import scoring_of

    scoring, _ = await scoring_of(campaign)
    return [item for factor in scoring["factors"] for criterion in factor["criteria"] for item in criterion["items"]]


async def progress(campaign_id: int) -> tuple[int, int]:
    """(responses flagged, percent of the campaign's id range flagged) for the page's "đang tính … %": no count of
    the campaign (on PostgreSQL, a million rows just loaded took a second to count)."""
    state = await _state(campaign_id)
    [(first, latest)] = await db.fetch_tuples("SELECT MIN(id), MAX(id) FROM response WHERE campaign = $1", campaign_id)
    if not latest or state["through_response"] >= latest:
        return state["responses_seen"], 100
    done = max(state["through_response"] - first + 1, 0) / (latest - first + 1)
    return state["responses_seen"], min(99, int(100 * done))


async def at_least(campaign_id: int, after: int, count: int) -> int:
    """How many responses of the campaign have an id above `after`, counted up to `count` at most (bounded)."""
    [(found,)] = await db.fetch_tuples("SELECT COUNT(*) FROM (SELECT 1 FROM response WHERE campaign = $1 AND id > $2 "
                                       f"LIMIT {int(count)}) AS newer", campaign_id, after)
    return found


def updating(campaign_id: int) -> bool:
    return campaign_id in _updating


async def keep_up(campaign: dict, settings=None) -> None:
    """Start flagging the campaign's new responses in the background (one flagging per campaign at a time); wait for
    it when at most WAIT_FOR_AT_MOST are new."""
    state = await _state(campaign["id"])
    latest = await latest_response_id(campaign["id"])
    if latest <= state["through_response"]:
        return
    task = _updating.get(campaign["id"])
    if task is None:
        task = _updating[campaign["id"]] = asyncio.ensure_future(_flag_all(campaign, settings))
        task.add_done_callback(lambda done: (_updating.pop(campaign["id"], None), done.cancelled() or done.exception()))
    if await at_least(campaign["id"], state["through_response"], WAIT_FOR_AT_MOST + 1) <= WAIT_FOR_AT_MOST:
        await asyncio.shield(task)


async def _flag_all(campaign: dict, settings) -> None:
    while True:
        if worker_process.ENABLED and settings is not None:
            _, more = await worker_process.run(batch_in_worker, settings, campaign)
        else:
            _, more = await flag_next_batch(campaign)
        if not more:
            return


def batch_in_worker(settings, campaign: dict) -> tuple[int, bool]:
    """One batch in the worker process, on its own connection (the process keeps its fitted models between calls),
    in a thread of lower CPU priority (Linux: niceness is per thread, and the threads it starts inherit it): the
    web process answering citizens gets the CPU first."""
    outcome: dict = {}

    def run() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)
            outcome["value"] = asyncio.run(db.run_connected(settings, lambda: flag_next_batch(campaign),
                                                            migrate_first=False))
        except BaseException as error:  # noqa: BLE001 (handed to the caller)
            outcome["error"] = error

    thread = threading.Thread(target=run, name="quality-flags")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


BACKGROUND_NICENESS = 10
