"""A province's year of answers: N SIPAS responses + N counter ratings, one `survey serve` worker, every figure page
timed cold (first request after the server started) and warm (the second), citizens' form posts timed while each
page is built, and the server's peak memory (VmHWM). Issue #26; results in docs/scaling.md.

Rows are inserted directly (sqlite3 executemany / asyncpg COPY), as benchmarks/export_speed.py does; the server then
starts with `survey serve` (migrations, then folding the stored figures: "server start" in the table). Everything is
bounded: one worker, one poster at ~POSTS_PER_SECOND, REQUEST_TIMEOUT per request, only 127.0.0.1.
`--source DIR` serves from another checkout of the code (e.g. `git archive` of the commit before) with the same data.

    .venv/bin/python benchmarks/province_scale.py --responses 100000 [--database postgresql] [--source DIR]
Prints a table and writes benchmarks/results/province_scale_<database>_<responses>_<label>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp

from load import HOST, SECRET, SURVEY, free_port, server_env, start_server, stop  # benchmarks/load.py
from questionnaires import load_shipped
from survey_app.core import db, engines
from survey_app.campaigns.demo import load_demo
from survey_app.core.settings import Settings
from survey_app.core.tokens import sign
from tests.app.servers import reset_postgres_database

RESULTS = Path(__file__).resolve().parent / "results"
POSTGRES = "postgresql://postgres@127.0.0.1:5432/test_scale"
REQUEST_TIMEOUT = 900
POSTS_PER_SECOND = 20
PUBLIC_REPEATS = 100
REPEAT_SECONDS = 20
COUNTERS = [f"SO{number:02d}-Q{desk}" for number in range(1, 11) for desk in (1, 2)]
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
PAGES = [  # (name, who asks, path)
    ("public results", None, "/results/DEMO?campaign=SIPAS-2026"),
    ("index API, province", None, "/api/v1/units/DEMO/index?campaign=SIPAS-2026"),
    ("analyst dashboard", "analyst", "/analyst/campaigns/SIPAS-2026/dashboard"),
    ("manager view", "h01", "/manager/units/H01?campaign=SIPAS-2026"),
    ("report HTML", "analyst", "/analyst/campaigns/SIPAS-2026/report.html"),
    ("report PDF", "analyst", "/analyst/campaigns/SIPAS-2026/report.pdf"),
    ("quality queue", "analyst", "/analyst/campaigns/SIPAS-2026/quality"),
]


# Filling the database.

def synthetic_rows(kind: str, count: int, campaign: int, questionnaire: int, counters: list, domains: dict,
                   rng: random.Random):
    definition = load_shipped()["sipas_citizen" if kind == "sipas" else "counter_rating"]
    ratings = [item.key for item in definition.items if item.type == "rating5"]
    submitted = dt.datetime(2026, 6, 1, 8, tzinfo=dt.timezone.utc)
    domain_ids = list(domains)
    for _ in range(count):
        counter, unit = rng.choice(counters)
        domain = rng.choice(domain_ids)
        answers = {"domain": domains[domain], **{key: rng.choice([1, 2, 3, 4, 4, 5, 5, "na"]) for key in ratings}}
        yield (campaign, unit, counter if kind == "counter" else None, domain, questionnaire,
               uuid.UUID(int=rng.getrandbits(128)).hex, "0" * 64, json.dumps(answers, ensure_ascii=False),
               "qr" if kind == "counter" else "web", submitted, "[]", 1.0)


COLUMNS = ("campaign", "unit", "counter", "domain", "questionnaire", "idempotency_key", "answers_digest", "answers",
           "channel", "submitted_at", "quality_flags", "weight")


async def fill(url: str, responses: int) -> float:
    """The demo province without answers, then `responses` SIPAS responses and as many counter ratings."""
    if not url.startswith("sqlite"):
        await reset_postgres_database(url)
    settings = Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    await db.run_connected(settings, lambda: load_demo(per_unit=0))
    started = time.perf_counter()
    lookups = await db.run_connected(settings, _lookups)
    rng = random.Random(26)
    for kind, campaign in (("sipas", "SIPAS-2026"), ("counter", "QUAY-2026")):
        campaign_id, questionnaire = lookups["campaigns"][campaign]
        for start in range(0, responses, 50_000):
            rows = list(synthetic_rows(kind, min(50_000, responses - start), campaign_id, questionnaire,
                                       lookups["counters"], lookups["domains"], rng))
            await _insert(url, rows)
    return time.perf_counter() - started


async def _lookups() -> dict:
    campaigns = await db.fetch_tuples("SELECT code, id, questionnaire FROM campaign")
    return {"campaigns": {code: (campaign, questionnaire) for code, campaign, questionnaire in campaigns},
            "counters": [tuple(row) for row in await db.fetch_tuples("SELECT id, unit FROM counter")],
            "domains": dict(await db.fetch_tuples("SELECT id, code FROM domain"))}


async def _insert(url: str, rows: list[tuple]) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(engines.sqlite_path(url)) as connection:
            connection.executemany(f"INSERT INTO response ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                                   [row[:9] + (row[9].isoformat(),) + row[10:] for row in rows])
        return
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.copy_records_to_table("response", records=rows, columns=COLUMNS)
    finally:
        await connection.close()


# Driving the server.

class Poster:
    """Citizens' counter forms at about POSTS_PER_SECOND, each latency kept with the time it was sent."""

    def __init__(self, session: aiohttp.ClientSession, base: str, paths: list[str]):
        self.session, self.base, self.paths = session, base, paths
        self.definition, self.rng = load_shipped()["counter_rating"], random.Random(7)
        self.latencies: list[tuple[float, float, int]] = []  # (sent at, seconds, status)
        self.running = True

    async def run(self) -> None:
        while self.running:
            asyncio.ensure_future(self.post_once())
            await asyncio.sleep(1 / POSTS_PER_SECOND)

    async def post_once(self) -> None:
        body = {"_key": "scale" + uuid.uuid4().hex, "_lang": "vi"}
        for item in self.definition.items:
            if item.type == "rating5":
                body[item.key] = str(self.rng.randint(1, 5))
            elif item.type == "domain":
                body[item.key] = self.rng.choice(item.choices).value
        sent = time.perf_counter()
        try:
            async with self.session.post(self.base + self.rng.choice(self.paths), data=body,
                                         allow_redirects=False) as response:
                await response.read()
                status = response.status
        except aiohttp.ClientError:
            status = 0
        self.latencies.append((sent, time.perf_counter() - sent, status))

    def p99_between(self, start: float, end: float) -> tuple[float | None, int, int]:
        """p99 (ms) of the posts sent in [start, end], their number, and how many did not get a 303."""
        chosen = sorted(seconds for sent, seconds, _ in self.latencies if start <= sent <= end)
        failed = sum(1 for sent, _, status in self.latencies if start <= sent <= end and status != 303)
        if not chosen:
            return None, 0, failed
        return round(1000 * chosen[min(len(chosen) - 1, int(0.99 * len(chosen)))], 1), len(chosen), failed


