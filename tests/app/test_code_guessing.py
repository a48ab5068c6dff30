"""Wrong invitation codes at /o are limited per client (daily salted hash), in memory or shared through Redis."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import httpx
import pytest
import redis.asyncio

import sampling
from survey_app.officials import draws
from survey_app.core.limits import MemoryWindowCounter, RedisWindowCounter
from survey_app.officials.guessing import GuessLimiter, guess_limiter
from tests.app.helpers import started_app
from tests.app.test_sample_cli import make_campaign, write_frame

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def two_codes(settings, app, tmp_path) -> list[str]:
    campaign = await make_campaign(f"GUESS-{uuid.uuid4().hex[:8]}")
    frame = write_frame(tmp_path / "officials.csv", [("SO01", "cong_chuc", f"G{n}", "") for n in range(2)])
    stored = await draws.draw_and_store(settings.secret_key, campaign, frame, None, ["cong_chuc=2"], seed=1)
    return list(stored.slips["code"])


async def post_code(application, address: str, code: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=application, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as browser:
        return await browser.post("/o", data={"code": code, "_lang": "vi"})


async def run_strict_app(app, settings, check, **overrides):
    async with started_app(app, dataclasses.replace(settings, code_guess_limit=3, **overrides)) as strict:
        await check(strict)


async def check_wrong_codes_lock_out_one_client(strict, guesser: str, neighbour: str, codes: list[str]):
    wrong = [(await post_code(strict, guesser, sampling.generate_code())).status_code for _ in range(2)]
    malformed = await post_code(strict, guesser, "ABCD")
    assert wrong == [403, 403] and malformed.status_code == 422
    locked = await post_code(strict, guesser, codes[0])  # even the right code: the refusal tells nothing
    assert locked.status_code == 429 and "nhập sai mã quá nhiều lần" in locked.text
    assert 1 <= int(locked.headers["retry-after"]) <= 15 * 60
    assert codes[0] not in locked.text
    assert (await post_code(strict, neighbour, codes[1])).status_code == 303  # another client is not affected


async def test_in_memory_wrong_codes_lock_out_one_client_with_a_vietnamese_429(app, settings, two_codes):
    async def check(strict):
        await check_wrong_codes_lock_out_one_client(strict, "203.0.113.7", "198.51.100.9", two_codes)
        keys = list(strict.state.code_guesses.counter._windows)
        assert len(keys) == 1 and keys[0].startswith("client:") and "203.0.113.7" not in keys[0]

    await run_strict_app(app, settings, check)


async def test_with_redis_the_count_is_shared_and_holds_no_address(app, settings, two_codes):
    # A fresh address per run: the app's namespace is fixed and counts outlive the test by 15 minutes.
    guesser, neighbour = f"2001:db8::{uuid.uuid4().hex[:4]}", f"2001:db8::1:{uuid.uuid4().hex[:4]}"

    async def check(strict):
        assert isinstance(strict.state.code_guesses.counter.shared, RedisWindowCounter)
        await check_wrong_codes_lock_out_one_client(strict, guesser, neighbour, two_codes)

    await run_strict_app(app, settings, check, redis_url=REDIS_URL)
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    try:
        keys = [key.decode() async for key in client.scan_iter("code_guesses:*")]
        assert keys and not [key for key in keys if guesser in key or neighbour in key]
    finally:
        await client.aclose()


async def test_redis_counts_add_up_across_workers_and_the_window_closes(settings):
    namespace = f"test-guesses-{uuid.uuid4().hex}"
    shared = dataclasses.replace(settings, redis_url=REDIS_URL, code_guess_limit=3)
    workers = [guess_limiter(shared, namespace) for _ in range(2)]
    try:
        await workers[0].record_failure("192.0.2.1")
        await workers[1].record_failure("192.0.2.1")
        assert await workers[0].seconds_blocked("192.0.2.1") == 0
        await workers[1].record_failure("192.0.2.1")
        assert 1 <= await workers[0].seconds_blocked("192.0.2.1") <= 15 * 60
        assert await workers[0].seconds_blocked("192.0.2.2") == 0

        short = GuessLimiter(RedisWindowCounter(REDIS_URL, namespace), settings.secret_key, 1, window_seconds=1)
        await short.record_failure("192.0.2.3")
        assert await short.seconds_blocked("192.0.2.3") == 1
        await asyncio.sleep(1.2)
        assert await short.seconds_blocked("192.0.2.3") == 0
        await short.counter.close()
    finally:
        client = redis.asyncio.Redis.from_url(REDIS_URL)
        keys = [key async for key in client.scan_iter(f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
        for worker in workers:
            await worker.counter.close()


async def test_in_memory_window_closes():
    limiter = GuessLimiter(MemoryWindowCounter(), "secret", limit=2, window_seconds=1)
    await limiter.record_failure("192.0.2.1")
    await limiter.record_failure("192.0.2.1")
    assert await limiter.seconds_blocked("192.0.2.1") == 1
    await asyncio.sleep(1.1)
    assert await limiter.seconds_blocked("192.0.2.1") == 0
    await limiter.record_failure("192.0.2.1")  # a new window starts from one
    assert await limiter.seconds_blocked("192.0.2.1") == 0
