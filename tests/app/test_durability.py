"""Faults under load against a real `survey serve`: no acknowledgement without storage, no duplicate after retries.

Each test gives the server a demo database of its own (same engine as the suite: SQLite or TEST_DATABASE_URL).
"""

from __future__ import annotations

import asyncio
import random
import resource
import signal
import sqlite3
import uuid
from collections import Counter as Tally

import httpx

from survey_app.core import engines
from tests.app.servers import Server, demo_database, stored_rows, submission

CLIENTS = 8


async def post_all(server: Server, submissions: list[dict], stop_when=None) -> tuple[set[str], Tally]:
    """Post every submission from CLIENTS concurrent clients; returns the keys acknowledged (303) and the statuses.

    stop_when(acknowledged) is checked after each answer; when it returns True the remaining submissions are
    still attempted (a dead server refuses them quickly), as phones keep trying.
    """
    pending, acknowledged, statuses = list(submissions), set(), Tally()

    async def client_loop(client: httpx.AsyncClient) -> None:
        while pending:
            body = pending.pop()
            try:
                response = await client.post(server.form_path(), data=body)
                statuses[response.status_code] += 1
                if response.status_code == 303:
                    acknowledged.add(body["_key"])
            except httpx.TransportError:
                statuses["no answer"] += 1
            if stop_when:
                stop_when(acknowledged)

    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(CLIENTS)))
    return acknowledged, statuses


async def test_kill_9_during_load_loses_no_acknowledged_answer_and_retries_store_once(app, tmp_path, database_url):
    url = await demo_database(tmp_path, database_url, "kill9")
    server = Server(url, tmp_path).start()
    prefix = "kill" + uuid.uuid4().hex[:8]
    rng = random.Random(9)
    submissions = [submission(prefix, rng) for _ in range(300)]

    def kill_after_some(acknowledged: set) -> None:
        if len(acknowledged) >= 60 and server.process.poll() is None:
            server.kill_9()  # SIGKILL: no shutdown hook, requests in flight are cut

    try:
        acknowledged, statuses = await post_all(server, submissions, stop_when=kill_after_some)
        assert server.process.returncode == -signal.SIGKILL, server.log()
        assert statuses["no answer"] > 0, statuses  # the kill really happened under load
        stored_after_kill = {key for key, _ in await stored_rows(url, prefix)}
        assert acknowledged <= stored_after_kill, "an acknowledged answer was lost by kill -9"

        server.start()  # the phones' outboxes resend what was never acknowledged, with the same key
        unacknowledged = [body for body in submissions if body["_key"] not in acknowledged]
        retried, retry_statuses = await post_all(server, unacknowledged)
        assert retry_statuses == Tally({303: len(unacknowledged)}), retry_statuses
    finally:
        server.stop()
    rows = await stored_rows(url, prefix)
    keys = [key for key, _ in rows]
    assert len(keys) == len(set(keys)), "a retried answer was stored twice"
    assert set(keys) == acknowledged | retried == {body["_key"] for body in submissions}
    if url.startswith("sqlite"):
        with sqlite3.connect(engines.sqlite_path(url)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def limit_file_size(max_bytes: int):
    """For the server process: files may not grow past max_bytes (a full disk), and writing past it is an error
    (SIGXFSZ ignored, so write() fails with EFBIG instead of killing the process)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return apply


async def first_refusal(server: Server, prefix: str, rng, acknowledged: set) -> httpx.Response | None:
    """Post one answer at a time until one is refused. A checkpoint can restart the write-ahead log and make
    room for a few more answers, as freed space on a real disk would; those are stored and acknowledged."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as client:
        for _ in range(50):
            body = submission(prefix, rng)
            response = await client.post(server.form_path(), data=body)
            if response.status_code == 503:
                return response
            assert response.status_code == 303, response.status_code
            acknowledged.add(body["_key"])
    return None


async def test_full_disk_refuses_with_503_and_acknowledges_only_what_is_stored(app, tmp_path):
    # Always on SQLite, in both suite runs: the full disk is simulated with a file-size limit on the server
    # process, and PostgreSQL writes its files in its own processes, which that limit does not reach.
    url = await demo_database(tmp_path, "sqlite://", "full")
    database_bytes = engines.sqlite_path(url).stat().st_size
    # room for a few batches in the write-ahead log, then the "disk" is full
    server = Server(url, tmp_path, preexec_fn=limit_file_size(database_bytes + 96 * 1024)).start()
    prefix = "full" + uuid.uuid4().hex[:8]
    rng = random.Random(7)
    try:
        acknowledged, statuses = await post_all(server, [submission(prefix, rng) for _ in range(400)])
        refused = await first_refusal(server, prefix, rng, acknowledged)
    finally:
        server.stop()
    assert set(statuses) == {303, 503}, statuses  # stored or refused: never a crash, never a silent loss
    assert refused is not None and "chưa được lưu" in refused.text
    keys = [key for key, _ in await stored_rows(url, prefix)]
    assert sorted(keys) == sorted(acknowledged), "acknowledged and stored differ after the disk filled up"
