"""Abuse limits: fixed-window counts per key, in this process or shared through Redis when REDIS_URL is set.

Form submissions are limited per client and per counter; wrong invitation codes per client
(survey_app.officials.guessing). A client is known only by a salted hash of its address that changes every day;
the raw IP is never kept.

A window opens with a key's first count and lasts `window_seconds`. Each check is O(1): Litestar's
RateLimitMiddleware keeps, per key, the list of every request time in the window and re-encodes it on each
request, which grows with the limit and ran on every request of every route.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import time
from typing import Protocol

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import get_remote_address

MINUTE = 60
REDIS_TIMEOUT_SECONDS = 1  # a Redis that does not answer must not hold a citizen's post for long
logger = logging.getLogger("survey_app.limits")


def redis_client(url: str):
    from redis.asyncio import Redis

    return Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS, socket_timeout=REDIS_TIMEOUT_SECONDS)


def redis_errors() -> tuple[type[Exception], ...]:
    from redis.exceptions import RedisError

    return RedisError, OSError


def daily_client_hash(secret_key: str, address: str, today: dt.date) -> str:
    salt = f"{secret_key}:{today.isoformat()}".encode()
    return "client:" + hmac.new(salt, address.encode(), hashlib.sha256).hexdigest()[:24]


class WindowCounter(Protocol):
    async def current(self, key: str) -> tuple[int, int]:
        """(count in the open window, seconds until it closes); (0, 0) when none is open."""

    async def add(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Count one (opening a window if none is open); returns the same pair as `current`."""

    async def close(self) -> None: ...


class MemoryWindowCounter:
    """Per-process counts; every method runs without awaiting, so it is atomic within one event loop."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, float]] = {}  # key → (count, monotonic end of window)
        self._prune_above = 10_000

    async def current(self, key: str) -> tuple[int, int]:
        count, ends = self._windows.get(key, (0, 0.0))
        left = ends - time.monotonic()
        return (count, int(left) + 1) if left > 0 else (0, 0)

    async def add(self, key: str, window_seconds: int) -> tuple[int, int]:
        now = time.monotonic()
        if len(self._windows) > self._prune_above:  # forget closed windows now and then, not on every count
            self._windows = {name: entry for name, entry in self._windows.items() if entry[1] > now}
            self._prune_above = max(10_000, 2 * len(self._windows))
        count, ends = self._windows.get(key, (0, 0.0))
        if ends <= now:
            count, ends = 0, now + window_seconds
        self._windows[key] = (count + 1, ends)
        return count + 1, int(ends - now) + 1

    async def close(self) -> None:
        self._windows.clear()


class RedisWindowCounter:
    """Counts shared by every worker: SET NX EX opens the window, INCR counts, in one MULTI transaction."""

    def __init__(self, url: str, namespace: str) -> None:
        self._redis = redis_client(url)
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


class FallbackWindowCounter:
    """Counts in Redis; while Redis cannot be reached, in this process (each worker then counts alone), with a
    warning in the log at most once a minute. A form post or a sign-in never fails because Redis is down."""

    def __init__(self, shared: WindowCounter, namespace: str) -> None:
        self.shared, self.local, self.namespace = shared, MemoryWindowCounter(), namespace
        self.errors = redis_errors()
        self._warned_at = -MINUTE

    async def current(self, key: str) -> tuple[int, int]:
        try:
            return await self.shared.current(key)
        except self.errors as error:
            self._warn(error)
            return await self.local.current(key)

    async def add(self, key: str, window_seconds: int) -> tuple[int, int]:
        try:
            return await self.shared.add(key, window_seconds)
        except self.errors as error:
            self._warn(error)
            return await self.local.add(key, window_seconds)

    def _warn(self, error: Exception) -> None:
        if time.monotonic() - self._warned_at >= MINUTE:
            self._warned_at = time.monotonic()
            logger.warning("Redis unreachable (%s); %s limits counted per process until it is back",
                           type(error).__name__, self.namespace)

    async def close(self) -> None:
        await self.shared.close()
        await self.local.close()


def window_counter(settings, namespace: str) -> WindowCounter:
    if not settings.redis_url:
        return MemoryWindowCounter()
    return FallbackWindowCounter(RedisWindowCounter(settings.redis_url, namespace), namespace)


def counter_of(token: str) -> str:
    """The counter code is the token's first part; a forged token only spends its own bucket."""
    return "counter:" + token.split(".", 1)[0][:32]


class FormPostLimiter:
    """At most `per_client` form posts a minute from one client and `per_counter` to one counter; 429 beyond."""

    def __init__(self, counter: WindowCounter, secret_key: str, per_client: int, per_counter: int) -> None:
        self.counter, self.secret_key = counter, secret_key
        self.per_client, self.per_counter = per_client, per_counter

    async def check(self, request: Request) -> None:
        """Called first by the form's POST; reading a form is never limited."""
        client = daily_client_hash(self.secret_key, get_remote_address(request), dt.date.today())
        counter = counter_of(request.path_params["token"])  # not request.url: building it costs more than the count
        for key, limit in ((client, self.per_client), (counter, self.per_counter)):
            count, seconds_left = await self.counter.add(key, MINUTE)
            if count > limit:
                raise TooManyRequestsException(headers={"Retry-After": str(seconds_left)})


def form_post_limiter(settings) -> FormPostLimiter:
    return FormPostLimiter(window_counter(settings, "form_posts"), settings.secret_key,
                           settings.rate_limit_per_client, settings.rate_limit_per_counter)
