"""Where citizens' answers wait while quality flags are stored on SQLite (issue #26).

A file with the app's tables and N stored quality flags; quality_store._store stores batches of BATCH new flags as
the worker does, while a thread writes one row every 50 ms through the web process's SQLiteWriter. Prints the writer's p50/p99/max wait and how long
each of _store's transactions held the write lock.

    .venv/bin/python benchmarks/flag_store_lock.py [--stored 1000000] [--batches 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from survey_app.core import db
from survey_app.core.engines import SQLiteWriter
from survey_app.core.settings import Settings
from survey_app.results import quality_store
from survey_app.results.quality_store import Flagged

RESULTS = Path(__file__).resolve().parent / "results"
CAMPAIGN = 1


def fill(path: str, stored: int) -> None:
    rng = random.Random(26)
    with sqlite3.connect(path) as connection:
        connection.executemany(
            "INSERT INTO quality_flag (campaign, response, unit, counter, at_us, duration, pattern, rules, "
            "outlier_score) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((CAMPAIGN, rid, rng.randint(1, 30), rng.randint(1, 20), 1_780_000_000_000_000 + rid * 1_000_000,
              rng.uniform(30, 600), rng.getrandbits(62), 0, rng.random()) for rid in range(1, stored + 1)))
        # flagged as the stored rows are: speeding below 0.3 × the median duration
        [(median,)] = connection.execute(f"SELECT duration FROM quality_flag ORDER BY duration LIMIT 1 "
                                         f"OFFSET {(stored - 1) // 2}").fetchall()
        connection.execute("UPDATE quality_flag SET rules = 8 WHERE duration < ?", (0.3 * median,))
        connection.execute("CREATE TABLE bench_post (id INTEGER PRIMARY KEY, body TEXT)")


class Poster(threading.Thread):
    """One answer every 50 ms through the app's SQLiteWriter (its own connection, BEGIN IMMEDIATE,
    synchronous=FULL, the busy timeout), each wait kept."""

    def __init__(self, path: str):
        super().__init__(daemon=True)
        self.path, self.waits, self.running = path, [], True

    def run(self) -> None:
        asyncio.run(self._post())

    async def _post(self) -> None:
        writer = SQLiteWriter(Path(self.path), busy_timeout=5.0)
        writer.start()
        insert = lambda connection: connection.execute("INSERT INTO bench_post (body) VALUES (?)", ("x" * 600,))  # noqa: E731
        while self.running:
            started = time.perf_counter()
            await writer.execute_write(insert)
            self.waits.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
        await writer.stop()


def timed_transactions() -> list[float]:
    """Wrap _Writing so that each transaction's time from BEGIN IMMEDIATE to COMMIT is kept."""
    held: list[float] = []
    enter, leave = quality_store._Writing.__aenter__, quality_store._Writing.__aexit__

    async def timed_enter(self):
        result = await enter(self)
        self.began = time.perf_counter()
        return result

    async def timed_exit(self, *arguments):
        await leave(self, *arguments)
        held.append(time.perf_counter() - self.began)

    quality_store._Writing.__aenter__, quality_store._Writing.__aexit__ = timed_enter, timed_exit
    return held


async def store_batches(stored: int, batches: int, held: list[float]) -> list[float]:
    rng = random.Random(7)
    state = {"id": None, "through_response": stored, "responses_seen": stored, "missing_durations": 0,
             "speed_threshold": None, "model_through": 0, "bursts": "{}"}
    [(median,)] = await db.fetch_tuples("SELECT duration FROM quality_flag ORDER BY duration LIMIT 1 OFFSET $1",
                                        (stored - 1) // 2)
    state["speed_threshold"] = quality_store.SPEEDING_FRACTION * median  # as fill() flagged them
    times = []
    for number in range(batches):
        low = stored + number * quality_store.BATCH + 1
        rows = [(CAMPAIGN, rid, 1, 1, 1_780_000_000_000_000 + rid * 1_000_000, rng.uniform(30, 600),
                 rng.getrandbits(62), 0, rng.random()) for rid in range(low, low + quality_store.BATCH)]
        flagged = Flagged(rows, [], [], {}, 0)
        new_state = {"through_response": low + quality_store.BATCH - 1,
                     "responses_seen": state["responses_seen"] + quality_store.BATCH, "missing_durations": 0,
                     "model_through": 0, "bursts": "{}"}
        started = time.perf_counter()
        await quality_store._store(CAMPAIGN, flagged, state, new_state)
        times.append(time.perf_counter() - started)
        state = {**state, **new_state, "id": 1}
        [(state["speed_threshold"],)] = await db.fetch_tuples(
            "SELECT speed_threshold FROM quality_flag_state WHERE campaign = $1", CAMPAIGN)
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--label", default="after")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = f"{directory}/flags.db"
        settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench"})
        asyncio.run(db.run_connected(settings, lambda: asyncio.sleep(0)))
        started = time.perf_counter()
        fill(path, arguments.stored)
        print(f"{arguments.stored:,} flags stored in {time.perf_counter() - started:.1f} s")
        held = timed_transactions()
        poster = Poster(path)
        poster.start()
        time.sleep(2)
        idle = list(poster.waits)
        times = asyncio.run(db.run_connected(settings, lambda: store_batches(arguments.stored, arguments.batches, held),
                                             migrate_first=False))
        poster.running = False
        poster.join()
        during = poster.waits[len(idle):]
    ms = lambda values, share: round(1000 * percentile(values, share), 1)  # noqa: E731
    result = {"stored": arguments.stored, "batch": quality_store.BATCH, "batches": arguments.batches,
              "store_seconds": [round(value, 2) for value in times],
              "writer_idle_ms": {"p50": ms(idle, 0.5), "p99": ms(idle, 0.99), "n": len(idle)},
              "writer_during_ms": {"p50": ms(during, 0.5), "p99": ms(during, 0.99), "max": ms(during, 1.0),
                                   "n": len(during)},
              "lock_held_ms": {"p50": ms(held, 0.5), "p99": ms(held, 0.99), "max": ms(held, 1.0), "n": len(held)}}
    print(json.dumps(result, indent=1))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"flag_store_lock_{arguments.stored}_{arguments.label}.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
