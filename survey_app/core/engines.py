"""Piccolo engines for a DATABASE_URL: SQLite with its one writer thread, PostgreSQL with the insert batcher.

Apart from db.py so that piccolo_conf.py can build its engine without importing db.py (which rebinds
piccolo_conf.DB at start-up): no import circle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from survey_app.core.pg_writer import PostgresInsertBatcher

T = TypeVar("T")
logger = logging.getLogger("survey_app")


def sqlite_path(database_url: str) -> Path:
    """sqlite:///var/x.db is relative to the working directory, sqlite:////srv/x.db is absolute."""
    return Path(database_url.removeprefix("sqlite:///"))


class SQLiteWriter:
    """One thread owns the only write connection; queued writes commit together in one BEGIN IMMEDIATE.

    Each caller awaits its own result, which is set only after the COMMIT of its batch returned, so nothing is
    acknowledged before it is stored. Batching pays one fsync (synchronous=FULL) for many answers, and a
    persistent connection saves the new connection and thread Piccolo opens per query on SQLite.

    The writer never checkpoints the WAL itself: SQLite runs its automatic checkpoint inside the COMMIT that finds
    the WAL long, and while the quality flags were stored beside it that was the answers' commit, 94 ms at most
    against 15 without (benchmarks/flag_store_lock.py). A thread of its own checkpoints (PASSIVE: no lock that a
    writer waits for) at most every CHECKPOINT_SECONDS after commits.
    """

    CHECKPOINT_SECONDS = 1.0

    STOP = object()

    def __init__(self, path: Path, busy_timeout: float, max_batch: int = 256):
        self.path, self.busy_timeout, self.max_batch = path, busy_timeout, max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._committed, self._stopping = threading.Event(), threading.Event()
        self._checkpointer: threading.Thread | None = None
        self.last_checkpoint: tuple | None = None  # (busy, WAL frames, frames checkpointed), as SQLite returns it

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"sqlite-writer:{self.path.name}", daemon=True)
        self._thread.start()
        self._checkpointer = threading.Thread(target=self._checkpoints, name=f"sqlite-checkpoints:{self.path.name}",
                                              daemon=True)
        self._checkpointer.start()

    async def stop(self) -> None:
        """Finish every write already queued, then close the connection."""
        if self.running:
            self._queue.put(self.STOP)
            await asyncio.to_thread(self._thread.join)
        if self._checkpointer is not None:
            self._stopping.set()
            self._committed.set()
            await asyncio.to_thread(self._checkpointer.join)
            self._checkpointer = None

    async def execute_write(self, write: Callable[[sqlite3.Connection], T]) -> T:
        """Run write(connection) inside the next batch's transaction; returns after that batch committed."""
        if not self.running:
            raise sqlite3.OperationalError("the SQLite writer is not running")  # → 503, nothing stored
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((write, future, loop))
        return await future

    def _run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        connection.execute("PRAGMA synchronous=FULL")  # the WAL is synced at every commit: survives power loss
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA secure_delete=ON")  # see WriterSQLiteEngine.get_connection
        connection.execute("PRAGMA wal_autocheckpoint=0")  # _checkpoints does it, outside the answers' commit
        try:
            stopping = False
            while not stopping:
                batch, stopping = self._next_batch()
                if batch:
                    self._write_batch(connection, batch)
        finally:
            connection.close()
            self._fail_leftovers()

    def _next_batch(self) -> tuple[list, bool]:
        """Block for one write, then take whatever else is already waiting (up to max_batch); True at STOP."""
        batch, item = [], self._queue.get()
        while item is not self.STOP:
            batch.append(item)
            if len(batch) >= self.max_batch or self._queue.empty():
                return batch, False
            item = self._queue.get_nowait()
        return batch, True

    def _fail_leftovers(self) -> None:
        """Writes queued after the stop are refused (503), never silently dropped."""
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not self.STOP:
                _, future, loop = item
                _settle_from_thread(loop, [(future, False, sqlite3.OperationalError("the SQLite writer stopped"))])

    def _write_batch(self, connection: sqlite3.Connection, batch: list) -> None:
        try:
            connection.execute("BEGIN IMMEDIATE")
            outcomes = [self._write_one(connection, write) for write, _, _ in batch]
            connection.execute("COMMIT")
        except sqlite3.Error as error:  # locked, disk full, I/O error: the whole batch fails, nothing is kept
            _rollback_quietly(connection)
            logger.error("SQLite write batch of %d failed: %s", len(batch), error)
            outcomes = [(False, error)] * len(batch)
        settled_by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for (_, future, loop), outcome in zip(batch, outcomes):
            settled_by_loop.setdefault(loop, []).append((future, *outcome))
        for loop, settled in settled_by_loop.items():  # one wake-up of each event loop per batch, not per answer
            _settle_from_thread(loop, settled)
        self._committed.set()

    def _checkpoints(self) -> None:
        """After commits, a PASSIVE checkpoint on a connection of its own, at most every CHECKPOINT_SECONDS."""
        while not self._stopping.is_set():
            self._committed.wait()
            self._committed.clear()
            if self._stopping.is_set():
                return
            try:
                with contextlib.closing(sqlite3.connect(self.path, timeout=self.busy_timeout)) as connection:
                    self.last_checkpoint = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as error:  # the next commit tries again
                logger.warning("WAL checkpoint failed: %s", error)
            self._stopping.wait(self.CHECKPOINT_SECONDS)

    @staticmethod
    def _write_one(connection: sqlite3.Connection, write) -> tuple[bool, object]:
        """One write in a savepoint: a bad row fails alone; a database failure fails the batch."""
        connection.execute("SAVEPOINT one_write")
        try:
            result = write(connection)
        except sqlite3.OperationalError:
            raise
        except Exception as error:  # noqa: BLE001 - handed back to the caller that asked for this write
            connection.execute("ROLLBACK TO one_write")
            connection.execute("RELEASE one_write")
            return False, error
        connection.execute("RELEASE one_write")
        return True, result