async def signed_in(base: str, username: str) -> aiohttp.ClientSession:
    from survey_app.campaigns.demo import DEMO_PASSWORD

    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                    timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))
    async with session.get(base + "/login") as page:
        token = CSRF.search(await page.text()).group(1)
    async with session.post(base + "/login", data={"username": username, "password": DEMO_PASSWORD,
                                                   "_csrf_token": token, "next": "/staff"},
                            allow_redirects=False) as response:
        assert response.status == 303, f"sign-in of {username}: {response.status}"
    return session


async def timed_get(session: aiohttp.ClientSession, url: str, attempts: int = 2) -> tuple[float, int, int]:
    """Seconds, status and size of one GET; a keep-alive connection the server closed meanwhile is retried once."""
    started = time.perf_counter()
    try:
        async with session.get(url, allow_redirects=False) as response:
            body = await response.read()
            return time.perf_counter() - started, response.status, len(body)
    except aiohttp.ServerDisconnectedError:
        if attempts <= 1:
            raise
        return await timed_get(session, url, attempts - 1)


async def drive(base: str, server_pid: int) -> list[dict]:
    settings = Settings.from_env({"DATABASE_URL": "sqlite:///unused", "SECRET_KEY": SECRET})
    paths = ["/q/" + sign(settings.signing_keys, counter, "QUAY-2026") for counter in COUNTERS]
    public = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))
    citizens = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT))
    sessions = {"citizens": citizens, None: public, "analyst": await signed_in(base, "analyst"), "h01": await signed_in(base, "h01")}
    poster = Poster(citizens, base, paths)
    posting = asyncio.ensure_future(poster.run())
    await asyncio.sleep(2)
    idle = poster.p99_between(0, time.perf_counter())
    rows = [{"page": "form posts, idle", "posts_p99_ms": idle[0], "posts": idle[1], "posts_failed": idle[2]}]
    try:
        for name, who, path in PAGES:
            started = time.perf_counter()
            cold, status, size = await timed_get(sessions[who], base + path)
            first_answer = cold
            while status == 202 and time.perf_counter() - started < REQUEST_TIMEOUT:  # "đang lập": reload as it does
                await asyncio.sleep(0.5)
                _, status, size = await timed_get(sessions[who], base + path)
                cold = time.perf_counter() - started
            posts_p99, posts, failed = poster.p99_between(started, time.perf_counter())
            warm, _, _ = await timed_get(sessions[who], base + path)
            row = {"page": name, "status": status, "bytes": size, "cold_s": round(cold, 3), "warm_s": round(warm, 3),
                   "first_answer_s": round(first_answer, 3),
                   "posts_p99_ms": posts_p99, "posts": posts, "posts_failed": failed, "rss_peak_mb": peak_rss_mb(server_pid)}
            if who is None:  # public pages: p99 of repeated requests while citizens post
                times = await repeated(public, base + path)
                row["p99_ms"], row["repeats"] = round(1000 * times[int(0.99 * len(times)) - 1], 1), len(times)
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
        rows += await flags_backlog(sessions["analyst"], base, poster, server_pid)
    finally:
        poster.running = False
        await posting
        await asyncio.sleep(1)
        for session in sessions.values():
            await session.close()
    return rows


