"""Load over loopback: real citizen form posts against `survey serve`, then acknowledged vs stored.

For each database (SQLite, PostgreSQL) and worker count it loads the demo province into a fresh database, starts
`survey serve`, posts filled counter forms with idempotency keys from `--concurrency` clients (a share of them sent
twice at once, as a phone retrying a lost acknowledgement does), stops the server and compares the keys that got a
303 with the rows stored. The anchor is a Litestar hello-world (benchmarks/hello_app.py) under uvicorn with the same
options and worker count, driven by the same client in alternating phases; the ratio is stored submissions/s ÷
hello-world requests/s. The same anchor server also answers a bare form post (parse the body, 303, nothing else):
its rate ÷ hello-world's is the ceiling any form handler on this stack can reach.
Only 127.0.0.1; every phase stops at --requests or --seconds, whichever comes first.

Usage: .venv/bin/python benchmarks/load.py [--label after] [--databases sqlite postgresql] [--workers 1 2]
Prints a table (with the survey server's CPU per form request, all its processes, and the load average before the
run) and writes benchmarks/results/load_<label>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp  # the client: several times less CPU per request than httpx, and client and server share the CPUs

from questionnaires import load_shipped
from survey_app.core import db, engines
from survey_app.campaigns.demo import load_demo
from survey_app.core.settings import Settings
from survey_app.core.tokens import sign
from tests.app.servers import reset_postgres_database  # the same fresh database the durability tests use

HOST = "127.0.0.1"
BENCHMARKS = Path(__file__).resolve().parent
RESULTS = BENCHMARKS / "results"
SURVEY = Path(sys.executable).parent / "survey"
SECRET = "load-benchmark-secret"
COUNTERS = [f"SO{number:02d}-Q{desk}" for number in range(1, 11) for desk in (1, 2)]
HIGH_LIMIT = "1000000000"  # rate limits raised for the benchmark server, not removed


@dataclass
class PhaseResult:
    """What one client phase saw: latencies of every request, statuses, and the keys acknowledged with a 303."""

    elapsed_s: float = 0.0
    server_cpu_s: float = 0.0  # CPU the server (all its processes) spent during the phase
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    acknowledged: set[str] = field(default_factory=set)

    def record(self, status: int, started: float) -> None:
        self.latencies_ms.append((time.perf_counter() - started) * 1000)
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU so far of a server process and its descendants (uvicorn's workers), from /proc (Linux)."""
    parents, cpu, ticks = {}, {}, os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        process = int(stat.parent.name)
        parents[process], cpu[process] = int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks
    tree, grown = {pid}, True
    while grown:
        children = {process for process, parent in parents.items() if parent in tree} - tree
        tree, grown = tree | children, bool(children)
    return sum(cpu.get(process, 0.0) for process in tree)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def form_body(definition, key: str, rng: random.Random) -> dict[str, str]:
    """A valid counter rating: random ratings and domain; no dossier code (it is optional and unique per dossier)."""
    body = {"_key": key, "_lang": "vi"}
    for item in definition.items:
        if item.type == "rating5":
            body[item.key] = str(rng.randint(1, 5))
        elif item.type == "domain":
            body[item.key] = rng.choice(item.choices).value
    return body


async def run_phase(request_once, requests: int, seconds: float, concurrency: int, server_pid: int | None = None
                    ) -> PhaseResult:
    """`concurrency` clients call request_once(result) until `requests` are sent or `seconds` are over."""
    result, remaining = PhaseResult(), [requests]
    cpu_before = server_cpu_seconds(server_pid) if server_pid else 0.0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while remaining[0] > 0 and time.perf_counter() < deadline:
            remaining[0] -= 1
            await request_once(result)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    result.elapsed_s = time.perf_counter() - started
    result.server_cpu_s = server_cpu_seconds(server_pid) - cpu_before if server_pid else 0.0
    return result


def form_poster(session: aiohttp.ClientSession, base: str, paths: list[str], prefix: str, retry_share: float):
    definition, rng = load_shipped()["counter_rating"], random.Random(2026)

    async def post(body: dict, result: PhaseResult) -> bool:
        started = time.perf_counter()
        try:
            async with session.post(base + rng.choice(paths), data=body, allow_redirects=False) as response:
                await response.read()
                result.record(response.status, started)
                return response.status == 303
        except aiohttp.ClientError as error:
            result.record(type(error).__name__, started)
            return False

    async def submit_once(result: PhaseResult) -> None:
        body = form_body(definition, prefix + uuid.uuid4().hex, rng)
        copies = 2 if rng.random() < retry_share else 1  # a retry racing the first send: same key, same answers
        if any(await asyncio.gather(*(post(body, result) for _ in range(copies)))):
            result.acknowledged.add(body["_key"])

    return submit_once


