"""`survey backup` and `survey restore` on the suite's engine (SQLite, or PostgreSQL with TEST_DATABASE_URL).

The backup is taken from a real `survey serve` while citizens keep posting (bounded, loopback), restored into a
database of its own, and every answer acknowledged before the backup started is found there.
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import time
import uuid

import httpx
from typer.testing import CliRunner

from tests.app.servers import SECRET, SURVEY, Server, demo_database, reset_postgres_database, stored_rows, submission

CLIENTS, MAX_POSTS = 6, 3000
BACKUP_AFTER = AFTER_BACKUP = 60  # acknowledged answers before the backup starts, and after it ended


async def post_until(server: Server, submissions: list[dict], acknowledged: dict[str, float], done) -> None:
    """Post from CLIENTS concurrent clients until done() or no submission is left; acknowledged maps each 303'd
    key to the time of its acknowledgement."""
    pending = list(submissions)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while pending and not done():
            body = pending.pop()
            response = await client.post(server.form_path(), data=body)
            if response.status_code == 303:
                acknowledged[body["_key"]] = time.monotonic()

    async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(CLIENTS)))


async def survey(*arguments: str, database_url: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(SURVEY), *arguments, env={**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output = (await process.communicate())[0].decode()
    assert process.returncode == 0, output
    return output


async def empty_database(suite_url: str, tmp_path, name: str) -> str:
    """A database of its own beside the suite's (same engine), empty."""
    if suite_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / (name + '.db')}"
    url = f"{suite_url}_{name}"
    await reset_postgres_database(url)
    return url


async def test_a_backup_taken_under_load_restores_every_acknowledged_answer(app, tmp_path, database_url):
    url = await demo_database(tmp_path, database_url, "backup_source")
    server = Server(url, tmp_path).start()
    prefix = "bak" + uuid.uuid4().hex[:8]
    rng = random.Random(17)
    acknowledged: dict[str, float] = {}
    backup_file = tmp_path / "survey.backup"
    backup_ended = float("inf")

    def enough_after_the_backup() -> bool:
        return sum(at > backup_ended for at in acknowledged.values()) >= AFTER_BACKUP

    try:
        load = asyncio.create_task(post_until(server, [submission(prefix, rng) for _ in range(MAX_POSTS)],
                                              acknowledged, enough_after_the_backup))
        while len(acknowledged) < BACKUP_AFTER and not load.done():
            await asyncio.sleep(0.01)
        backup_started = time.monotonic()
        output = await survey("backup", str(backup_file), database_url=url)
        backup_ended = time.monotonic()
        await load
    finally:
        server.stop()
    assert "verified" in output and oct(backup_file.stat().st_mode & 0o777) == "0o600"
    before = {key for key, at in acknowledged.items() if at < backup_started}
    after = {key for key, at in acknowledged.items() if at > backup_ended}
    assert len(before) >= BACKUP_AFTER and len(after) >= AFTER_BACKUP, "the load runs before and after the backup"
    assert len(acknowledged) > len(before) + len(after), "answers were acknowledged while the backup ran"

    target = await empty_database(database_url, tmp_path, "restored")
    assert "restored" in await survey("restore", str(backup_file), "--yes", database_url=target)
    restored = {key for key, _ in await stored_rows(target, prefix)}
    assert before <= restored  # every answer acknowledged before the backup began is in it
    assert restored <= set(acknowledged)  # and nothing half-written or unacknowledged
    Server(target, tmp_path).start().stop()  # the restored database serves (readiness answered ok)


def test_a_damaged_foreign_or_existing_file_is_refused_and_nothing_changes(tmp_path, database_url):
    from survey_app.cli import app as cli

    runner = CliRunner()
    sqlite_url = f"sqlite:///{tmp_path / 'live.db'}"
    env = {"DATABASE_URL": sqlite_url, "SECRET_KEY": SECRET}
    assert runner.invoke(cli, ["migrate"], env=env).exit_code == 0
    good = tmp_path / "good.db"
    assert runner.invoke(cli, ["backup", str(good)], env=env).exit_code == 0
    checked = runner.invoke(cli, ["restore", str(good), "--check"], env=env)
    assert checked.exit_code == 0 and "0 responses" in checked.output

    again = runner.invoke(cli, ["backup", str(good)], env=env)
    assert again.exit_code == 1 and "exists already" in again.output
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a backup at all")
    refused = runner.invoke(cli, ["restore", str(garbage), "--yes"], env=env)
    assert refused.exit_code == 1 and "neither a SQLite database nor a pg_dump archive" in refused.output
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    refused = runner.invoke(cli, ["restore", str(truncated), "--yes"], env=env)
    assert refused.exit_code == 1 and ("damaged" in refused.output or "cannot be read" in refused.output)
    foreign = runner.invoke(cli, ["restore", str(good), "--yes"],
                            env={**env, "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/none"})
    assert foreign.exit_code == 1 and "is a SQLite backup" in foreign.output
    with sqlite3.connect(tmp_path / "live.db") as connection:  # the live database is untouched
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
