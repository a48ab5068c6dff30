"""A limit on wrong invitation codes per client at /o, so codes cannot be guessed by brute force.

The client is known only by the daily salted hash of its address (survey_app.core.limits.daily_client_hash); the raw
IP is never kept. Counts live in this process, or in Redis when REDIS_URL is set so that every worker shares
them (survey_app.core.limits). A window opens with a client's first wrong code and lasts `window_seconds`; at `limit`
wrong codes the client is refused (429) until the window ends, even for a right code, so the refusal leaks nothing.
"""

from __future__ import annotations

import datetime as dt

from survey_app.core.limits import WindowCounter, daily_client_hash, window_counter

NAMESPACE = "code_guesses"


class GuessLimiter:
    """`limit` wrong codes per client in `window_seconds`, then 429 until the window closes."""

    def __init__(self, counter: WindowCounter, secret_key: str, limit: int, window_seconds: int) -> None:
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
    return GuessLimiter(window_counter(settings, namespace), settings.secret_key, settings.code_guess_limit,
                        settings.code_guess_window_minutes * 60)
