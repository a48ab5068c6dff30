"""Liveness and readiness probes for load balancers and orchestrators."""

import logging

from litestar import Litestar, MediaType, Response, get
from litestar.datastructures import State

from survey_app.core import db
from survey_app.accounts import PUBLIC
from survey_app.core.errors import DATABASE_ERRORS
from survey_app.core.limits import redis_client, redis_errors

logger = logging.getLogger("survey_app")


@get("/healthz", media_type=MediaType.JSON, opt=PUBLIC)
async def healthz() -> dict:
    """The process is up."""
    return {"ok": True}


@get("/readyz", media_type=MediaType.JSON, opt=PUBLIC)
async def readyz(state: State) -> Response:
    """The database answers and every migration is applied; Redis answers when REDIS_URL is set. The public sees
    only which part failed: the error (with the database's host and port) goes to the log."""
    try:
        await db.ping(state.engine)
        pending = await db.pending_migrations()
    except DATABASE_ERRORS as error:
        logger.error("readiness: database unreachable: %s", error)
        return Response({"ok": False, "database": "unreachable"}, status_code=503)
    if pending:
        return Response({"ok": False, "pending_migrations": pending}, status_code=503)
    if not await redis_answers(state):
        return Response({"ok": False, "database": "ok", "redis": "unreachable"}, status_code=503)
    return Response({"ok": True, "database": "ok", "pending_migrations": [],
                     "redis": "ok" if state.redis else "not used"})


async def redis_answers(state: State) -> bool:
    if state.redis is None:
        return True
    try:
        return bool(await state.redis.ping())
    except redis_errors() as error:
        logger.error("readiness: Redis unreachable: %s", error)
        return False


def shared_redis(settings):
    """One client for readiness checks (limits and sessions keep their own); None without REDIS_URL."""
    return redis_client(settings.redis_url) if settings.redis_url else None


async def warn_if_redis_unreachable(app: Litestar) -> None:
    """At start: say so when REDIS_URL is set but Redis does not answer (the app still starts, see limits.py)."""
    if app.state.redis is not None and not await redis_answers(app.state):
        logger.warning("REDIS_URL is set but Redis does not answer: sign-in needs it for sessions (503 until it "
                       "is back) and rate limits fall back to per-process counts")
