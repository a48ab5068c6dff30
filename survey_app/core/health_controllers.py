"""Liveness and readiness probes for load balancers and orchestrators."""

from litestar import MediaType, Response, get
from litestar.datastructures import State

from survey_app.core import db
from survey_app.accounts import PUBLIC
from survey_app.core.errors import DATABASE_ERRORS


@get("/healthz", media_type=MediaType.JSON, opt=PUBLIC)
async def healthz() -> dict:
    """The process is up."""
    return {"ok": True}


@get("/readyz", media_type=MediaType.JSON, opt=PUBLIC)
async def readyz(state: State) -> Response:
    """The database answers and every migration is applied."""
    try:
        await db.ping(state.engine)
        pending = await db.pending_migrations()
    except DATABASE_ERRORS as error:
        return Response({"ok": False, "database": f"unreachable: {error}"}, status_code=503)
    if pending:
        return Response({"ok": False, "pending_migrations": pending}, status_code=503)
    return Response({"ok": True, "database": "ok", "pending_migrations": []})