async def flags_backlog(session: aiohttp.ClientSession, base: str, poster: "Poster", server_pid: int) -> list[dict]:
    """The quality flags' batches after the queue's first view: how long until every response is flagged (the page
    reloads itself while it shows "đang tính"), citizens' posts meanwhile, then the queue read from stored flags."""
    url = base + "/analyst/campaigns/SIPAS-2026/quality"
    started = time.perf_counter()
    while time.perf_counter() - started < REQUEST_TIMEOUT:
        async with session.get(url) as response:
            if 'id="flags-progress"' not in await response.text():
                break
        await asyncio.sleep(2)
    finished = time.perf_counter()
    posts_p99, posts, failed = poster.p99_between(started, finished)
    backlog = {"page": "quality flags of every response (background batches)", "cold_s": round(finished - started, 1),
               "posts_p99_ms": posts_p99, "posts": posts, "posts_failed": failed, "rss_peak_mb": peak_rss_mb(server_pid)}
    stored_started = time.perf_counter()
    first, status, size = await timed_get(session, url)
    posts_p99, posts, failed = poster.p99_between(stored_started, time.perf_counter())
    later, _, _ = await timed_get(session, url + "?page=20")
    stored = {"page": "quality queue, flags stored (page 1 / page 20)", "status": status, "bytes": size,
              "cold_s": round(first, 3), "warm_s": round(later, 3), "posts_p99_ms": posts_p99, "posts": posts,
              "posts_failed": failed, "rss_peak_mb": peak_rss_mb(server_pid)}
    for row in (backlog, stored):
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return [backlog, stored]


async def repeated(session: aiohttp.ClientSession, url: str) -> list[float]:
    """Sorted seconds of up to PUBLIC_REPEATS requests, stopping after REPEAT_SECONDS (slow pages get fewer)."""
    times, deadline = [], time.perf_counter() + REPEAT_SECONDS
    while len(times) < PUBLIC_REPEATS and time.perf_counter() < deadline:
        times.append((await timed_get(session, url))[0])
    return sorted(times)


