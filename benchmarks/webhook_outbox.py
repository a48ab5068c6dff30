"""What the webhook outbox costs a citizen's submission, and how fast the worker empties it (issue #21).

For each engine (a fresh SQLite file; PostgreSQL with --postgres URL, whose schema is emptied first) it stores
`--answers` counter ratings through the real storing path (public.services.store_response, `--concurrency` at a
time) with no webhook subscription, then with one (each answer then also writes its outbox row in the same
statement; the job worker is stopped meanwhile), then starts the worker and times how long it takes to deliver
every row to a receiver on loopback (a thread of this process) that answers 200 at once. Prints a table; writes JSON to benchmarks/results/webhook_outbox.json.

Usage: PYTHONPATH=. .venv/bin/python benchmarks/webhook_outbox.py [--answers 2000] [--concurrency 64]
       [--postgres postgresql://postgres@127.0.0.1:5432/bench_webhooks]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "webhook_outbox.json"


class CountingReceiver:
    """Answers 200 to every POST and counts them."""

    def __init__(self) -> None:
        self.count, self.lock = 0, threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.count += 1
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


async def store_many(settings, form, answers: int, concurrency: int) -> float:
    """Seconds to store `answers` ratings, `concurrency` at a time."""
    import random

    from survey_app.campaigns.demo import synthetic_raw_answers, valid_answers
    from survey_app.public.services import store_response

    rng, gate = random.Random(21), asyncio.Semaphore(concurrency)
    prepared = []
    while len(prepared) < answers:  # made before the clock starts
        found = valid_answers(form.definition, synthetic_raw_answers(form.definition, rng, 0.8, list(form.domain_ids)))
        if found is not None:
            prepared.append(found)

    async def one(number: int) -> None:
        async with gate:
            await store_response(form, prepared[number], uuid.uuid4().hex, settings.secret_key)

    started = time.perf_counter()
    await asyncio.gather(*(one(number) for number in range(answers)))
    return time.perf_counter() - started


async def run(database_url: str, answers: int, concurrency: int) -> dict:
    from survey_app.app import create_app
    from survey_app.campaigns.demo import load_demo
    from survey_app.core import db, jobs
    from survey_app.core.settings import Settings
    from survey_app.core.tables import Campaign
    from survey_app.core.tokens import sign
    from survey_app.public.services import load_form_context
    from survey_app.webhooks import subscriptions

    settings = Settings.from_env({"DATABASE_URL": database_url, "SECRET_KEY": "bench", "FORM_CACHE_SECONDS": "60",
                                  "WEBHOOK_ALLOW_HOSTS": "127.0.0.1"})
    receiver = CountingReceiver()
    application = create_app(settings)
    async with application.lifespan():
        await db.migrate()
        await load_demo(per_unit=0)
        form = await load_form_context(settings, sign(settings.signing_keys, "SO01-Q1", "QUAY-2026"))
        without = await store_many(settings, form, answers, concurrency)
        campaign = await Campaign.select().where(Campaign.code == "QUAY-2026").first()
        await subscriptions.add(campaign, {"url": receiver.url, "events": ["response.stored"]}, settings, "bench")
        await jobs.stop()  # the storing alone first: no delivery competes for the CPU meanwhile
        with_outbox = await store_many(settings, form, answers, concurrency)
        worker = await jobs.start(settings)
        started = time.perf_counter()
        while receiver.count < answers and time.perf_counter() - started < 600:
            await asyncio.sleep(0.05)
        delivered_after = time.perf_counter() - started
        await jobs.stop(worker)
    receiver.server.shutdown()
    return {"engine": "sqlite" if settings.is_sqlite else "postgresql", "answers": answers,
            "concurrency": concurrency, "store_per_s_without": answers / without,
            "store_per_s_with_outbox": answers / with_outbox, "delivered": receiver.count,
            "all_delivered_after_s": delivered_after, "deliveries_per_s": receiver.count / delivered_after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--postgres", default="")
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        rows.append(asyncio.run(run(f"sqlite:///{Path(folder) / 'bench.db'}", options.answers, options.concurrency)))
    if options.postgres:
        from tests.app.servers import reset_postgres_database  # the fresh database the durability tests use

        asyncio.run(reset_postgres_database(options.postgres))
        rows.append(asyncio.run(run(options.postgres, options.answers, options.concurrency)))
    print(f"{'engine':<11} {'answers':>7} {'stored/s':>9} {'+outbox/s':>10} {'delivered':>9} {'all sent after':>14} {'sent/s':>7}")
    for row in rows:
        print(f"{row['engine']:<11} {row['answers']:>7} {row['store_per_s_without']:>9.0f} "
              f"{row['store_per_s_with_outbox']:>10.0f} {row['delivered']:>9} {row['all_delivered_after_s']:>13.1f}s "
              f"{row['deliveries_per_s']:>7.0f}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": platform.platform(), "cpus": __import__("os").cpu_count(),
                                   "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
