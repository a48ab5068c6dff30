"""What an official's submission costs now that its draft is erased (secure_delete, WAL truncated) and the unit's
member rows are rewritten (issue #25), and whether deleted drafts stay readable in the SQLite files.

Draws `--officials` officials in `--units` sở on a fresh SQLite database, then has each save two draft pages (the
second with a marker) and submit, once with the erasing and once without; prints per-submission times and how many
markers `survey.db` + `survey.db-wal` still hold; writes JSON to benchmarks/results/official_submit.json.

Usage: PYTHONPATH=. .venv/bin/python benchmarks/official_submit.py [--units 10] [--officials 6]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import json
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "official_submit.json"
MARKER = "BENCH-DRAFT-MARKER"


async def run(folder: Path, units: int, officials: int, erase: bool) -> dict:
    from piccolo.engine.sqlite import SQLiteEngine

    from survey_app.core import db
    from survey_app.app import create_app
    from survey_app.campaigns.catalog import register_shipped
    from survey_app.campaigns.demo import load_demo, valid_answers
    from survey_app.officials import draws, services
    from survey_app.core.settings import Settings
    from survey_app.core.tables import Campaign

    secure_connection = db.WriterSQLiteEngine.get_connection
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{folder / 'survey.db'}", "SECRET_KEY": "bench"})
    application = create_app(settings)
    async with application.lifespan():
        await db.migrate()
        await load_demo(per_unit=0)
        questionnaires = await register_shipped()
        today = dt.date.today()
        await Campaign.insert(Campaign(code="BENCH", name="bench", questionnaire=questionnaires["par_index_so"],
                                       starts_on=today - dt.timedelta(days=1), ends_on=today + dt.timedelta(days=30),
                                       mode="invitation", status="open"))
        frame = folder / "frame.csv"
        with frame.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["unit", "role", "staff_id"])
            writer.writerows((f"SO{unit:02d}", role, f"{unit}-{role}-{number}") for unit in range(1, units + 1)
                             for role in ("lanh_dao_phong", "cong_chuc") for number in range(officials))
        half = officials // 2
        stored = await draws.draw_and_store(settings.secret_key, "BENCH", frame, None,
                                            [f"lanh_dao_phong={half}", f"cong_chuc={officials - half}"], seed=1)
        definition = services.definition_of(await _questionnaire(questionnaires["par_index_so"]))
        raw = {item.key: "4" for item in definition.items if item.type == "rating5"}
        raw.update(role="cong_chuc", gender="nam", years_of_service="5_10")
        answers = valid_answers(definition, raw)
        if not erase:  # as before issue #25: no secure_delete, no WAL truncation
            services.erase_deleted = _nothing
            db.WriterSQLiteEngine.get_connection = SQLiteEngine.get_connection
        timings = []
        for number, slip in enumerate(stored.slips.to_dict("records")):
            invitation = await services.invitation_for_code(settings.secret_key, slip["code"])
            context = await services.load_context(invitation["id"])
            await services.start(context)
            await services.save_draft(context, {"comment": f"{MARKER}-{number}"})
            context = await services.load_context(invitation["id"])
            started = time.perf_counter()
            await services.submit(context, answers)
            timings.append(time.perf_counter() - started)
        # read while the app runs: the last connection to close checkpoints and deletes the WAL
        # by another process: closing a database file here would drop SQLite's POSIX locks on it
        files = [str(path) for path in (folder / "survey.db", folder / "survey.db-wal") if path.exists()]
        content = subprocess.run(["cat", *files], capture_output=True, check=True).stdout
    services.erase_deleted, db.WriterSQLiteEngine.get_connection = db.erase_deleted, secure_connection
    return {"erase": erase, "submissions": len(timings), "median_ms": 1000 * statistics.median(timings),
            "p95_ms": 1000 * sorted(timings)[int(0.95 * (len(timings) - 1))],
            "drafts_readable": content.count(MARKER.encode())}


async def _nothing(*_arguments) -> None:
    return None


async def _questionnaire(questionnaire_id: int) -> dict:
    from survey_app.core.tables import Questionnaire

    return await Questionnaire.select().where(Questionnaire.id == questionnaire_id).first()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--officials", type=int, default=6)
    options = parser.parse_args()
    rows = []
    for erase in (False, True):
        with tempfile.TemporaryDirectory() as folder:
            rows.append(asyncio.run(run(Path(folder), options.units, options.officials, erase)))
    print(f"{'erase drafts':<14} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'drafts readable':>16}")
    for row in rows:
        print(f"{str(row['erase']):<14} {row['submissions']:>5} {row['median_ms']:>10.1f} {row['p95_ms']:>8.1f} "
              f"{row['drafts_readable']:>16}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": platform.platform(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
