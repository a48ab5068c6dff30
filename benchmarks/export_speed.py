"""Export speed and memory: N synthetic counter ratings (default 1 000 000) to CSV, XLSX and .sav.

The rows go into a temporary SQLite database with sqlite3's executemany (not the ORM), then each format is
exported in its own child process through the same code as `survey export`, so each peak RSS is that format's own.
Prints a table and writes benchmarks/results/export_speed.json.

    .venv/bin/python benchmarks/export_speed.py [--responses 1000000] [--formats csv,xlsx,sav]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "export_speed.json"
CAMPAIGN = "QUAY-2026"


def settings_for(path: Path):
    from survey_app.core.settings import Settings

    return Settings.from_env({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "benchmark"})


async def _prepare_tree() -> None:
    from survey_app.campaigns.demo import load_demo

    await load_demo(per_unit=0)


def fill(database: Path, responses: int, seed: int = 1) -> float:
    """Units, counters and campaigns from the demo loader, then `responses` ratings by executemany."""
    from survey_app.core import db

    asyncio.run(db.run_connected(settings_for(database), _prepare_tree))
    started = time.perf_counter()
    rng = random.Random(seed)
    with sqlite3.connect(database) as connection:
        campaign, questionnaire = connection.execute(
            "SELECT id, questionnaire FROM campaign WHERE code = ?", (CAMPAIGN,)).fetchone()
        counters = connection.execute("SELECT id, unit FROM counter").fetchall()
        domains = [row[0] for row in connection.execute("SELECT id FROM domain")]
        codes = dict(connection.execute("SELECT id, code FROM domain"))
        for start in range(0, responses, 50_000):
            rows = [_row(rng, campaign, questionnaire, counters, domains, codes) for _ in range(min(50_000, responses - start))]
            connection.executemany(
                "INSERT INTO response (campaign, unit, counter, domain, questionnaire, idempotency_key, answers_digest, "
                "answers, channel, submitted_at, quality_flags, weight) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    return time.perf_counter() - started


def _row(rng, campaign, questionnaire, counters, domains, codes) -> tuple:
    counter, unit = rng.choice(counters)
    domain = rng.choice(domains)
    answers = {"domain": codes[domain], **{key: rng.choice([1, 2, 3, 4, 4, 5, 5, "na"])
                                           for key in ("reception", "publicity", "timeliness", "attitude")}}
    if rng.random() < 0.1:
        answers["why"] = rng.choice(["Chờ lâu quá", "=1+1 thử công thức", "Cán bộ chưa nhiệt tình"])
    return (campaign, unit, counter, domain, questionnaire, uuid.UUID(int=rng.getrandbits(128)).hex, "0" * 64,
            json.dumps(answers, ensure_ascii=False), "qr", "2026-06-01T08:00:00+00:00", "[]", 1.0)


def export_one(database: Path, export_format: str, out: Path) -> dict:
    """Run in a child process: export and report seconds and this process's peak RSS."""
    from survey_app.core import db
    from survey_app.exports.service import export_campaign

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    asyncio.run(db.run_connected(settings_for(database), lambda: export_campaign(CAMPAIGN, export_format, out)))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"format": export_format, "seconds": round(seconds, 1), "peak_rss_mb": round(peak / 1024, 1),
            "rss_before_mb": round(before / 1024, 1), "file_mb": round(out.stat().st_size / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,xlsx,sav")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        database, export_format, out = arguments.child
        print(json.dumps(export_one(Path(database), export_format, Path(out))))
        return
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "bench.db"
        fill_seconds = fill(database, arguments.responses)
        rows = []
        for export_format in arguments.formats.split(","):
            out = Path(folder) / f"export.{export_format}"
            child = subprocess.run([sys.executable, __file__, "--child", str(database), export_format, str(out)],
                                   capture_output=True, text=True, check=True)
            rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
            out.unlink()
    print(f"{arguments.responses} responses inserted with executemany in {fill_seconds:.1f} s")
    print(f"{'format':<7} {'seconds':>8} {'rows/s':>9} {'peak RSS MB':>12} {'RSS at start MB':>16} {'file MB':>8}")
    for row in rows:
        print(f"{row['format']:<7} {row['seconds']:>8.1f} {arguments.responses / row['seconds']:>9.0f} "
              f"{row['peak_rss_mb']:>12.1f} {row['rss_before_mb']:>16.1f} {row['file_mb']:>8.1f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"responses": arguments.responses, "insert_seconds": round(fill_seconds, 1),
                                   "exports": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
