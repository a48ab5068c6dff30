"""Issue #21's fault test: a receiver that fails (500), times out and drops connections for a while, the server
killed -9 in the middle of a delivery, then everything recovers: every acknowledged answer is delivered and
counted, every signature verifies with the reference library, and a duplicate (at least once) carries the same
event id and body. A real `survey serve` on a database of its own, on the suite's engine (SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
import time

import httpx

from survey_app.core import db
from survey_app.core.settings import Settings
from survey_app.core.tables import Campaign
from survey_app.webhooks import subscriptions
from tests.app.servers import SECRET, Server, demo_database, read, submission
from tests.app.webhook_receiver import Receiver

SERVER_ENV = {"WEBHOOK_ALLOW_HOSTS": "127.0.0.1", "WEBHOOK_TIMEOUT_SECONDS": "1", "WEBHOOK_RETRY_SECONDS": "0.2",
              "WEBHOOK_RETRY_MAX_SECONDS": "1", "WEBHOOK_MAX_ATTEMPTS": "1000", "FORM_CACHE_SECONDS": "0"}


async def subscribe(app, url: str, receiver: Receiver) -> None:
    settings = Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": SECRET, **SERVER_ENV})
    receiver.secret = subscriptions.new_secret()

    async def add():
        campaign = await Campaign.select().where(Campaign.code == "QUAY-2026").first()
        await subscriptions.add(campaign, {"url": receiver.url, "events": ["response.stored"],
                                           "secret": receiver.secret}, settings, "test")
    try:
        await db.run_connected(settings, add, migrate_first=False)
    finally:
        db.bind(app.state.engine)


async def submit(server: Server, count: int, rng: random.Random) -> list[str]:
    """Post `count` answers; the idempotency keys of those the server acknowledged."""
    acknowledged = []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        for _ in range(count):
            body = submission("hook-", rng)
            answer = await client.post(server.form_path(), data=body)
            if answer.status_code in (200, 303):
                acknowledged.append(body["_key"])
    return acknowledged


async def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.1)
    return False


async def wait_until_all_delivered(url: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not await read(url, "SELECT id FROM webhook_delivery WHERE status <> 'delivered'"):
            return True
        await asyncio.sleep(0.3)
    return False


async def test_every_acknowledged_answer_is_delivered_through_failures_and_a_kill_9(app, tmp_path, database_url):
    url = await demo_database(tmp_path, database_url, "hooks")
    rng = random.Random(21)
    with Receiver() as receiver:
        await subscribe(app, url, receiver)
        server = Server(url, tmp_path, **SERVER_ENV).start()
        try:
            receiver.behaviour = "fail"  # down: 500 to everything
            acknowledged = await submit(server, 15, rng)
            assert await wait_for(lambda: receiver.attempts >= 10, 20), server.log()
            receiver.behaviour, receiver.slow_seconds = "slow", 3.0  # slower than the sender's 1 s timeout
            acknowledged += await submit(server, 10, rng)
            await asyncio.sleep(2)
            receiver.behaviour = "drop"  # connection closed without an answer
            acknowledged += await submit(server, 10, rng)
            await asyncio.sleep(1)
            receiver.behaviour = "slow"  # then killed while the worker waits on the receiver
            attempts = receiver.attempts
            acknowledged += await submit(server, 5, rng)
            assert await wait_for(lambda: receiver.attempts > attempts, 15), server.log()
            server.kill_9()
            # a slow receiver kept what it answered too late: the sender retries those (duplicates, same event id)

            receiver.behaviour = "ok"
            server.start()  # the same database: the outbox is all that is left of the deliveries
            acknowledged += await submit(server, 10, rng)
            stored = dict(await read(url, "SELECT idempotency_key, id FROM response WHERE idempotency_key LIKE 'hook-%'"))
            assert set(acknowledged) <= set(stored)
            wanted = {stored[key] for key in acknowledged}
            assert await wait_for(lambda: wanted <= {event["data"]["response_id"] for event in receiver.events()},
                                  90), (server.log()[-3000:], len(receiver.accepted))
            # and the outbox knows: a copy a slow receiver kept after the sender gave up is sent again, then counted
            assert await wait_until_all_delivered(url, 60), await read(
                url, "SELECT status, attempts, last_error FROM webhook_delivery WHERE status <> 'delivered'")
        finally:
            server.stop()
        events = receiver.events("response.stored")
        assert receiver.bad_signatures == 0
        assert {event["data"]["response_id"] for event in events} == set(stored.values())  # all, and only those
        event_ids = {}
        for event in events:  # at least once: a copy carries the same event id, and the same body
            event_ids.setdefault(event["data"]["response_id"], set()).add(event["_id"])
        assert all(len(ids) == 1 for ids in event_ids.values())
        bodies = {}
        for item in receiver.accepted:
            bodies.setdefault(item["id"], set()).add(item["body"])
        assert all(len(copies) == 1 for copies in bodies.values())
        counted = await read(url, "SELECT status, COUNT(*) FROM webhook_delivery GROUP BY status")
        assert dict(counted) == {"delivered": len(stored)}
        print(f"\nwebhook faults: {len(stored)} answers, {receiver.attempts} attempts, "
              f"{len(receiver.accepted)} accepted deliveries ({len(receiver.accepted) - len(stored)} duplicates)")
