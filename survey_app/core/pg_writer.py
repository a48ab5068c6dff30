"""Batched inserts on PostgreSQL: the answers that arrive together are stored by one statement and one commit.

Every submission used to be its own auto-committed INSERT: a round trip, a WAL flush and a wake-up of a server
process each. Here one task takes whatever inserts are waiting, sends one multi-row
INSERT … ON CONFLICT DO NOTHING RETURNING key, and answers each caller only after that statement (and so its
commit) returned. While one batch is in flight the next one gathers. A row the database refuses for another
reason than a unique key makes the batch fall back to one statement per row, so a bad row fails alone.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field
from typing import Callable

import asyncpg

MAX_ROWS = 256  # 256 × 11 columns stays far below PostgreSQL's 32 767 parameters per statement
TIMEOUT_SECONDS = 10  # a hung connection fails its batch (503, the phones retry) instead of every later one
CONNECTION_ERRORS = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError)


@dataclass(frozen=True)
class FollowUp:
    """Rows written with each stored row, in the same transaction: an outbox row per webhook subscriber, say.

    `sqlite`: a statement with ? marks run right after the row was stored, its arguments from
    `sqlite_arguments(new row id, the row's values)`. `postgres`: an INSERT … SELECT … FROM stored, where `stored`
    holds the rows the same statement just inserted (every column): one statement, so one transaction."""

    sqlite: str
    sqlite_arguments: Callable[[int, dict], tuple]
    postgres: str


@dataclass
class PendingInsert:
    table: str
    values: dict
    key: str  # the unique column that identifies a retry
    wanted: str  # the column read back from the earlier row when the insert is refused
    follow_up: FollowUp | None = None
    future: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    @property
    def shape(self) -> tuple:
        return self.table, tuple(self.values), self.key, self.wanted, self.follow_up and self.follow_up.postgres


@functools.lru_cache(maxsize=MAX_ROWS)  # one text per batch size
def batch_insert_sql(table: str, columns: tuple[str, ...], key: str, wanted: str, rows: int,
                     follow_up: str | None = None) -> str:
    width = len(columns)
    tuples = ", ".join(
        "(" + ", ".join(f"${row * width + column + 1}" for column in range(width)) + ")" for row in range(rows))
    names = ", ".join(f'"{column}"' for column in columns)
    insert = f'INSERT INTO "{table}" ({names}) VALUES {tuples} ON CONFLICT DO NOTHING'
    if follow_up is None:
        return f'{insert} RETURNING "{key}", "{wanted}"'
    return f'WITH stored AS ({insert} RETURNING *), follow_up AS ({follow_up}) SELECT "{key}", "{wanted}" FROM stored'


class PostgresInsertBatcher:
    """One task per worker process writes the queued inserts; `insert_once` awaits its row's outcome."""

    def __init__(self, pool) -> None:
        self.pool = pool
        self._pending: list[PendingInsert] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._in_flight: list[PendingInsert] = []

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="postgres-insert-batcher")
        self._task.add_done_callback(self._fail_waiting)

    def _fail_waiting(self, _task) -> None:
        """However the task ended (stopped, cancelled, a bug), nobody is left waiting for ever: 503, retry."""
        for pending in self._pending + self._in_flight:
            settle(pending.future, ConnectionError("the PostgreSQL insert batcher stopped"))
        self._pending, self._in_flight = [], []

    async def stop(self) -> None:
        """Write everything already queued, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def insert_once(self, table: str, values: dict, key: str, wanted: str,
                          follow_up: FollowUp | None = None) -> tuple[bool, object]:
        if self._stopping or self._task is None or self._task.done():
            raise ConnectionError("the PostgreSQL insert batcher is not running")  # → 503, nothing stored
        pending = PendingInsert(table, values, key, wanted, follow_up)
        self._pending.append(pending)
        self._wake.set()
        return await pending.future

    async def _run(self) -> None:
        while True:
            while self._pending:
                await self._write_some()
            if self._stopping:
                return
            await self._wake.wait()
            self._wake.clear()

    async def _write_some(self) -> None:
        self._in_flight, self._pending = self._pending[:MAX_ROWS], self._pending[MAX_ROWS:]
        shapes: dict[tuple, list[PendingInsert]] = {}
        for pending in self._in_flight:
            shapes.setdefault(pending.shape, []).append(pending)
        for same_shape in shapes.values():
            try:
                outcomes = await self._write_batch(same_shape)
            except CONNECTION_ERRORS as error:  # unreachable database: every caller gets it (→ 503)
                outcomes = [error] * len(same_shape)
            except asyncpg.PostgresError:  # a row the database refuses: each row on its own, a bad one fails alone
                outcomes = [await self._write_alone(pending) for pending in same_shape]
            except Exception as error:  # noqa: BLE001 - whatever it is, each caller hears of it
                outcomes = [error] * len(same_shape)
            for pending, outcome in zip(same_shape, outcomes):
                settle(pending.future, outcome)
        self._in_flight = []

    async def _write_batch(self, batch: list[PendingInsert]) -> list[tuple[bool, object]]:
        """A row is stored when its (key, wanted) pair came back: two copies of one key can differ (say, in their
        dossier), and only the copy the database kept is told so; every other row learns the stored `wanted`."""
        first = batch[0]
        sql = batch_insert_sql(first.table, tuple(first.values), first.key, first.wanted, len(batch),
                               first.follow_up and first.follow_up.postgres)
        arguments = [value for pending in batch for value in pending.values.values()]
        async with self.pool.acquire(timeout=TIMEOUT_SECONDS) as connection:
            stored = {tuple(row) for row in await connection.fetch(sql, *arguments, timeout=TIMEOUT_SECONDS)}
            outcomes, refused = [], []
            for pending in batch:
                pair = (pending.values[first.key], pending.values[first.wanted])
                if pair in stored:  # the first such row is the stored one; a later identical copy is a retry
                    stored.discard(pair)
                    outcomes.append((True, None))
                else:
                    outcomes.append(None)
                    refused.append(pair[0])
            earlier = dict(await connection.fetch(
                f'SELECT "{first.key}", "{first.wanted}" FROM "{first.table}" WHERE "{first.key}" = ANY($1)',
                refused, timeout=TIMEOUT_SECONDS)) if refused else {}
        return [outcome or (False, earlier.get(pending.values[first.key]))
                for pending, outcome in zip(batch, outcomes)]

    async def _write_alone(self, pending: PendingInsert) -> tuple[bool, object] | Exception:
        try:
            return (await self._write_batch([pending]))[0]
        except Exception as error:  # noqa: BLE001 - handed back to the caller of this row only
            return error


def settle(future: asyncio.Future, outcome) -> None:
    if future.done():  # the client went away; its answer is stored all the same
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
