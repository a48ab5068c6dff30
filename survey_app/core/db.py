"""Engines, connection pool, write transactions and migrations for SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, TypeVar

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType

from survey_app.core.engines import BatchingPostgresEngine, WriterSQLiteEngine, engine_for_url
from survey_app.core.pg_writer import FollowUp, PostgresInsertBatcher

MIGRATIONS_FOLDER = Path(__file__).parent / "piccolo_migrations"
APP_NAME = "survey"
T = TypeVar("T")
logger = logging.getLogger("survey_app")


class DatabaseUnavailable(Exception):
    """The database cannot be reached or is locked; the request gets a 503 and nothing is stored."""



def bind(engine: Engine) -> None:
    """Point every table (ours and Piccolo's migration table) at this engine."""
    from piccolo.apps.migrations.tables import Migration

    from survey_app.core import piccolo_conf
    from survey_app.core.tables import ALL_TABLES

    piccolo_conf.DB = engine
    for table in (*ALL_TABLES, Migration):
        table._meta._db = engine


def prepare_sqlite_file(path: Path) -> None:
    """Create the folder, the file readable by its owner only (SQLite gives the -wal and -shm files the same mode;
    the answers are personal data), and switch it to WAL (a persistent setting) so readers never block the
    writer."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")


async def keep_session(connection) -> None:
    """The pool's reset on release. asyncpg's default sends RESET ALL, UNLISTEN *, CLOSE ALL and unlocks advisory
    locks: a round trip per query here, as long as the insert itself. Nothing here sets, listens, holds cursors or
    takes advisory locks; an open transaction is still rolled back by asyncpg before this is called."""


async def connect(settings) -> Engine:
    """Create the engine for these settings, bind the tables and open the pool (PostgreSQL)."""
    engine = engine_for_url(settings.database_url, settings.sqlite_busy_timeout)
    if isinstance(engine, WriterSQLiteEngine):
        prepare_sqlite_file(Path(engine.path))
        engine.writer.start()
    else:
        await engine.start_connection_pool(min_size=1, max_size=settings.db_pool_size, reset=keep_session)
        engine.batcher = PostgresInsertBatcher(engine.pool)
        engine.batcher.start()
    bind(engine)
    return engine


async def disconnect(engine: Engine) -> None:
    if isinstance(engine, BatchingPostgresEngine):
        await engine.batcher.stop()
    if isinstance(engine, PostgresEngine):
        await engine.close_connection_pool()
    if isinstance(engine, WriterSQLiteEngine):
        await engine.writer.stop()


@functools.lru_cache(maxsize=32)
def insert_once_sql(table_name: str, columns: tuple[str, ...]) -> str:
    """SQLite's INSERT … ON CONFLICT DO NOTHING RETURNING id, built once: Piccolo spends about a millisecond
    building each insert, as much as the rest of a submission."""
    marks = ["?"] * len(columns)
    names = ", ".join(f'"{column}"' for column in columns)
    return (f'INSERT INTO "{table_name}" ({names}) VALUES ({", ".join(marks)}) '
            'ON CONFLICT DO NOTHING RETURNING "id"')


async def insert_once(table, values: dict, key: str, wanted: str,
                      follow_up: FollowUp | None = None) -> tuple[bool, object]:
    """Insert one row unless it breaks a unique constraint. (True, None) when stored, after the commit; otherwise
    (False, the `wanted` column of the stored row with the same `key` value, or None when another unique
    constraint refused it), read on the same connection right after the refused insert. A `follow_up` writes its
    rows with a stored row, in the same transaction (pg_writer.FollowUp).

    On SQLite it goes through the one writer thread, on PostgreSQL through the batching task (survey_app.core.pg_writer):
    the rows waiting at the same time are stored by one statement and one commit.
    """
    engine = table._meta.db
    name = table._meta.tablename
    if isinstance(engine, WriterSQLiteEngine):
        sql = insert_once_sql(name, tuple(values))
        arguments = list(values.values())
        lookup = f'SELECT "{wanted}" FROM "{name}" WHERE "{key}" = ?'

        def write(connection: sqlite3.Connection) -> tuple[bool, object]:
            if stored := connection.execute(sql, arguments).fetchall():
                if follow_up is not None:
                    connection.execute(follow_up.sqlite, follow_up.sqlite_arguments(stored[0][0], values))
                return True, None
            earlier = connection.execute(lookup, (values[key],)).fetchone()
            return False, earlier and earlier[0]

        return await engine.writer.execute_write(write)
    return await engine.batcher.insert_once(name, values, key, wanted, follow_up)


async def fetch_tuples(sql: str, *arguments) -> list:
    """A read query's rows as tuples on the bound engine; `sql` has $1, $2 … placeholders.

    Exports read a million rows through this: Piccolo's dict per row (and, on SQLite, its new thread per query)
    cost as much as the rest of the export. sqlite3 reads $1 as ?1, a numbered placeholder."""
    from survey_app.core.tables import Unit

    engine = Unit._meta.db
    if isinstance(engine, SQLiteEngine):
        return await asyncio.to_thread(_sqlite_fetch, engine.path, sql.replace("$", "?"), arguments)
    async with engine.pool.acquire() as connection:
        return await connection.fetch(sql, *arguments)


async def write_returning(sql: str, *arguments) -> list[dict]:
    """One write statement ($1, $2 … placeholders) and the rows it returns, committed. On SQLite through the one
    writer thread (a write of its own would wait for the writer's lock), on PostgreSQL on a pooled connection."""
    engine = _bound_engine()
    if isinstance(engine, WriterSQLiteEngine):
        def write(connection: sqlite3.Connection) -> list[dict]:
            cursor = connection.execute(sql.replace("$", "?"), arguments)
            names = [column[0] for column in cursor.description or ()]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

        return await engine.writer.execute_write(write)
    async with engine.pool.acquire() as connection:
        return [dict(row) for row in await connection.fetch(sql, *arguments)]


async def write_many(sql: str, rows: list[tuple]) -> None:
    """One write statement ($1, $2 … placeholders) for each row of arguments, all in one transaction."""
    engine = _bound_engine()
    if isinstance(engine, WriterSQLiteEngine):
        await engine.writer.execute_write(lambda connection: connection.executemany(sql.replace("$", "?"), rows).rowcount)
        return
    async with engine.pool.acquire() as connection:
        await connection.executemany(sql, rows)


def _sqlite_fetch(path: str, sql: str, arguments: tuple) -> list:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, arguments).fetchall()
    finally:
        connection.close()


class _ImmediateTransaction(SQLiteTransaction):
    """BEGIN IMMEDIATE that closes its connection when the lock cannot be had.

    Piccolo's transaction leaks the connection (and aiosqlite's non-daemon thread, which then blocks
    interpreter exit) when BEGIN itself fails, e.g. "database is locked".
    """

    async def begin(self):
        try:
            await super().begin()
        except BaseException:
            await self.connection.close()
            raise


@asynccontextmanager
async def write_transaction(engine: Engine | None = None) -> AsyncIterator[None]:
    """A write transaction (on the bound engine by default); on SQLite it takes the write lock at BEGIN so
    concurrent writers queue, not fail."""
    if engine is None:
        from survey_app.core.tables import Unit

        engine = Unit._meta.db
    if isinstance(engine, SQLiteEngine):
        async with _ImmediateTransaction(engine, TransactionType.immediate):
            yield
    else:
        async with engine.transaction():
            yield


async def erase_deleted(engine: Engine | None = None) -> None:
    """After personal data was deleted (an official's draft): on SQLite, copy the WAL into the file and empty it,
    since until a checkpoint the WAL still holds the pages as they were before. Best effort: a reader holding an
    old snapshot keeps its frames until SQLite's next checkpoint. PostgreSQL's WAL is the server's (archived for
    point-in-time recovery by design), not a file beside the database."""
    engine = engine or _bound_engine()
    if isinstance(engine, WriterSQLiteEngine):
        await asyncio.to_thread(_checkpoint_truncate, engine.writer.path, engine.writer.busy_timeout)


def _checkpoint_truncate(path: str, busy_timeout: float) -> None:
    with contextlib.closing(sqlite3.connect(path, timeout=busy_timeout)) as connection:
        blocked, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if blocked:
        logger.warning("WAL checkpoint after a deletion was blocked by a reader; SQLite will finish it later")


def on_sqlite() -> bool:
    return isinstance(_bound_engine(), SQLiteEngine)


def _bound_engine() -> Engine:
    from survey_app.core.tables import Unit

    return Unit._meta.db


def migration_ids() -> list[str]:
    return sorted(path.stem for path in MIGRATIONS_FOLDER.glob("20*.py"))


async def applied_migration_ids() -> set[str]:
    from piccolo.apps.migrations.tables import Migration

    if not await Migration.table_exists():
        return set()
    rows = await Migration.select(Migration.name).where(Migration.app_name == APP_NAME)
    return {row["name"] for row in rows}


async def pending_migrations() -> list[str]:
    applied = await applied_migration_ids()
    return [migration_id for migration_id in migration_ids() if migration_id not in applied]


async def migrate() -> list[str]:
    """Apply every pending migration; returns the ids applied. Fails loudly."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    pending = await pending_migrations()
    if pending:
        result = await run_forwards(app_name=APP_NAME, migration_id="all")
        if not result.success:
            raise RuntimeError(f"migrations failed: {result.message}")
    return pending


async def run_connected(settings, work: Callable[[], Awaitable[T]], migrate_first: bool = True) -> T:
    """Connect, migrate, run `work`, disconnect: the shape of every command-line job.

    The tables are bound back to the engine they had before, so a command run inside a running app (or a test
    session) leaves that app's database binding as it found it."""
    from survey_app.core.tables import Unit

    previous = Unit._meta._db
    engine = await connect(settings)
    try:
        if migrate_first:
            await migrate()
        return await work()
    finally:
        await disconnect(engine)
        if previous is not None:
            bind(previous)


async def ping(engine: Engine) -> None:
    await engine.run_ddl("SELECT 1")


def sql_migration(migration_id: str, description: str, statements: list[str]):
    """A Piccolo migration that runs plain SQL statements; `{pk}` becomes the engine's auto-increment key."""
    from piccolo.apps.migrations.auto.migration_manager import MigrationManager

    manager = MigrationManager(migration_id=migration_id, app_name=APP_NAME, description=description)

    async def run_statements():
        from survey_app.core.tables import Unit

        engine = Unit._meta.db
        primary_key = "INTEGER PRIMARY KEY" if isinstance(engine, SQLiteEngine) else "SERIAL PRIMARY KEY"
        for statement in statements:
            await engine.run_ddl(statement.replace("{pk}", primary_key).replace("{{}}", "{}"))

    manager.add_raw(run_statements)
    return manager
