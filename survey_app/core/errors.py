"""One error shape for the API and one Vietnamese-first page for people; every failure maps here once."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from http import HTTPStatus

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Template

from survey_app.core.logs import printable

logger = logging.getLogger("survey_app")

MESSAGES = {
    401: ("Phiên đăng nhập đã hết hạn", "Your session has ended",
          "Vui lòng đăng nhập lại rồi gửi lại; thay đổi vừa rồi chưa được lưu."),
    403: ("Không được phép", "Not allowed", "Vui lòng quét lại mã QR dán tại quầy."),
    422: ("Không thể thực hiện", "Cannot be done", "Dữ liệu gửi lên chưa hợp lệ."),
    404: ("Không tìm thấy trang", "Page not found",
          "Đường dẫn hoặc mã QR không đúng, hoặc quầy/đợt khảo sát không tồn tại."),
    409: ("Không thể lưu", "Conflict", "Yêu cầu này xung đột với một câu trả lời đã được lưu."),
    410: ("Mã QR đã hết hạn", "This QR code has expired", "Vui lòng quét mã QR mới dán tại quầy."),
    413: ("Tệp quá lớn", "File too large", "Tệp gửi lên lớn hơn mức cho phép; hãy bỏ bớt cột hoặc dòng không cần rồi "
          "gửi lại."),
    429: ("Ông/bà gửi quá nhanh", "Too many submissions", "Vui lòng đợi một phút rồi gửi lại."),
    500: ("Đã có lỗi xảy ra", "Something went wrong",
          "Yêu cầu chưa được thực hiện. Vui lòng thử lại sau; nếu lỗi lặp lại, hãy báo mã lỗi {request_id}."),
    503: ("Hệ thống tạm thời bận", "Service temporarily unavailable", "Vui lòng thử lại sau ít phút."),
}
# Only where an answer was being sent: a citizen's form (/q/...) or an official's page (/o...)
ANSWER_NOT_SAVED = "Câu trả lời của ông/bà chưa được lưu. Vui lòng thử gửi lại sau ít phút."


def unavailable_detail(request: Request) -> str | None:
    sending_answers = request.method == "POST" and request.scope["path"].startswith(("/q/", "/o"))
    return ANSWER_NOT_SAVED if sending_answers else None

try:  # asyncpg is installed with piccolo[postgres]; its errors mean the database is unreachable or failing
    import asyncpg

    DATABASE_ERRORS: tuple[type[Exception], ...] = (
        sqlite3.OperationalError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
        asyncpg.InterfaceError, ConnectionError,
    )
    # A value the database cannot hold: an id in a path past PostgreSQL's integer range (SQLite: past 64 bits)
    VALUE_ERRORS: tuple[type[Exception], ...] = (asyncpg.DataError, OverflowError)
except ImportError:  # pragma: no cover
    DATABASE_ERRORS = (sqlite3.OperationalError, ConnectionError)
    VALUE_ERRORS = (OverflowError,)
# Redis (sessions, shared limits) gone: the same 503; limits fall back to per-process counts before this is reached
from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError  # noqa: E402

UNAVAILABLE_ERRORS = (*DATABASE_ERRORS, RedisConnectionError, RedisTimeoutError)


def error_body(status: int, message: str, errors: list[dict] | None = None) -> dict:
    """The one JSON error shape: {"ok": false, "status": 404, "error": "...", "errors": [...]}."""
    return {"ok": False, "status": status, "error": message, "errors": errors or []}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def error_response(request: Request, status: int, detail: str | None = None) -> Response:
    title_vi, title_en, default_detail = MESSAGES.get(status, ("Lỗi", "Error", "Đã có lỗi xảy ra."))
    if wants_json(request):
        return Response(error_body(status, detail or title_en), status_code=status, media_type=MediaType.JSON)
    context = {"title": title_vi, "title_en": title_en, "detail": detail or default_detail}
    return Template(template_name="message.html", context=context, status_code=status)


def http_error_handler(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 500:  # a failure of ours raised as an HTTP error (e.g. a route with no access rule)
        return internal_error_handler(request, exc)
    # Litestar's default detail is the English status phrase; our own Vietnamese text replaces it
    detail = None if exc.detail == HTTPStatus(exc.status_code).phrase else exc.detail
    response = error_response(request, exc.status_code, detail)
    response.headers.update(exc.headers or {})  # e.g. Retry-After with a 429
    return response


def database_error_handler(request: Request, exc: Exception) -> Response:
    logger.error("database or Redis unavailable on %s %s: %s", request.method, printable(request.scope["path"]),
                 printable(exc))
    response = error_response(request, 503, unavailable_detail(request))
    response.headers["Retry-After"] = "5"
    return response


def value_error_handler(request: Request, exc: Exception) -> Response:
    """The request's fault, not ours: 422 rather than a 500. Logged as a warning, so a bug of ours that passes a
    wrong value still shows in the log."""
    logger.warning("value refused by the database on %s %s: %s", request.method, printable(request.scope["path"]),
                   printable(exc))
    return error_response(request, 422)


def internal_error_handler(request: Request, exc: Exception) -> Response:
    """Any other failure: logged once with a request id and its traceback (Litestar logs exceptions only in debug),
    and the id shown to the person, so that staff can find the line. Only method and path are logged: no query
    string, body, cookie or address, which may carry an invitation code or personal data."""
    request_id = uuid.uuid4().hex[:12]
    logger.error("request %s failed: %s %s", request_id, request.method, printable(request.scope["path"]),
                 exc_info=exc)
    detail = MESSAGES[500][2].format(request_id=request_id)
    response = error_response(request, 500, detail if not wants_json(request) else f"internal error {request_id}")
    response.headers["X-Request-ID"] = request_id
    return response


EXCEPTION_HANDLERS = {
    Exception: internal_error_handler,
    HTTPException: http_error_handler,
    **{error: database_error_handler for error in UNAVAILABLE_ERRORS},
    **{error: value_error_handler for error in VALUE_ERRORS},
}
