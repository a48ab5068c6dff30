"""Sessions (a random id in a cookie, the data in a server-side store), the user on each request, the access guard.

Litestar's own session middleware writes the store and sets a cookie on every response; citizens' phones must get
neither, so sessions here are written only at sign-in and read only when the cookie is sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from pathlib import Path
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import ImproperlyConfiguredException, NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.response import Redirect
from litestar.stores.base import Store
from litestar.stores.file import FileStore

from survey_app.accounts import audit
from survey_app.core import db
from survey_app.accounts import api_tokens, services

SESSION_COOKIE = "sid"
SESSION_STORE = "sessions"
logger = logging.getLogger("survey_app.accounts")


def session_store(settings) -> Store:
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        from survey_app.core.limits import redis_client

        return RedisStore(redis_client(settings.redis_url), namespace=SESSION_STORE, handle_client_shutdown=True)
    folder = Path("var") / SESSION_STORE
    folder.parent.mkdir(parents=True, exist_ok=True)  # the store makes its own folder, not var/ in a fresh checkout
    return FileStore(folder)


def _store(connection: ASGIConnection) -> Store:
    return connection.app.stores.get(SESSION_STORE)


def stored_key(session_id: str) -> str:
    """The store's key for a session: a hash of the cookie's value, so that reading the store (a Redis dump, the
    sessions folder) gives no cookie to sign in with."""
    return hashlib.sha256(session_id.encode()).hexdigest()


async def start_session(request: Request, row: dict, settings) -> str:
    """Store a new session for the user and return its id (the cookie value); a fresh id at every sign-in."""
    session_id = secrets.token_urlsafe(32)
    data = json.dumps({"user_id": row["id"], "epoch": row["session_epoch"]})
    await _store(request).set(stored_key(session_id), data, expires_in=int(settings.session_hours * 3600))
    return session_id


async def end_session(request: Request) -> None:
    if session_id := request.cookies.get(SESSION_COOKIE):
        await _store(request).delete(stored_key(session_id))


def session_cookie_header(settings, session_id: str, max_age: int | None = None) -> dict:
    return dict(key=SESSION_COOKIE, value=session_id, path="/", httponly=True, samesite="lax",
                secure=settings.uses_https, max_age=int(settings.session_hours * 3600) if max_age is None else max_age)


class UserMiddleware(AbstractAuthenticationMiddleware):
    """Puts the signed-in user (or None) on every request; refusing is the guard's job, per route."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        return AuthenticationResult(user=await self._user(connection), auth=None)

    async def _user(self, connection: ASGIConnection):
        settings = connection.app.state.settings
        authorization = connection.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            return await services.user_for_token(settings.secret_key, authorization[7:].strip())
        session_id = connection.cookies.get(SESSION_COOKIE)
        if not session_id:
            return None
        data = await _store(connection).get(stored_key(session_id))
        if data is None:
            return None
        session = json.loads(data)
        return await services.user_for_session(session["user_id"], session["epoch"])


async def check_access(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """The one guard: the route's declared rule against the user. A route without a rule is refused (fail closed)."""
    rule = handler.opt.get("access")
    if connection.scope.get("method") == "OPTIONS":  # Litestar's automatic OPTIONS answers carry no data
        return
    if rule is None:
        raise ImproperlyConfiguredException(f"route {handler.handler_name} declares no access rule")
    if rule == "public":
        return
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException("Vui lòng đăng nhập.")
    # The route's template, not the raw path: "/analyst//campaigns/X/export/csv" must not slip past the patterns
    route = connection.scope.get("path_template") or connection.url.path
    if user.via_token and not api_tokens.token_may_use(user.token_scopes, route):
        async with db.write_transaction():
            await audit.record(user.username, "access_denied", f"{connection.scope['method']} {connection.url.path}",
                               detail=f"API token scopes {', '.join(sorted(user.token_scopes))}")
        raise PermissionDeniedException("Mã truy cập API không có phạm vi quyền cho trang này.")
    if user.role not in rule:
        async with db.write_transaction():
            await audit.record(user.username, "access_denied", f"{connection.scope['method']} {connection.url.path}",
                               detail=f"role {user.role}; needs {', '.join(rule)}")
        raise PermissionDeniedException("Ông/bà không có quyền dùng trang này.")


def refuse_unguarded_routes(app) -> None:
    """Fail at start-up when a route that is not PUBLIC has no guard: only citizens' and officials' routes go
    without check_access (survey_app.app), and a staff route placed among them by mistake must not open up."""
    for route in app.routes:
        for handler in route.route_handlers:
            if handler.http_methods == {"OPTIONS"} or handler.opt.get("access") == "public":
                continue
            if check_access not in handler.resolve_guards():
                raise ImproperlyConfiguredException(
                    f"route {handler.handler_name} ({route.path}) is not PUBLIC but has no access guard")


def not_signed_in_handler(request: Request, exc: NotAuthorizedException) -> Response:
    """People are sent to the sign-in page and back; machines get 401 JSON asking for a bearer token."""
    from survey_app.core.errors import error_body, error_response, wants_json

    if wants_json(request):
        return Response(error_body(401, "sign in or send Authorization: Bearer <token>"), status_code=401,
                        headers={"WWW-Authenticate": "Bearer"})
    if request.method != "GET":  # e.g. a form sent after the session ended: say so, do not drop it silently
        return error_response(request, 401)
    return Redirect(path=f"/login?next={quote(request.url.path)}")
