"""Time `survey backup` and `survey restore` (the service functions, no process start-up) on a database holding
the demo province and N synthetic answers, on SQLite or PostgreSQL; prints size, answers and seconds of each.

Bounded: one database of its own (a temporary SQLite file, or `<DATABASE_URL>_bench_backup` and
`..._bench_restored` beside a PostgreSQL database that must already exist), dropped at the end.

Usage: .venv/bin/python benchmarks/backup_restore.py [--answers 100000]
                                                     [--database postgresql://postgres@127.0.0.1:5432/test_x]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import tempfile
import time
from pathlib import Path

import asyncpg

from survey_app.core import backup, db, engines
from survey_app.campaigns.demo import load_demo
from survey_app.core.settings import Settings

ANSWERS_JSON = json.dumps({f"q{n}": 4 for n in range(12)})


async def fresh_postgres(url: str) -> None:
    base, name = url.rsplit("/", 1)
    admin = await asyncpg.connect(base + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def drop_postgres(url: str) -> None:
    base, name = url.rsplit("/", 1)
    admin = await asyncpg.connect(base + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        await admin.close()


async def fill(url: str, answers: int) -> None:
    await db.run_connected(Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": "bench"}),
                           lambda: load_demo(per_unit=2))
    if url.startswith("sqlite"):
        with sqlite3.connect(engines.sqlite_path(url)) as connection:
            connection.execute(f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {answers})
                INSERT INTO response (campaign, unit, counter, questionnaire, idempotency_key, answers_digest,
                answers, channel) SELECT r.campaign, r.unit, r.counter, r.questionnaire, 'bench-' || n.i, 'bench',
                '{ANSWERS_JSON}', 'bench' FROM n, (SELECT * FROM response WHERE channel = 'demo' LIMIT 1) r""")
        return
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"""INSERT INTO response (campaign, unit, counter, questionnaire, idempotency_key,
            answers_digest, answers, channel) SELECT r.campaign, r.unit, r.counter, r.questionnaire,
            'bench-' || n, 'bench', '{ANSWERS_JSON}', 'bench'
            FROM generate_series(1, {answers}) n, (SELECT * FROM response WHERE channel = 'demo' LIMIT 1) r""")
    finally:
        await connection.close()


def timed(work):
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, default=100_000)
    parser.add_argument("--database", default="", help="a PostgreSQL URL; SQLite in a temporary folder otherwise")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if arguments.database:
            source, target = arguments.database + "_bench_backup", arguments.database + "_bench_restored"
            await fresh_postgres(source)
            await fresh_postgres(target)
        else:
            source, target = f"sqlite:///{folder}/source.db", f"sqlite:///{folder}/restored.db"
        try:
            await fill(source, arguments.answers)
            file = Path(folder) / "survey.backup"
            report, backup_seconds = timed(lambda: backup.backup(source, file))
            _, restore_seconds = timed(lambda: backup.restore(file, target))
        finally:
            if arguments.database:
                await drop_postgres(source)
                await drop_postgres(target)
    engine = "PostgreSQL" if arguments.database else "SQLite"
    print(f"{engine}: {arguments.answers} extra answers; backup {report.size_bytes / 1e6:.1f} MB "
          f"in {backup_seconds:.2f} s (verify included); restore (verify included) in {restore_seconds:.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
