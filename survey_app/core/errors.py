"""One error shape for the API and one Vietnamese-first page for people; every failure maps here once."""

from __future__ import annotations

import logging
import sqlite3
from http import HTTPStatus

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Template

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
    429: ("Ông/bà gửi quá nhanh", "Too many submissions", "Vui lòng đợi một phút rồi gửi lại."),
    503: ("Hệ thống tạm thời bận", "Service temporarily unavailable",
          "Câu trả lời của ông/bà chưa được lưu. Vui lòng thử gửi lại sau ít phút."),
}

try:  # asyncpg is installed with piccolo[postgres]; its errors mean the database is unreachable or failing
    import asyncpg

    DATABASE_ERRORS: tuple[type[Exception], ...] = (
        sqlite3.OperationalError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
        asyncpg.InterfaceError, ConnectionError,
    )
except ImportError:  # pragma: no cover
    DATABASE_ERRORS = (sqlite3.OperationalError, ConnectionError)


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
    # Litestar's default detail is the English status phrase; our own Vietnamese text replaces it
    detail = None if exc.detail == HTTPStatus(exc.status_code).phrase else exc.detail
    response = error_response(request, exc.status_code, detail)
    response.headers.update(exc.headers or {})  # e.g. Retry-After with a 429
    return response


def database_error_handler(request: Request, exc: Exception) -> Response:
    logger.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    response = error_response(request, 503)
    response.headers["Retry-After"] = "5"
    return response


EXCEPTION_HANDLERS = {
    HTTPException: http_error_handler,
    **{error: database_error_handler for error in DATABASE_ERRORS},
}
