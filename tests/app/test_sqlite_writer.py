"""The one SQLite writer: concurrent writes share a commit, a bad write fails alone, a locked file fails the batch."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from survey_app.core.engines import SQLiteWriter


@pytest.fixture
async def writer(tmp_path):
    path = tmp_path / "writer.db"
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE answer (id INTEGER PRIMARY KEY, value TEXT UNIQUE NOT NULL)")
    one_writer = SQLiteWriter(path, busy_timeout=0.2)
    one_writer.start()
    yield one_writer
    await one_writer.stop()


def insert(value: str):
    return lambda connection: connection.execute(
        "INSERT INTO answer (value) VALUES (?) ON CONFLICT DO NOTHING RETURNING id", (value,)).fetchall()


def fail(connection):
    connection.execute("INSERT INTO answer (value) VALUES ('half')")
    raise ValueError("bad row")


def stored(writer) -> list[str]:
    with sqlite3.connect(writer.path) as connection:
        return sorted(row[0] for row in connection.execute("SELECT value FROM answer"))


async def test_a_bad_write_fails_alone_and_the_rest_of_its_batch_is_stored(writer):
    writes = [insert(f"v{number}") for number in range(50)] + [fail, insert("v0")]
    outcomes = await asyncio.gather(*(writer.execute_write(write) for write in writes), return_exceptions=True)
    assert all(len(outcome) == 1 for outcome in outcomes[:50])
    assert isinstance(outcomes[50], ValueError)
    assert outcomes[51] == []  # the duplicate was skipped, not an error
    assert stored(writer) == sorted(f"v{number}" for number in range(50))  # nothing of the bad write


async def test_a_locked_database_fails_the_whole_batch_and_stores_nothing(writer):
    locker = sqlite3.connect(writer.path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        outcomes = await asyncio.gather(*(writer.execute_write(insert(f"w{n}")) for n in range(5)),
                                        return_exceptions=True)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert all(isinstance(outcome, sqlite3.OperationalError) for outcome in outcomes)
    assert stored(writer) == []
    assert await writer.execute_write(insert("after")) == [(1,)]  # the writer carries on once the lock is gone


async def test_a_stopped_writer_refuses_instead_of_dropping(writer):
    await writer.stop()
    with pytest.raises(sqlite3.OperationalError, match="not running"):
        await writer.execute_write(insert("late"))


async def test_the_answers_commit_never_checkpoints_the_wal_a_thread_of_its_own_does(writer):
    """SQLite's automatic checkpoint runs inside the commit that finds the WAL long: the answers' commit waited
    for it (benchmarks/flag_store_lock.py). The writer turns it off; its checkpointer copies the WAL after commits."""
    assert await writer.execute_write(lambda connection: connection.execute("PRAGMA wal_autocheckpoint").fetchone()) \
        == (0,)
    for start in range(0, 3000, 300):  # more than SQLite's 1,000 pages of WAL
        await asyncio.gather(*(writer.execute_write(insert(f"{number:06d}" + "x" * 4000))
                               for number in range(start, start + 300)))
    for _ in range(100):
        if writer.last_checkpoint and writer.last_checkpoint[1] > 1000:
            break
        await asyncio.sleep(0.05)
    busy, frames, copied = writer.last_checkpoint
    assert busy == 0 and frames > 1000 and copied == frames