def hello_getter(session: aiohttp.ClientSession, base: str):
    async def get_once(result: PhaseResult) -> None:
        started = time.perf_counter()
        async with session.get(base + "/") as response:
            await response.read()
            result.record(response.status, started)
            if response.status == 200:
                result.acknowledged.add("hello")

    return get_once


def merge(phases: list[PhaseResult]) -> PhaseResult:
    merged = PhaseResult()
    for phase in phases:
        merged.elapsed_s += phase.elapsed_s
        merged.server_cpu_s += phase.server_cpu_s
        merged.latencies_ms += phase.latencies_ms
        merged.acknowledged |= phase.acknowledged
        for status, count in phase.statuses.items():
            merged.statuses[status] = merged.statuses.get(status, 0) + count
    return merged


async def drive_both(hello_base: str, form_base: str, form_factory, args, server_pids: tuple[int, int]
                     ) -> tuple[PhaseResult, PhaseResult, PhaseResult, set]:
    """Warm both servers up, then alternate short hello-world, bare-form and form phases (--rounds each), so a
    change of load on the machine during the run weighs on every side of the ratios alike."""
    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        get_hello, submit_form = hello_getter(session, hello_base), form_factory(session, form_base)
        post_bare = form_factory(session, hello_base)
        await run_phase(get_hello, 200, args.seconds, args.concurrency)
        warmup = await run_phase(submit_form, 200, args.seconds, args.concurrency)
        phases = {"hello": [], "bare": [], "forms": []}
        for _ in range(args.rounds):
            for name, request_once, pid in (("hello", get_hello, server_pids[0]), ("bare", post_bare, server_pids[0]),
                                            ("forms", submit_form, server_pids[1])):
                phases[name].append(await run_phase(request_once, args.requests // args.rounds,
                                                    args.seconds / args.rounds, args.concurrency, pid))
    timed_forms = merge(phases["forms"])
    return merge(phases["hello"]), merge(phases["bare"]), timed_forms, warmup.acknowledged | timed_forms.acknowledged


def wait_ready(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not become ready (exit code {server.poll()})")


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGINT)  # uvicorn's graceful stop: finish requests in flight, run shutdown hooks
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def start_server(command: list[str], env: dict, folder: Path, port: int, ready_path: str,
                 ready_seconds: float = 60) -> subprocess.Popen:
    log = open(folder / f"server-{port}.log", "wb")
    server = subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
    wait_ready(f"http://{HOST}:{port}{ready_path}", server, ready_seconds)
    return server


def hello_command(port: int, workers: int) -> list[str]:
    code = ("import uvicorn; from survey_app.cli import uvicorn_options; "
            f"uvicorn.run('hello_app:app', app_dir={str(BENCHMARKS)!r}, host={HOST!r}, port={port}, "
            f"workers={workers}, **uvicorn_options())")
    return [sys.executable, "-c", code]


async def prepare_database(url: str) -> None:
    """A fresh database with the demo province (few seeded answers: the benchmark adds its own)."""
    if not url.startswith("sqlite"):
        await reset_postgres_database(url)
    settings = Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    await db.run_connected(settings, lambda: load_demo(per_unit=2))


async def stored_keys(url: str, prefix: str) -> list[str]:
    """Every stored idempotency key of this run, one entry per row (so a duplicate row shows twice)."""
    query = "SELECT idempotency_key FROM response WHERE idempotency_key LIKE '{}%'"
    if url.startswith("sqlite"):
        with sqlite3.connect(engines.sqlite_path(url)) as connection:
            return [row[0] for row in connection.execute(query.format(prefix))]
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return [row[0] for row in await connection.fetch(query.format(prefix))]
    finally:
        await connection.close()


def server_env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "RATE_LIMIT_PER_CLIENT": HIGH_LIMIT,
            "RATE_LIMIT_PER_COUNTER": HIGH_LIMIT}


def measure_both(args, url: str, workers: int, folder: Path) -> tuple[PhaseResult, PhaseResult, PhaseResult, set,
                                                                     list]:
    """Hello-world and `survey serve` side by side, same worker count; returns both phases, acks and stored keys."""
    asyncio.run(prepare_database(url))
    settings = Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": SECRET})
    paths = ["/q/" + sign(settings.signing_keys, counter, "QUAY-2026") for counter in COUNTERS]
    prefix = "load" + uuid.uuid4().hex[:8]
    hello_port, form_port = free_port(), free_port()
    survey_command = [str(SURVEY), "serve", "--port", str(form_port), "--workers", str(workers)]
    servers = [start_server(hello_command(hello_port, workers), dict(os.environ), folder, hello_port, "/")]
    try:
        servers.append(start_server(survey_command, server_env(url), folder, form_port, "/readyz"))
        factory = lambda session, base: form_poster(session, base, paths, prefix, args.retry_share)  # noqa: E731
        hello, bare, forms, acknowledged = asyncio.run(
            drive_both(f"http://{HOST}:{hello_port}", f"http://{HOST}:{form_port}", factory, args,
                       (servers[0].pid, servers[1].pid)))
    finally:
        for server in servers:
            stop(server)
    return hello, bare, forms, acknowledged, asyncio.run(stored_keys(url, prefix))


