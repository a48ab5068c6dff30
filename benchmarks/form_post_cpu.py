"""CPU of one citizen form post inside the process: the ASGI app called directly, no socket, no uvicorn.

Posts valid counter ratings (32 at a time, as concurrent phones would, so database batches form) to the app
built by `create_app`, and the same body to the bare anchor handler of benchmarks/hello_app.py; prints the
process CPU per post of each (every thread: the SQLite writer counts too), the least of several alternating
rounds (other work on the machine only ever adds to it). `--profile` writes a cProfile of the
form posts to benchmarks/results/form_post.prof for `python -m pstats` or snakeviz.

Usage: .venv/bin/python benchmarks/form_post_cpu.py [--database sqlite|postgresql] [--posts 6000] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))  # hello_app, the anchor

from questionnaires import load_shipped  # noqa: E402
from survey_app.core import db  # noqa: E402
from survey_app.core.settings import Settings  # noqa: E402
from survey_app.core.tokens import sign  # noqa: E402

SECRET = "form-post-cpu-secret"
COUNTERS = [f"SO{number:02d}-Q{desk}" for number in range(1, 11) for desk in (1, 2)]
CONCURRENCY = 32


def form_body(definition, rng: random.Random) -> bytes:
    body = {"_key": uuid.uuid4().hex, "_lang": "vi"}
    for item in definition.items:
        if item.type == "rating5":
            body[item.key] = str(rng.randint(1, 5))
        elif item.type == "domain":
            body[item.key] = rng.choice(item.choices).value
    return urlencode(body).encode()


async def post(app, path: str, body: bytes) -> int:
    """One POST through the ASGI interface; returns the status."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/x-www-form-urlencoded"),
                    (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000), "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = []

    async def receive():
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def cpu_per_post(app, paths: list[str], bodies: list[bytes], profiler=None) -> tuple[float, float, dict]:
    """(process CPU µs per post, of which the event loop's thread, statuses)."""
    statuses: dict[int, int] = {}
    started, loop_started = time.process_time(), time.thread_time()
    if profiler:
        profiler.enable()
    for first in range(0, len(bodies), CONCURRENCY):
        chunk = bodies[first:first + CONCURRENCY]
        for status in await asyncio.gather(*(post(app, random.choice(paths), body) for body in chunk)):
            statuses[status] = statuses.get(status, 0) + 1
    if profiler:
        profiler.disable()
    return ((time.process_time() - started) / len(bodies) * 1e6, (time.thread_time() - loop_started) / len(bodies) * 1e6,
            statuses)


async def prepared_settings(database: str, postgres_url: str) -> Settings:
    from survey_app.campaigns.demo import load_demo

    if database == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix='form-post-cpu-')}/bench.db"
    else:
        from tests.app.servers import reset_postgres_database

        url = postgres_url
        await reset_postgres_database(url)
    environ = {"DATABASE_URL": url, "SECRET_KEY": SECRET, "RATE_LIMIT_PER_CLIENT": "1000000000",
               "RATE_LIMIT_PER_COUNTER": "1000000000"}
    settings = Settings.from_env(environ)
    await db.run_connected(settings, lambda: load_demo(per_unit=2))
    return settings


async def main(args) -> None:
    import hello_app

    from survey_app.app import create_app

    settings = await prepared_settings(args.database, args.postgres_url)
    app = create_app(settings)
    for hook in app.on_startup:
        await hook(app)
    definition, rng = load_shipped()["counter_rating"], random.Random(2026)
    paths = ["/q/" + sign(settings.signing_keys, counter, "QUAY-2026") for counter in COUNTERS]
    warm = [form_body(definition, rng) for _ in range(500)]
    await cpu_per_post(app, paths, warm)
    await cpu_per_post(hello_app.app, paths, warm)
    profiler = cProfile.Profile() if args.profile else None
    form_us, loop_us, bare_us, statuses = [], [], [], {}
    for _ in range(args.rounds):  # alternating, so that other work on the machine weighs on both alike
        bodies = [form_body(definition, rng) for _ in range(args.posts // args.rounds)]
        cpu, loop_cpu, round_statuses = await cpu_per_post(app, paths, bodies, profiler)
        form_us.append(cpu)
        loop_us.append(loop_cpu)
        bare_us.append((await cpu_per_post(hello_app.app, paths, bodies))[0])
        for status, count in round_statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    print(f"{args.database}: form post {min(form_us):.0f} µs CPU (median {statistics.median(form_us):.0f}; event loop "
          f"thread {min(loop_us):.0f}), "
          f"bare form post {min(bare_us):.0f} µs (median {statistics.median(bare_us):.0f}), statuses {statuses}, "
          f"load average {os.getloadavg()[0]:.2f}")
    if profiler:
        profiler.dump_stats(BENCHMARKS / "results" / "form_post.prof")
    for hook in app.on_shutdown:
        await hook(app)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/bench_perf")
    parser.add_argument("--posts", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=6, help="alternating form and bare rounds; the least is kept")
    parser.add_argument("--profile", action="store_true")
    asyncio.run(main(parser.parse_args()))
