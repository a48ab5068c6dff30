"""Abuse limits on form submissions: per client and per counter, shared through Redis when REDIS_URL is set.

The client is known only by a salted hash of its address that changes every day; the raw IP is never kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, get_remote_address
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

FORM_PREFIX = "/q/"


async def is_form_submission(request: Request) -> bool:
    """Async on purpose: Litestar runs a plain function given as check_throttle_handler in a worker thread,
    a thread hop per limit and request."""
    return request.method == "POST" and request.url.path.startswith(FORM_PREFIX)


def daily_client_hash(secret_key: str, address: str, today: dt.date) -> str:
    salt = f"{secret_key}:{today.isoformat()}".encode()
    return "client:" + hmac.new(salt, address.encode(), hashlib.sha256).hexdigest()[:24]


def counter_of(request: Request) -> str:
    """The counter code is the token's first part; a forged token only spends its own bucket."""
    return "counter:" + request.url.path.removeprefix(FORM_PREFIX).split(".", 1)[0][:32]


def rate_limit_configs(settings) -> list[RateLimitConfig]:
    def client_identifier(request: Request) -> str:
        return daily_client_hash(settings.secret_key, get_remote_address(request), dt.date.today())

    return [
        RateLimitConfig(rate_limit=("minute", settings.rate_limit_per_client), identifier_for_request=client_identifier,
                        check_throttle_handler=is_form_submission, store="rate_limit_client"),
        RateLimitConfig(rate_limit=("minute", settings.rate_limit_per_counter), identifier_for_request=counter_of,
                        check_throttle_handler=is_form_submission, store="rate_limit_counter"),
    ]


def rate_limit_stores(settings) -> dict[str, Store]:
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        root = RedisStore.with_client(url=settings.redis_url)
        return {name: root.with_namespace(name) for name in ("rate_limit_client", "rate_limit_counter")}
    return {"rate_limit_client": MemoryStore(), "rate_limit_counter": MemoryStore()}