def peak_rss_mb(pid: int) -> float:
    """The server's own peak resident memory (VmHWM), with any child process's."""
    total = 0.0
    for process in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{process}/status").read_text()
        except OSError:
            continue
        total += int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
    return round(total, 1)


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def indices_command(url: str, source: Path) -> dict:
    """`survey indices --by unit` in a child process: seconds and its peak RSS."""
    environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "PYTHONPATH": str(source)}
    # a fresh interpreter runs the command, so its RUSAGE_CHILDREN peak is the command's alone (not the server's)
    wrapper = ("import resource, subprocess, sys, time; started = time.perf_counter(); "
               "code = subprocess.run(sys.argv[1:], capture_output=True).returncode; "
               "print(code, time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", wrapper, str(SURVEY), "indices", "--campaign", "SIPAS-2026",
                             "--by", "unit"], env=environment, capture_output=True, text=True, timeout=REQUEST_TIMEOUT)
    code, seconds, peak = result.stdout.split()
    return {"page": "survey indices --by unit", "status": int(code), "cold_s": round(float(seconds), 1),
            "rss_peak_mb": round(int(peak) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--label", default="after")
    parser.add_argument("--keep", type=Path, help="reuse (or create) this SQLite file instead of a temporary one")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = arguments.keep or Path(folder) / "province.db"
        url = f"sqlite:///{path}" if arguments.database == "sqlite" else POSTGRES
        filled = None
        if not (arguments.keep and path.exists()):
            filled = asyncio.run(fill(url, arguments.responses))
            print(f"{arguments.responses} SIPAS + {arguments.responses} counter rows inserted in {filled:.1f} s", flush=True)
        port = free_port()
        (Path(folder) / "var").mkdir(exist_ok=True)  # the file session store needs var/ in the working folder
        environment = {**server_env(url), "PYTHONPATH": str(arguments.source)}
        command = [str(SURVEY), "serve", "--port", str(port), "--workers", "1"]
        started = time.perf_counter()
        # `survey serve` folds every answer before it is ready: minutes at 1 M on a loaded machine
        server = start_server(command, environment, Path(folder), port, "/readyz", ready_seconds=REQUEST_TIMEOUT)
        startup = time.perf_counter() - started
        try:
            rows = [{"page": "server start (migrate, fold figures)", "cold_s": round(startup, 1),
                     "rss_peak_mb": peak_rss_mb(server.pid)}]
            rows += asyncio.run(drive(f"http://{HOST}:{port}", server.pid))
            rows.append({"page": "server after every page", "rss_peak_mb": peak_rss_mb(server.pid)})
        finally:
            children = _children(server.pid)  # the worker process and any quality-flag process still running
            stop(server)
            for child in children:
                try:
                    os.kill(child, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            log = Path(folder) / f"server-{port}.log"
            Path(tempfile.gettempdir(), "province_scale_server.log").write_bytes(log.read_bytes()[-200_000:])
        rows.append(indices_command(url, arguments.source))
    report(arguments, filled, rows)


def report(arguments, filled: float | None, rows: list[dict]) -> None:
    print(f"\n{arguments.database}, {arguments.responses} SIPAS + {arguments.responses} counter responses, "
          f"{arguments.label} ({arguments.source})")
    print(f"{'page':<38} {'cold s':>8} {'warm s':>8} {'p99 ms':>8} {'posts p99 ms':>13} {'peak RSS MB':>12}")
    for row in rows:
        print(f"{row['page']:<38} {_shown(row.get('cold_s')):>8} {_shown(row.get('warm_s')):>8} "
              f"{_shown(row.get('p99_ms')):>8} {_shown(row.get('posts_p99_ms')):>13} {_shown(row.get('rss_peak_mb')):>12}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"province_scale_{arguments.database}_{arguments.responses}_{arguments.label}.json"
    out.write_text(json.dumps({"responses": arguments.responses, "database": arguments.database,
                               "label": arguments.label, "insert_seconds": filled, "rows": rows},
                              ensure_ascii=False, indent=2) + "\n")


def _shown(value) -> str:
    return "—" if value is None else str(value)


if __name__ == "__main__":
    main()