def _rollback_quietly(connection: sqlite3.Connection) -> None:
    try:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
    except sqlite3.Error as error:  # SQLite rolls back by itself after some failures (e.g. disk full)
        logger.warning("rollback after a failed batch: %s", error)


def _settle_from_thread(loop: asyncio.AbstractEventLoop, settled: list[tuple[asyncio.Future, bool, object]]) -> None:
    try:
        loop.call_soon_threadsafe(_settle_all, settled)
    except RuntimeError:  # the caller's event loop is closed: nobody is waiting for these answers
        pass


def _settle_all(settled: list[tuple[asyncio.Future, bool, object]]) -> None:
    for future, ok, value in settled:
        if future.done():  # cancelled: the client went away; its answer is stored all the same
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class WriterSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with one batching writer beside it (started by connect, stopped by disconnect)."""

    def __init__(self, path: str, timeout: float):
        super().__init__(path=path, timeout=timeout)
        self.writer = SQLiteWriter(Path(path), timeout)

    async def get_connection(self):
        """Transactions' connections overwrite what they delete or replace with zeros (an official's draft, say),
        so the text does not stay in the file's free space; db.erase_deleted() then clears the WAL's copies."""
        connection = await super().get_connection()
        await connection.execute("PRAGMA secure_delete=ON")
        return connection


class BatchingPostgresEngine(PostgresEngine):
    """Piccolo's PostgreSQL engine with the insert batcher beside it (started by connect, stopped by disconnect)."""

    batcher: PostgresInsertBatcher


def engine_for_url(database_url: str, busy_timeout: float = 5.0) -> Engine:
    if database_url.startswith("sqlite:"):
        return WriterSQLiteEngine(path=str(sqlite_path(database_url)), timeout=busy_timeout)
    if database_url.startswith(("postgres://", "postgresql://")):
        return BatchingPostgresEngine(config={"dsn": database_url})
    raise ValueError(
        f"DATABASE_URL {database_url!r} is not supported: use sqlite:///path.db or postgresql://user@host/db"
    )
