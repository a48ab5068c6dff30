"""Dossier feed import: seconds to check and store N completed dossiers from a CSV file (all or nothing), the
longest the event loop went without running (a ticker every 5 ms), how long the store took, and what another write
waited meanwhile: a one-row write through the same path as a citizen's post, every 20 ms (on SQLite, posts queue
behind the import's write transactions).

Prints a table and writes JSON to benchmarks/results/dossier_import.json.
Usage: PYTHONPATH=. .venv/bin/python benchmarks/dossier_import.py [--rows 10000 50000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import io
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from survey_app.campaigns.demo import load_demo
from survey_app.core import db
from survey_app.core.settings import Settings
from survey_app.dossiers import imports, services

RESULTS = Path(__file__).parent / "results" / "dossier_import.json"
UNITS = [f"SO{number:02d}" for number in range(1, 21)] + [f"H{number:02d}" for number in range(1, 12)]
PROCEDURES = ["1.004227", "1.003010", "1.009645", "1.009972", "1.001193", "2.000815", "2.001610"]


def dossier_file(rows: int, prefix: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["code", "procedure", "unit", "channel", "received_on", "returned_on"])
    today = dt.date.today()
    for number in range(rows):
        returned = today - dt.timedelta(days=1 + number % 300)
        writer.writerow([f"{prefix}-{number:07d}", PROCEDURES[number % 7], UNITS[number % len(UNITS)], "truc_tiep",
                         (returned - dt.timedelta(days=3)).strftime("%d/%m/%Y"), returned.strftime("%d/%m/%Y")])
    return buffer.getvalue().encode()


async def longest_gap(work) -> tuple[object, float]:
    """Run `work` beside a 5 ms ticker; the longest the ticker waited beyond its 5 ms."""
    gaps, done = [0.0], asyncio.Event()

    async def tick():
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last - 0.005)
            last = now

    ticker = asyncio.create_task(tick())
    try:
        return await work, max(gaps)
    finally:
        done.set()
        await ticker


async def probe_writes(done: asyncio.Event, waits: list[float]) -> None:
    while not done.is_set():
        started = time.perf_counter()
        await db.write_returning('UPDATE "domain" SET "name_en" = "name_en" WHERE "code" = $1', "ho_tich")
        waits.append(time.perf_counter() - started)
        await asyncio.sleep(0.02)


async def measure(settings: Settings, rows: int) -> dict:
    data = dossier_file(rows, f"B{rows}-{time.time_ns()}")
    held, waits = {}, []
    original = services.insert_all

    async def timed_insert(batch, source):
        started, done = time.perf_counter(), asyncio.Event()
        prober = asyncio.create_task(probe_writes(done, waits))
        await original(batch, source)
        held["seconds"] = time.perf_counter() - started
        done.set()
        await prober

    services.insert_all = timed_insert
    try:
        started = time.perf_counter()
        stored, gap = await longest_gap(imports.import_file(data, "dossiers.csv", settings.secret_key))
        total = time.perf_counter() - started
    finally:
        services.insert_all = original
    return {"engine": "sqlite" if settings.is_sqlite else "postgresql", "rows": rows, "stored": len(stored),
            "seconds": round(total, 2), "rows_per_second": round(rows / total), "store_seconds":
            round(held["seconds"], 2), "longest_event_loop_gap_ms": round(gap * 1000, 1),
            "other_write_p99_ms": round(float(np.percentile(waits, 99)) * 1000, 1),
            "other_write_max_ms": round(max(waits) * 1000, 1)}


async def run(url: str, row_counts: list[int]) -> list[dict]:
    settings = Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": "benchmark"})

    async def work():
        await load_demo(per_unit=0)
        return [await measure(settings, rows) for rows in row_counts]

    return await db.run_connected(settings, work)


async def reset(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--postgres", help="postgresql:// URL of an empty database it may reset")
    options = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        results += asyncio.run(run(f"sqlite:///{folder}/bench.db", options.rows))
    if options.postgres:
        asyncio.run(reset(options.postgres))
        results += asyncio.run(run(options.postgres, options.rows))
    print(f"{'engine':<11}{'rows':>8}{'seconds':>9}{'rows/s':>9}{'store s':>9}{'loop gap ms':>13}"
          f"{'other write p99 / max ms':>26}")
    for row in results:
        print(f"{row['engine']:<11}{row['rows']:>8}{row['seconds']:>9}{row['rows_per_second']:>9}"
              f"{row['store_seconds']:>9}{row['longest_event_loop_gap_ms']:>13}"
              f"{row['other_write_p99_ms']:>17} / {row['other_write_max_ms']}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
