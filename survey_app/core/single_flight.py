"""One build at a time per cache key: the dashboard's figures and charts and the report take seconds of CPU, and
two first clicks on the same page would otherwise both build them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping

_building: dict[tuple[int, object], asyncio.Task] = {}  # (id of the cache, key) → the build under way


async def cached_or_built(cache: MutableMapping, key, build: Callable[[], Awaitable]):
    """The value cached under `key`, else the result of one `build()` shared by every caller asking meanwhile.
    A failed build reaches each of them and is not cached: the next call builds again. The build is a task of its
    own awaited through asyncio.shield, so a caller that is cancelled (a closed connection) leaves it running for
    the others, and its result is still cached."""
    if (cached := cache.get(key)) is not None:
        return cached
    pending = (id(cache), key)  # a cache is a mapping, unhashable; it outlives its build, which refers to it
    if (task := _building.get(pending)) is None:
        task = _building[pending] = asyncio.ensure_future(_build_into(cache, key, build))
        task.add_done_callback(lambda done: _finished(pending, done))
    return await asyncio.shield(task)


async def _build_into(cache: MutableMapping, key, build: Callable[[], Awaitable]):
    value = cache[key] = await build()
    return value


def _finished(pending: tuple, task: asyncio.Task) -> None:
    """Runs before the waiters resume, so a call after a failure builds again."""
    del _building[pending]
    if not task.cancelled():
        task.exception()  # retrieved here too: every waiter may have been cancelled, which is not an error
