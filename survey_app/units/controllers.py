"""Administration of the unit tree: list, import from CSV/XLSX with a preview (all rows or none), edit one unit."""

from __future__ import annotations

import asyncio
import json

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from survey_app.core import db
from survey_app.accounts.admin_forms import staff_page
from survey_app.units.unit_tree import (
    RowProblem,
    UnitFileError,
    UnitRow,
    UnitRowsRefused,
    apply_rows,
    check_rows,
    plan,
    read_unit_file,
    save_unit,
)
from survey_app.accounts import access
from survey_app.core.tables import UNIT_LEVELS, Counter, Unit

MAX_UPLOAD_BYTES = 200 * 1024


async def unit_list() -> list[dict]:
    units = await Unit.select(Unit.id, Unit.code, Unit.name, Unit.name_en, Unit.level,
                              Unit.parent.code.as_alias("parent_code")).order_by(Unit.code)
    counters: dict[int, int] = {}
    for counter in await Counter.select(Counter.unit).where(Counter.active == True):  # noqa: E712
        counters[counter["unit"]] = counters.get(counter["unit"], 0) + 1
    return [{**unit, "counters": counters.get(unit["id"], 0)} for unit in units]


def rows_from_json(text: str) -> list[UnitRow]:
    """The rows the preview carried to the confirm button; checked again before anything is written."""
    try:
        records = json.loads(text or "[]")
        return [UnitRow(int(record["line"]), *(str(record[column]) for column in
                                                ("code", "name", "name_en", "level", "parent_code")))
                for record in records]
    except (ValueError, KeyError, TypeError):
        raise UnitFileError("Dữ liệu xem trước bị hỏng; hãy tải tệp lên lại.") from None


def rows_to_json(rows: list[UnitRow]) -> str:
    return json.dumps([{"line": row.line, **row.as_dict()} for row in rows], ensure_ascii=False)


async def upload_bytes(request: Request) -> tuple[str, bytes]:
    form = await request.form()
    upload = form.get("file")
    if upload is None or not hasattr(upload, "read"):
        raise UnitFileError("Hãy chọn một tệp .csv hoặc .xlsx.")
    data = await upload.read()
    if len(data) > MAX_UPLOAD_BYTES:
        raise UnitFileError(f"Tệp lớn quá {MAX_UPLOAD_BYTES // 1024} KB.")
    return upload.filename or "", data


class UnitAdminController(Controller):
    path = "/admin/units"
    opt = access("admin")

    @get()
    async def index(self, request: Request, added: FromQuery[int | None] = None,
                    changed: FromQuery[int | None] = None) -> Template:
        notice = f"Đã nhập: thêm {added or 0}, sửa {changed or 0} đơn vị." if added is not None else None
        return self.page(request, await unit_list(), notice=notice)

    @staticmethod
    def page(request: Request, units: list[dict], notice: str | None = None, error: str | None = None) -> Template:
        return staff_page(request, "admin_units.html", bool(error), units=units, notice=notice, error=error)

    @post("/import", status_code=200)
    async def preview(self, request: Request) -> Template:
        """Read and check the file; show every problem, or what would change with a confirm button."""
        try:
            filename, data = await upload_bytes(request)
            rows = await asyncio.to_thread(read_unit_file, filename, data)  # off the event loop, like any upload
        except UnitFileError as error:
            return self.page(request, await unit_list(), error=str(error))
        problems = await check_rows(rows)
        return await self.preview_page(request, filename, rows, problems)

    @staticmethod
    async def preview_page(request: Request, filename: str, rows: list[UnitRow], problems: list[RowProblem]):
        return staff_page(request, "admin_unit_import.html", bool(problems), filename=filename, problems=problems,
                          row_count=len(rows), groups=None if problems else await plan(rows),
                          rows_json=rows_to_json(rows))

    @post("/import/confirm", status_code=303)
    async def confirm(self, request: Request) -> Template | Redirect:
        form = await request.form()
        try:
            rows = rows_from_json(form.get("rows", ""))
            if not rows:
                raise UnitFileError("Không có dòng nào để nhập.")
            counts = await apply_rows(rows, request.user.username)
        except UnitFileError as error:
            return self.page(request, await unit_list(), error=str(error))
        except UnitRowsRefused as refused:
            return await self.preview_page(request, form.get("filename", ""), rows, refused.problems)
        return Redirect(path=f"/admin/units?added={counts['added']}&changed={counts['changed']}", status_code=303)

    @get("/{unit_code:str}/edit")
    async def edit_form(self, request: Request, unit_code: FromPath[str]) -> Template:
        return self.edit_page(request, await stored_row(unit_code))

    @staticmethod
    def edit_page(request: Request, row: UnitRow, errors: dict | None = None, notice: str | None = None) -> Template:
        return staff_page(request, "admin_unit_edit.html", bool(errors), unit=row, levels=UNIT_LEVELS,
                          errors=errors or {}, notice=notice)

    @post("/{unit_code:str}/edit", status_code=200)
    async def save(self, request: Request, unit_code: FromPath[str]) -> Template:
        stored = await stored_row(unit_code)
        form = await request.form()
        row = UnitRow(1, stored.code, *(str(form.get(column, "")) for column in ("name", "name_en", "level",
                                                                                 "parent_code")))
        problems = await check_rows([row])
        if problems:
            return self.edit_page(request, row, {problem.field: problem.message for problem in problems})
        async with db.write_transaction():
            outcome = await save_unit(row, request.user.username, "unit_updated")
        return self.edit_page(request, row, notice="Đã lưu." if outcome else "Không có gì thay đổi.")


async def stored_row(unit_code: str) -> UnitRow:
    unit = await Unit.select(Unit.code, Unit.name, Unit.name_en, Unit.level, Unit.parent.code).where(
        Unit.code == unit_code).first()
    if unit is None:
        raise NotFoundException(f"Không có đơn vị mã “{unit_code[:40]}”.")
    return UnitRow(1, unit["code"], unit["name"], unit["name_en"], unit["level"], unit["parent.code"] or "")
