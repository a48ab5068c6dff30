"""Decision 766 feed: seconds to score every unit over a year of N counter ratings, and the longest the event loop
went without running meanwhile (a 5 ms ticker).

Prints a table and writes JSON to benchmarks/results/decision_766_feed.json.
Usage: PYTHONPATH=. .venv/bin/python benchmarks/decision_766_feed.py [--responses 100000 300000]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks.dossier_import import longest_gap
from survey_app.campaigns.demo import load_demo
from survey_app.core import db
from survey_app.core.settings import Settings
from survey_app.core.tables import Campaign, Unit
from survey_app.results.decision_766 import Period, feed

RESULTS = Path(__file__).parent / "results" / "decision_766_feed.json"


async def add_ratings(path: str, count: int) -> None:
    campaign = await Campaign.select(Campaign.id, Campaign.questionnaire).where(Campaign.code == "QUAY-2026").first()
    units = [row["id"] for row in await Unit.select(Unit.id)]
    rng = random.Random(1)
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    rows = [(campaign["id"], rng.choice(units), campaign["questionnaire"], f"bench-{number}", "x",
             json.dumps({key: rng.choice([1, 2, 3, 4, 5, 5, 4, "na"]) for key in
                         ("reception", "publicity", "timeliness", "attitude")}),
             (start + dt.timedelta(minutes=rng.randrange(525_600))).isoformat(), "[]", 1.0, "bench")
            for number in range(count)]
    with sqlite3.connect(path) as connection:
        connection.executemany(
            'INSERT INTO response (campaign, unit, questionnaire, idempotency_key, answers_digest, answers, '
            'submitted_at, quality_flags, weight, channel) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', rows)


async def measure(path: str, count: int) -> dict:
    await add_ratings(path, count)
    started = time.perf_counter()
    result, gap = await longest_gap(feed(Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))))
    seconds = time.perf_counter() - started
    return {"engine": "sqlite", "responses": sum(unit["responses"] for unit in result["units"]),
            "units": len(result["units"]), "seconds": round(seconds, 2),
            "longest_event_loop_gap_ms": round(gap * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=100_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/bench.db"
        settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "benchmark"})

        async def work():
            await load_demo(per_unit=0)
            return await measure(path, options.responses)

        result = asyncio.run(db.run_connected(settings, work))
    print(f"{'engine':<9}{'responses':>11}{'units':>7}{'seconds':>9}{'loop gap ms':>13}")
    print(f"{result['engine']:<9}{result['responses']:>11}{result['units']:>7}{result['seconds']:>9}"
          f"{result['longest_event_loop_gap_ms']:>13}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