def summarise(database: str, workers: int, hello: PhaseResult, bare: PhaseResult, forms: PhaseResult,
              acknowledged: set[str], stored: list[str]) -> dict:
    hello_rps = len(hello.latencies_ms) / hello.elapsed_s
    bare_per_s = len(bare.acknowledged) / bare.elapsed_s
    stored_per_s = len(forms.acknowledged) / forms.elapsed_s
    return {
        "database": database, "workers": workers,
        "hello_requests_per_s": round(hello_rps, 1), "hello_p99_ms": round(hello.percentile(0.99), 2),
        "bare_form_per_s": round(bare_per_s, 1), "bare_ratio": round(bare_per_s / hello_rps, 3),
        "form_requests_per_s": round(len(forms.latencies_ms) / forms.elapsed_s, 1),
        "stored_per_s": round(stored_per_s, 1), "ratio": round(stored_per_s / hello_rps, 3),
        "p50_ms": round(forms.percentile(0.50), 2), "p99_ms": round(forms.percentile(0.99), 2),
        "hello_server_cpu_us": round(hello.server_cpu_s / len(hello.latencies_ms) * 1e6),
        "bare_server_cpu_us": round(bare.server_cpu_s / len(bare.latencies_ms) * 1e6),
        "form_server_cpu_us": round(forms.server_cpu_s / len(forms.latencies_ms) * 1e6),
        "statuses": forms.statuses, "acknowledged": len(acknowledged), "stored": len(stored),
        "duplicates": len(stored) - len(set(stored)), "acknowledged_not_stored": len(acknowledged - set(stored)),
        "stored_not_acknowledged": len(set(stored) - acknowledged),
    }


def measure(args, database: str, url: str, workers: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"load-{database}-{workers}-"))
    if database == "sqlite":
        url = f"sqlite:///{folder / 'load.db'}"
    load_before = os.getloadavg()[0]  # other work on the machine moves every figure: say how much there was
    result = summarise(database, workers, *measure_both(args, url, workers, folder))
    return {**result, "load_average_before": round(load_before, 2), "load_average_after": round(os.getloadavg()[0], 2)}


HEADER = (f"{'database':10} {'workers':>7} {'hello/s':>8} {'bare/s':>7} {'ceiling':>7} {'stored/s':>8} {'ratio':>6} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'CPU µs':>6} {'load':>4} "
          f"{'acked':>6} {'stored':>6} {'dupl':>4}  check")


def row(result: dict) -> str:
    ok = result["acknowledged"] == result["stored"] and result["duplicates"] == 0
    check = "acknowledged == stored, 0 duplicates" if ok else "MISMATCH"
    return (f"{result['database']:10} {result['workers']:7} {result['hello_requests_per_s']:8.0f} "
            f"{result['bare_form_per_s']:7.0f} {result['bare_ratio']:7.0%} "
            f"{result['stored_per_s']:8.0f} {result['ratio']:6.0%} {result['p50_ms']:7.1f} {result['p99_ms']:7.1f} "
            f"{result['form_server_cpu_us']:6} {result['load_average_before']:4.1f} "
            f"{result['acknowledged']:6} {result['stored']:6} {result['duplicates']:4}  {check}")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="latest", help="name of the JSON file: results/load_<label>.json")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/bench_perf")
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--requests", type=int, default=6000, help="at most this many per side, all rounds")
    parser.add_argument("--seconds", type=float, default=20, help="at most this long per side, all rounds")
    parser.add_argument("--rounds", type=int, default=4, help="alternating hello-world and form phases")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--retry-share", type=float, default=0.1, help="share of submissions sent twice at once")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    results = [measure(args, database, args.postgres_url, workers)
               for database in args.databases for workers in args.workers]
    print(HEADER)
    for result in results:
        print(row(result))
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    run = {"label": args.label, "machine": machine, "arguments": vars(args), "results": results}
    (RESULTS / f"load_{args.label}.json").write_text(json.dumps(run, indent=2))


if __name__ == "__main__":
    main()
