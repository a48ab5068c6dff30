"""Several workers, one limit: with REDIS_URL the per-client count is shared; without it each worker counts alone."""

from __future__ import annotations

import dataclasses
import os
import uuid

import httpx

from tests.app.helpers import form_path, require_redis, started_app

# a database number of its own on the shared Redis; keys are per-run anyway (the client hash uses a fresh secret)
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


async def statuses_from_two_workers(app, settings) -> list[int]:
    """Two app instances (two workers) with these settings; one client posts to A, B, A, B, A."""
    path = form_path(settings)
    async with started_app(app, settings) as first, started_app(app, settings) as second:
        clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=worker), base_url="http://t")
                   for worker in (first, second)]
        return [(await clients[turn % 2].post(path, data={"_key": "x"})).status_code for turn in range(5)]


async def test_two_workers_share_one_client_limit_through_redis(app, settings):
    await require_redis(TEST_REDIS_URL, "TEST_REDIS_URL")
    limited = dataclasses.replace(settings, rate_limit_per_client=3, rate_limit_per_counter=100000,
                                  secret_key=f"shared-limit-{uuid.uuid4().hex}")  # a fresh bucket every run
    shared = await statuses_from_two_workers(app, dataclasses.replace(limited, redis_url=TEST_REDIS_URL))
    separate = await statuses_from_two_workers(app, limited)
    assert shared == [422, 422, 422, 429, 429]  # the fourth post is over the limit, whichever worker gets it
    assert separate == [422] * 5  # without Redis each worker has counted only two or three
