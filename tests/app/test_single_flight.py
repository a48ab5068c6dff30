"""cached_or_built: callers asking for the same key while it is built share one build; a failure reaches them all
and is not cached; a cancelled caller leaves the build running for the others."""

from __future__ import annotations

import asyncio

import pytest
from cachetools import LRUCache

from survey_app.core.single_flight import cached_or_built


class Builds:
    """A build that waits for `release`, counts its runs and fails while `failing` is set."""

    def __init__(self):
        self.count, self.release, self.failing = 0, asyncio.Event(), False

    async def __call__(self) -> str:
        self.count += 1
        await self.release.wait()
        if self.failing:
            raise RuntimeError("build failed")
        return f"built {self.count}"


async def started(*callers):
    tasks = [asyncio.create_task(caller) for caller in callers]
    await asyncio.sleep(0)  # every caller has asked before the build may finish
    return tasks


async def test_concurrent_callers_share_one_build_and_later_ones_get_the_cached_value():
    cache, build = LRUCache(maxsize=4), Builds()
    first, second = await started(cached_or_built(cache, "k", build), cached_or_built(cache, "k", build))
    build.release.set()
    assert await first == await second == "built 1" and build.count == 1
    assert await cached_or_built(cache, "k", build) == "built 1" and build.count == 1


async def test_a_failure_reaches_every_caller_is_not_cached_and_the_next_call_builds_again():
    cache, build = LRUCache(maxsize=4), Builds()
    build.failing = True
    callers = await started(cached_or_built(cache, "k", build), cached_or_built(cache, "k", build))
    build.release.set()
    for caller in callers:
        with pytest.raises(RuntimeError, match="build failed"):
            await caller
    assert build.count == 1 and "k" not in cache
    build.failing = False
    assert await cached_or_built(cache, "k", build) == "built 2"


async def test_a_cancelled_caller_leaves_the_build_to_the_others():
    cache, build = LRUCache(maxsize=4), Builds()
    leaving, staying = await started(cached_or_built(cache, "k", build), cached_or_built(cache, "k", build))
    leaving.cancel()
    await asyncio.sleep(0)
    build.release.set()
    assert await staying == "built 1" and leaving.cancelled() and cache["k"] == "built 1"


async def test_other_keys_and_other_caches_build_apart():
    cache, other_cache, build = LRUCache(maxsize=4), LRUCache(maxsize=4), Builds()
    build.release.set()
    results = await asyncio.gather(cached_or_built(cache, "a", build), cached_or_built(cache, "b", build),
                                   cached_or_built(other_cache, "a", build))
    assert sorted(results) == ["built 1", "built 2", "built 3"]
