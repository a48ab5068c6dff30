"""The audit log, newest first, filterable by user and action, and as a CSV download."""

from __future__ import annotations

import csv
import io
import json

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.response import Response, Template

from survey_app.accounts.admin_forms import staff_page
from survey_app.accounts import access
from survey_app.core.tables import AuditLog

PAGE_SIZE = 100
LARGEST_ID = 2**31 - 1  # PostgreSQL's INTEGER; a larger before_id means "from the newest" anyway
CSV_COLUMNS = ("id", "at", "username", "action", "target", "before", "after", "detail")


def audit_query(username: str | None, action: str | None):
    query = AuditLog.select().order_by(AuditLog.id, ascending=False)
    if username:
        query = query.where(AuditLog.username == username)
    if action:
        query = query.where(AuditLog.action == action)
    return query


def csv_cell(value) -> str:
    """JSON for before/after; a leading ' stops spreadsheets from reading a value as a formula."""
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value or "")
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class AuditController(Controller):
    path = "/admin/audit"
    opt = access("admin")

    @get()
    async def show(self, request: Request, user: FromQuery[str | None] = None, action: FromQuery[str | None] = None,
                   before_id: FromQuery[int | None] = None) -> Template:
        query = audit_query(user, action)
        if before_id:  # a number beyond the column's range made the database fail (500)
            query = query.where(AuditLog.id < min(before_id, LARGEST_ID))
        entries = await query.limit(PAGE_SIZE)
        return staff_page(request, "admin_audit.html", entries=entries, filter_user=user or "",
                          filter_action=action or "",
                          next_before=entries[-1]["id"] if len(entries) == PAGE_SIZE else None)

    @get("/audit.csv", media_type="text/csv")
    async def download(self, user: FromQuery[str | None] = None, action: FromQuery[str | None] = None) -> Response:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for entry in await audit_query(user, action):
            writer.writerow([csv_cell(entry[column]) for column in CSV_COLUMNS])
        return Response("\ufeff" + buffer.getvalue(), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'})
