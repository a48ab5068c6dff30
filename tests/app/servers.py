"""Real `survey serve` processes for fault tests: a demo database of their own, start, stop, read what is stored."""

from __future__ import annotations

import asyncio
import functools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg

from survey_app.core import engines
from survey_app.core.settings import Settings
from tests.app.helpers import counter_definition, form_path
from tests.app.test_dockerfile import free_port, wait_ready

SURVEY = Path(sys.executable).parent / "survey"
SECRET = "fault-test-secret"


async def reset_postgres_database(url: str) -> None:
    """Create the database beside the suite's one if needed, and empty it (never the suite's own database)."""
    base, name = url.rsplit("/", 1)
    admin = await asyncpg.connect(base + "/postgres")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


LOAD_DEMO = ("import asyncio; from survey_app.core import db; from survey_app.campaigns.demo import load_demo; "
             "from survey_app.core.settings import Settings; "
             "asyncio.run(db.run_connected(Settings.from_env(), lambda: load_demo(per_unit=1)))")


async def demo_database(tmp_path: Path, suite_url: str, name: str) -> str:
    """A migrated demo province in a database of its own (same engine as the suite), so servers can write freely.
    Loaded by another process: in this one the tables' engine is global, and the suite's own background jobs
    would meanwhile run on the new database (and the jobs the load defers, on the suite's)."""
    if suite_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / (name + '.db')}"
    else:
        url = f"{suite_url}_{name}"
        await reset_postgres_database(url)
    environment = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET}
    loaded = await asyncio.create_subprocess_exec(sys.executable, "-c", LOAD_DEMO, env=environment,
                                                  stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL)
    _, errors = await asyncio.wait_for(loaded.communicate(), timeout=300)
    assert loaded.returncode == 0, errors.decode(errors="replace")[-3000:]
    return url


class Server:
    """One `survey serve` process on a free loopback port."""

    def __init__(self, database_url: str, folder: Path, workers: int = 1, preexec_fn=None, **extra_env: str):
        self.database_url, self.folder, self.workers = database_url, folder, workers
        self.env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET,
                    "RATE_LIMIT_PER_CLIENT": "100000", "RATE_LIMIT_PER_COUNTER": "100000", **extra_env}
        self.preexec_fn = preexec_fn
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        self.port = free_port()
        command = [str(SURVEY), "serve", "--port", str(self.port), "--workers", str(self.workers)]
        log = open(self.folder / f"server-{self.port}.log", "wb")
        self.process = subprocess.Popen(command, env=self.env, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
                                        preexec_fn=self.preexec_fn)
        assert wait_ready(self.base_url + "/readyz", self.process, seconds=60), self.log()
        return self

    def kill_9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill_9()

    def log(self) -> str:
        return "".join(path.read_text(errors="replace") for path in sorted(self.folder.glob("server-*.log")))

    def form_path(self, counter_code: str = "SO01-Q1") -> str:
        return form_path(Settings.from_env({"SECRET_KEY": SECRET}), counter_code)


@functools.cache
def counter_items() -> tuple:
    return tuple(counter_definition().items)  # loading the shipped YAML takes a while: once per run


def submission(prefix: str, rng: random.Random) -> dict[str, str]:
    """A complete counter rating with a fresh idempotency key that starts with `prefix`."""
    body = {"_key": prefix + uuid.uuid4().hex, "_lang": "vi"}
    for item in counter_items():
        if item.type == "rating5":
            body[item.key] = str(rng.randint(1, 5))
        elif item.type == "domain":
            body[item.key] = rng.choice(item.choices).value
    return body


async def read(database_url: str, query: str) -> list[tuple]:
    """The rows a query finds in a server's database, read without the suite's engine."""
    if database_url.startswith("sqlite"):
        with sqlite3.connect(engines.sqlite_path(database_url)) as connection:
            return [tuple(row) for row in connection.execute(query)]
    connection = await asyncpg.connect(database_url)
    try:
        return [tuple(row) for row in await connection.fetch(query)]
    finally:
        await connection.close()


async def stored_rows(database_url: str, prefix: str) -> list[tuple[str, str]]:
    """(idempotency key, answers digest) of every stored row whose key starts with prefix; one entry per row."""
    return await read(database_url, f"SELECT idempotency_key, answers_digest FROM response "
                                    f"WHERE idempotency_key LIKE '{prefix}%'")
