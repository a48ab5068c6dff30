"""JSON answers column against a numeric ratings table (response, item, rating), on SQLite, before choosing how the
figures read answers (issue #26, docs/scaling.md).

For N synthetic SIPAS responses (33 rating items, 1 in 8 "na"): database size, time to insert one response the way a
form post does (one row vs one row + a rating row per item, one transaction each, 500 timed), and time to read every
rating of the campaign into a responses × items matrix (what folding the stored figures or the quality flags need).

    .venv/bin/python benchmarks/answers_storage.py [--responses 100000]
Prints a table and writes benchmarks/results/answers_storage.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

import msgspec
import numpy as np

from questionnaires import load_shipped

RESULTS = Path(__file__).resolve().parent / "results" / "answers_storage.json"
ITEMS = [item.key for item in load_shipped()["sipas_citizen"].items if item.type == "rating5"]
DECODE = msgspec.json.Decoder()


def answers(rng: random.Random) -> dict:
    return {key: rng.choice([1, 2, 3, 4, 4, 5, 5, "na"]) for key in ITEMS}


def create(connection: sqlite3.Connection) -> None:
    connection.executescript("""
        CREATE TABLE response (id INTEGER PRIMARY KEY, campaign INTEGER, answers TEXT);
        CREATE INDEX response_campaign_id ON response (campaign, id);
        CREATE TABLE rating (response INTEGER, item INTEGER, value INTEGER, PRIMARY KEY (response, item)) WITHOUT ROWID;
    """)


def fill(connection: sqlite3.Connection, responses: int, with_ratings: bool) -> None:
    rng = random.Random(1)
    for start in range(0, responses, 20_000):
        batch = [answers(rng) for _ in range(min(20_000, responses - start))]
        connection.executemany("INSERT INTO response (id, campaign, answers) VALUES (?, 1, ?)",
                               [(start + offset + 1, json.dumps(row)) for offset, row in enumerate(batch)])
        if with_ratings:
            connection.executemany("INSERT INTO rating VALUES (?, ?, ?)", [
                (start + offset + 1, position, value) for offset, row in enumerate(batch)
                for position, value in enumerate(row.values()) if value != "na"])
        connection.commit()


def insert_one(connection: sqlite3.Connection, with_ratings: bool, next_id: int, rng: random.Random) -> float:
    row = answers(rng)
    started = time.perf_counter()
    with connection:
        connection.execute("INSERT INTO response (id, campaign, answers) VALUES (?, 1, ?)", (next_id, json.dumps(row)))
        if with_ratings:
            connection.executemany("INSERT INTO rating VALUES (?, ?, ?)",
                                   [(next_id, position, value) for position, value in enumerate(row.values())
                                    if value != "na"])
    return time.perf_counter() - started


def read_json(connection: sqlite3.Connection) -> np.ndarray:
    rows = connection.execute("SELECT answers FROM response WHERE campaign = 1 ORDER BY id").fetchall()
    decoded = [DECODE.decode(text) for (text,) in rows]
    matrix = np.array([[value if type(value) is int else np.nan for value in map(row.get, ITEMS)] for row in decoded])
    return matrix


def read_ratings(connection: sqlite3.Connection) -> np.ndarray:
    rows = np.array(connection.execute("SELECT response, item, value FROM rating ORDER BY response, item").fetchall())
    count = connection.execute("SELECT MAX(id) FROM response").fetchone()[0]
    matrix = np.full((count, len(ITEMS)), np.nan)
    matrix[rows[:, 0] - 1, rows[:, 1]] = rows[:, 2]
    return matrix


def measure(folder: Path, responses: int, with_ratings: bool) -> dict:
    path = folder / f"{'ratings' if with_ratings else 'json'}.db"
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    create(connection)
    fill(connection, responses, with_ratings)
    rng = random.Random(2)
    inserts = sorted(insert_one(connection, with_ratings, responses + 1 + step, rng) for step in range(500))
    started = time.perf_counter()
    matrix = read_ratings(connection) if with_ratings else read_json(connection)
    read_seconds = time.perf_counter() - started
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return {"storage": "ratings table + JSON" if with_ratings else "JSON column only",
            "database_mb": round(path.stat().st_size / 2**20, 1),
            "insert_median_ms": round(1000 * inserts[len(inserts) // 2], 2),
            "insert_p99_ms": round(1000 * inserts[int(0.99 * len(inserts))], 2),
            "read_matrix_s": round(read_seconds, 2), "valid_ratings": int((~np.isnan(matrix)).sum())}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=100_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = [measure(Path(folder), arguments.responses, with_ratings) for with_ratings in (False, True)]
    print(f"{arguments.responses} SIPAS responses, {len(ITEMS)} rating items")
    print(f"{'storage':<22} {'DB MB':>7} {'insert median ms':>17} {'insert p99 ms':>14} {'read all s':>11}")
    for row in rows:
        print(f"{row['storage']:<22} {row['database_mb']:>7} {row['insert_median_ms']:>17} {row['insert_p99_ms']:>14} "
              f"{row['read_matrix_s']:>11}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"responses": arguments.responses, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
