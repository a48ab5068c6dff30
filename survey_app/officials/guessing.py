"""A limit on wrong invitation codes per client at /o, so codes cannot be guessed by brute force.

The client is known only by the daily salted hash of its address (survey_app.limits.daily_client_hash); the raw
IP is never kept. Counts live in this process, or in Redis when REDIS_URL is set so that every worker shares
them. A window opens with a client's first wrong code and lasts `window_seconds`; at `limit` wrong codes the
client is refused (429) until the window ends, even for a right code, so the refusal leaks nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol

from survey_app.limits import daily_client_hash

NAMESPACE = "code_guesses"


class FailureCounter(Protocol):
    async def current(self, key: str) -> tuple[int, int]:
        """(wrong codes in the open window, seconds until it closes); (0, 0) when none is open."""

    async def add(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Count one wrong code (opening a window if none is open); returns the same pair as `current`."""

    async def close(self) -> None: ...


class MemoryFailureCounter:
    """Per-process counts; every method runs without awaiting, so it is atomic within one event loop."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}  # key → (count, monotonic end of window)

    async def current(self, key: str) -> tuple[int, int]:
        count, ends = self._windows.get(key, (0, 0.0))
        left = ends - time.monotonic()
        return (count, int(left) + 1) if left > 0 else (0, 0)

    async def add(self, key: str, window_seconds: int) -> tuple[int, int]:
        now = time.monotonic()
        if len(self._windows) > 10_000:  # forget closed windows now and then
            self._windows = {name: entry for name, entry in self._windows.items() if entry[1] > now}
        count, ends = self._windows.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + window_seconds
        self._windows[key] = (count + 1, ends)
        return count + 1, int(ends - now) + 1

    async def close(self) -> None:
        self._windows.clear()


class RedisFailureCounter:
    """Counts shared by every worker: SET NX EX opens the window, INCR counts, in one MULTI transaction."""

    def __init__(self, url: str, namespace: str = NAMESPACE) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._namespace = namespace

    def _key(self, key: str) -> str:
        return f"{self._namespace}:{key}"

    async def current(self, key: str) -> tuple[int, int]:
        async with self._redis.pipeline(transaction=True) as pipeline:
            count, seconds_left = await pipeline.get(self._key(key)).ttl(self._key(key)).execute()
        return (int(count), int(seconds_left)) if count is not None and seconds_left > 0 else (0, 0)

    async def add(self, key: str, window_seconds: int) -> tuple[int, int]:
        name = self._key(key)
        async with self._redis.pipeline(transaction=True) as pipeline:
            _, count, seconds_left = await pipeline.set(name, 0, ex=window_seconds, nx=True).incr(name).ttl(
                name).execute()
        return int(count), max(int(seconds_left), 1)

    async def close(self) -> None:
        await self._redis.aclose()


class GuessLimiter:
    """`limit` wrong codes per client in `window_seconds`, then 429 until the window closes."""

    def __init__(self, counter: FailureCounter, secret_key: str, limit: int, window_seconds: int) -> None:
        self.counter, self.secret_key, self.limit, self.window_seconds = counter, secret_key, limit, window_seconds

    def _client(self, address: str) -> str:
        return daily_client_hash(self.secret_key, address, dt.date.today())

    async def seconds_blocked(self, address: str) -> int:
        """0 when the client may try a code; otherwise how long until it may."""
        count, seconds_left = await self.counter.current(self._client(address))
        return seconds_left if count >= self.limit else 0

    async def record_failure(self, address: str) -> None:
        await self.counter.add(self._client(address), self.window_seconds)


def guess_limiter(settings, namespace: str = NAMESPACE) -> GuessLimiter:
    counter = RedisFailureCounter(settings.redis_url, namespace) if settings.redis_url else MemoryFailureCounter()
    return GuessLimiter(counter, settings.secret_key, settings.code_guess_limit,
                        settings.code_guess_window_minutes * 60)
