"""The database goes away while phones post: 503 "not saved" (the phone keeps the answers and retries), nothing
half-stored, and once the database is back the retry is stored, once.

PostgreSQL: the server reaches the database through a loopback TCP proxy that the test cuts (every open
connection reset, no new ones) and restores. SQLite: another process holds the write lock, then lets go."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading

import httpx

from survey_app.core import db, engines
from survey_app.app import create_app
from survey_app.core.settings import Settings
from tests.app.helpers import counter_definition, filled_form, form_path
from tests.app.servers import SECRET, demo_database, stored_rows
from tests.app.test_dockerfile import free_port


class TcpProxy:
    """127.0.0.1:port → target, for cutting a server off its database and letting it back. It runs its own event
    loop in a thread: the engine's start-up checks the server version synchronously, blocking the test's loop."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        self._run(self._start())

    def cut(self) -> None:
        """Stop listening and reset every open connection, as a database host that went down."""
        self._run(self._cut())

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def _run(self, coroutine) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._pipe_client, "127.0.0.1", self.port)

    async def _cut(self) -> None:
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _pipe_client(self, client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers |= {client_writer, server_writer}
        await asyncio.gather(self._copy(client_reader, server_writer), self._copy(server_reader, client_writer))

    async def _copy(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


@contextlib.asynccontextmanager
async def postgres_outage(url: str):
    """(the URL the server should use, an async context manager during which the database is unreachable)."""
    address, name = url.split("@", 1)[1].rsplit("/", 1)
    host, port = address.split(":")
    proxy = TcpProxy(host, int(port))
    proxy.start()

    @contextlib.asynccontextmanager
    async def unreachable():
        proxy.cut()
        try:
            yield
        finally:
            proxy.start()

    try:
        yield url.replace(address, f"127.0.0.1:{proxy.port}"), unreachable
    finally:
        proxy.close()


@contextlib.asynccontextmanager
async def sqlite_outage(url: str):
    @contextlib.asynccontextmanager
    async def locked():
        locker = sqlite3.connect(engines.sqlite_path(url), isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        try:
            yield
        finally:
            locker.execute("ROLLBACK")
            locker.close()

    yield url, locked


async def test_an_outage_gives_503_stores_nothing_and_the_retry_is_stored_once(app, tmp_path, database_url):
    url = await demo_database(tmp_path, database_url, "outage")
    outage = sqlite_outage if url.startswith("sqlite") else postgres_outage
    settings_of = {"SECRET_KEY": SECRET, "SQLITE_BUSY_TIMEOUT": "0.2", "RATE_LIMIT_PER_CLIENT": "1000",
                   "JOB_WORKER": "off"}  # the suite's jobs are not this test's: its server runs none of them
    try:
        # a hang (seen once in a PostgreSQL run, cause not found) fails here with the stack of the stuck await
        async with asyncio.timeout(180), outage(url) as (server_url, unavailable):
            application = create_app(Settings.from_env({**settings_of, "DATABASE_URL": server_url}))
            path = form_path(application.state.settings, "SO01-Q1")
            async with application.lifespan(), httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=application), base_url="http://t") as phone:
                before = await phone.post(path, data=filled_form(counter_definition(), key="outage-before"))
                assert before.status_code == 303
                answers = filled_form(counter_definition(), key="outage-during")
                async with unavailable():
                    refused = await phone.post(path, data=answers)
                assert refused.status_code == 503 and "chưa được lưu" in refused.text
                assert await stored_rows(url, "outage-during") == []
                retried = await phone.post(path, data=answers)
                assert retried.status_code == 303
        assert sorted(key for key, _ in await stored_rows(url, "outage-")) == ["outage-before", "outage-during"]
    finally:
        db.bind(app.state.engine)  # give the shared tables back to the suite's engine
