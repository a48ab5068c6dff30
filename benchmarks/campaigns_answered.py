"""The public results page's campaign list at a province's scale (issue #26): which campaigns have answers from a
unit and the units below it. SQLite, 2 M responses of two campaigns over 36 units; the query before (an IN over
every answer of the units) and now (survey_app/results/services.py: one index probe per campaign).

    .venv/bin/python benchmarks/campaigns_answered.py [--responses 2000000]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import tempfile
import time

UNITS = ", ".join(str(unit) for unit in range(1, 37))
QUERIES = {
    "before: campaign IN (SELECT campaign FROM response WHERE unit IN …)":
        f"SELECT id FROM campaign WHERE id IN (SELECT campaign FROM response WHERE unit IN ({UNITS}))",
    "now: EXISTS per campaign":
        "SELECT id FROM campaign WHERE EXISTS (SELECT 1 FROM response WHERE response.campaign = campaign.id AND "
        f"response.unit IN ({UNITS}))",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=2_000_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        connection = sqlite3.connect(f"{folder}/answered.db")
        connection.execute("CREATE TABLE campaign (id INTEGER PRIMARY KEY)")
        connection.execute("CREATE TABLE response (id INTEGER PRIMARY KEY, campaign INTEGER, unit INTEGER, answers TEXT)")
        connection.executemany("INSERT INTO campaign VALUES (?)", [(number,) for number in range(1, 8)])
        rng = random.Random(26)
        connection.executemany("INSERT INTO response (campaign, unit, answers) VALUES (?, ?, ?)",
                               ((1 + number % 2, rng.randint(1, 36), "x" * 600) for number in range(arguments.responses)))
        connection.execute("CREATE INDEX response_campaign_unit ON response (campaign, unit)")  # as the migrations
        connection.commit()
        for name, sql in QUERIES.items():
            times = []
            for _ in range(5):
                started = time.perf_counter()
                connection.execute(sql).fetchall()
                times.append(1000 * (time.perf_counter() - started))
            print(f"{name}: {', '.join(f'{value:.1f}' for value in times)} ms")
        connection.close()


if __name__ == "__main__":
    main()
