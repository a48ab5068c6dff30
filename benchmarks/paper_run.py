"""A large paper print run: time and peak memory of N copies (default 1,000) of the five-page SIPAS citizen form.

Two ways, each in its own child process (so each peak RSS is its own), on a temporary SQLite database with the
demo units and campaigns:
- job: the web page's way for more than 200 copies (survey_app/paper/print_jobs.py): the copies are numbered, the
  task renders parts of PART_COPIES copies on the in-process job engine, and the ZIP is streamed to a file;
- cli: `survey paper print`'s way: every copy in one PDF.
Prints a table and writes benchmarks/results/paper_run.json.

    PYTHONPATH=. .venv/bin/python benchmarks/paper_run.py [--copies 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

RESULTS = Path(__file__).parent / "results" / "paper_run.json"
CAMPAIGN, UNIT = "SIPAS-2026", "SO01"


def settings_for(path: Path):
    from survey_app.core.settings import Settings

    return Settings.from_env({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "benchmark",
                              "BASE_URL": "https://khaosat.example.gov.vn"})


def prepare(database: Path) -> None:
    from survey_app.campaigns.demo import load_demo
    from survey_app.core import db

    asyncio.run(db.run_connected(settings_for(database), lambda: load_demo(per_unit=0)))


async def as_job(settings, copies: int, out: Path) -> dict:
    from survey_app import background
    from survey_app.paper import print_jobs

    engine = await background.start(settings, run_worker=False)
    try:
        job, _ = await print_jobs.start(CAMPAIGN, UNIT, str(copies), SimpleNamespace(id=1, username="benchmark"))
        await engine.run_until_idle()
        job = await print_jobs.find(job.id, 1)
        with out.open("wb") as file:
            async for piece in print_jobs.zipped_parts(job):
                file.write(piece)
    finally:
        await background.stop(engine)
    return {"state": job.state, "parts": -(-copies // print_jobs.PART_COPIES)}


async def in_one_pdf(settings, copies: int, out: Path) -> dict:
    from survey_app.paper import services

    run = await services.print_copies(settings, CAMPAIGN, UNIT, str(copies), "benchmark", maximum=None)
    out.write_bytes(run.pdf)
    return {"state": "done", "parts": 1}


def rss_mb() -> float:
    """This process's resident memory now (ru_maxrss would keep the start-up's peak, hiding the run's own)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_one(database: Path, way: str, copies: int, out: Path) -> dict:
    """In a child process: one print run, its seconds and its resident memory before and at its highest (MB),
    sampled every 50 ms."""
    from survey_app.core import db
    from survey_app.paper import print_jobs, services  # noqa: F401 (imported before the memory is read)

    settings = settings_for(database)
    before, peak, running = rss_mb(), [0.0], True

    def sample() -> None:
        while running:
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    work = as_job if way == "job" else in_one_pdf
    result = asyncio.run(db.run_connected(settings, lambda: work(settings, copies, out)))
    seconds = time.perf_counter() - started
    running = False
    sampler.join()
    return {"way": way, "copies": copies, "seconds": round(seconds, 1), "ms_per_copy": round(seconds / copies * 1000, 1),
            "rss_before_mb": round(before), "rss_peak_mb": round(peak[0]), "rss_growth_mb": round(peak[0] - before),
            "file_mb": round(out.stat().st_size / 1e6, 1), **result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--child", nargs=3, metavar=("DATABASE", "WAY", "OUT"))
    arguments = parser.parse_args()
    if arguments.child:
        database, way, out = arguments.child
        print(json.dumps(run_one(Path(database), way, arguments.copies, Path(out))))
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="paper-run-") as folder:
        database = Path(folder) / "bench.sqlite3"
        prepare(database)
        for way in ("job", "cli"):
            out = Path(folder) / f"{way}.out"
            child = subprocess.run([sys.executable, __file__, "--copies", str(arguments.copies), "--child",
                                    str(database), way, str(out)], capture_output=True, text=True, check=True)
            results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    print(f"{'way':<6}{'copies':>8}{'parts':>7}{'s':>8}{'ms/copy':>9}{'RSS before MB':>15}{'peak MB':>9}"
          f"{'growth MB':>11}{'file MB':>9}")
    for row in results:
        print(f"{row['way']:<6}{row['copies']:>8}{row['parts']:>7}{row['seconds']:>8}{row['ms_per_copy']:>9}"
              f"{row['rss_before_mb']:>15}{row['rss_peak_mb']:>9}{row['rss_growth_mb']:>11}{row['file_mb']:>9}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
