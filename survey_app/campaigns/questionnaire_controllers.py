"""Questionnaire versions: list, upload a YAML definition or an XLSForm workbook.

The file is checked by the same code as `survey validate` (every problem as file:line: field: message); a valid
definition is stored as a new version. A version that already has responses never changes; one without
responses may be replaced (its campaigns then show the corrected form).
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import re
import tempfile

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Response as HttpResponse, Template

from questionnaires.validate import validate_file
from survey_app.accounts import audit
from survey_app.campaigns.catalog import definition_by_id
from survey_app.core import db
from survey_app.accounts.admin_forms import staff_page
from survey_app.core.tables import Campaign, Questionnaire, Response
from survey_app.accounts import access

SUFFIXES = (".yaml", ".yml", ".xlsx", ".xls")
MAX_UPLOAD_BYTES = 200 * 1024  # the app refuses request bodies over 256 KB anyway


class UploadRefused(Exception):
    def __init__(self, messages: list[str]):
        self.messages = messages
        super().__init__("\n".join(messages))


def safe_filename(filename: str) -> str:
    """The uploaded name as shown in messages and used for the temporary copy: no folders, no odd characters."""
    name = re.sub(r"[^\w.\-]", "_", pathlib.PurePath(filename or "").name)[:80]
    return name or "upload"


def check_definition(filename: str, data: bytes):
    """The parsed definition, or UploadRefused listing every problem as `file:line: field: message`."""
    name = safe_filename(filename)
    if not name.lower().endswith(SUFFIXES):
        raise UploadRefused([f"{name}: chỉ nhận tệp .yaml, .yml (định nghĩa) hoặc .xlsx, .xls (XLSForm)."])
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadRefused([f"{name}: tệp lớn quá {MAX_UPLOAD_BYTES // 1024} KB."])
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / name
        path.write_bytes(data)
        definition, problems = validate_file(path)
    if problems:
        raise UploadRefused([problem.text_vi().replace(str(path), name) for problem in problems])
    return definition


async def store_version(definition, username: str) -> str:
    """Store a new version, or replace an unused one; never touch a version that has responses."""
    label = f"{definition.key} phiên bản {definition.version}"
    record = {"key": definition.key, "version": definition.version, "content_hash": definition.content_hash,
              "title": definition.title.get("vi", definition.key)}
    async with db.write_transaction():
        existing = await Questionnaire.select(Questionnaire.id, Questionnaire.content_hash, Questionnaire.title).where(
            (Questionnaire.key == definition.key) & (Questionnaire.version == definition.version)).first()
        if existing and existing["content_hash"] == definition.content_hash:
            return f"{label} đã có, nội dung giống hệt: không thay đổi gì."
        if existing and await Response.exists().where(Response.questionnaire == existing["id"]):
            raise UploadRefused([f"{label} đã có câu trả lời nên không được sửa; hãy tăng số phiên bản "
                                 "(version) trong tệp rồi tải lên lại."])
        values = {Questionnaire.content_hash: definition.content_hash, Questionnaire.title: record["title"],
                  Questionnaire.definition: json.dumps(definition.to_dict())}
        if existing:
            await Questionnaire.update(values).where(Questionnaire.id == existing["id"])
            await audit.record(username, "questionnaire_replaced", f"questionnaire:{definition.key}:"
                               f"{definition.version}", before={**record, "content_hash": existing["content_hash"],
                                                                "title": existing["title"]}, after=record)
            return f"Đã thay nội dung {label} (chưa có câu trả lời nào)."
        await Questionnaire.insert(Questionnaire(key=definition.key, version=definition.version,
                                                 **{column._meta.name: value for column, value in values.items()}))
        await audit.record(username, "questionnaire_added", f"questionnaire:{definition.key}:{definition.version}",
                           after=record)
    return f"Đã lưu {label}."


async def versions() -> list[dict]:
    rows = await Questionnaire.select(Questionnaire.id, Questionnaire.key, Questionnaire.version, Questionnaire.title,
                                      Questionnaire.created_at).order_by(Questionnaire.key).order_by(
        Questionnaire.id)
    answered = {row["questionnaire"] for row in await Response.select(Response.questionnaire).distinct()}
    used = {row["questionnaire"] for row in await Campaign.select(Campaign.questionnaire).distinct()}
    return [{**row, "answered": row["id"] in answered, "in_campaign": row["id"] in used} for row in rows]


class QuestionnaireAdminController(Controller):
    path = "/admin/questionnaires"
    opt = access("admin")

    @get()
    async def index(self, request: Request) -> Template:
        return await self.page(request)

    @staticmethod
    async def page(request: Request, problems: list[str] | None = None, notice: str | None = None) -> Template:
        return staff_page(request, "admin_questionnaires.html", bool(problems), versions=await versions(),
                          problems=problems or [], notice=notice)

    @get("/{questionnaire_id:int}/xlsform")
    async def download_xlsform(self, questionnaire_id: int) -> HttpResponse:
        """The stored version as an XLSForm workbook (pyxform, ODK and KoBo read it; re-uploading gives it back)."""
        from questionnaires.xlsform_export import export_xlsform

        definition = await definition_by_id(questionnaire_id)
        if definition is None:
            raise NotFoundException("Không có bảng hỏi này.")
        data = await asyncio.to_thread(export_xlsform, definition)
        filename = f"{definition.key}-{definition.version}.xlsx"
        return HttpResponse(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{safe_filename(filename)}"'})

    @post(status_code=200)
    async def upload(self, request: Request) -> Template:
        form = await request.form()
        upload = form.get("file")
        try:
            if upload is None or not hasattr(upload, "read"):
                raise UploadRefused(["Hãy chọn một tệp .yaml hoặc .xlsx."])
            # parsed in a worker thread: a large workbook must not stall every other request of this worker
            definition = await asyncio.to_thread(check_definition, upload.filename, await upload.read())
            notice = await store_version(definition, request.user.username)
        except UploadRefused as refused:
            return await self.page(request, problems=refused.messages)
        return await self.page(request, notice=notice)
