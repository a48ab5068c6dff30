"""Procedure domains (lĩnh vực): list, add, rename. Codes are kept: stored answers refer to them."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from survey_app.accounts import audit
from survey_app.core import db
from survey_app.accounts.admin_forms import FieldErrors, FormRefused, clean_code, clean_text, staff_page
from survey_app.accounts import access
from survey_app.core.tables import Domain


def domain_fields(form, errors: FieldErrors) -> dict:
    return {"name": clean_text(errors, "name", "Tên lĩnh vực", form.get("name")),
            "name_en": clean_text(errors, "name_en", "Tên tiếng Anh", form.get("name_en"), required=False)}


async def add_domain(form, username: str) -> str:
    errors = FieldErrors()
    code = clean_code(errors, "code", "Mã lĩnh vực", form.get("code"))
    fields = domain_fields(form, errors)
    if code and await Domain.exists().where(Domain.code == code):
        errors.add("code", f"Mã lĩnh vực “{code}” đã có.")
    if errors:
        raise FormRefused(errors)
    async with db.write_transaction():
        await Domain.insert(Domain(code=code, **fields))
        await audit.record(username, "domain_created", f"domain:{code}", after={"code": code, **fields})
    return code


async def rename_domain(code: str, form, username: str) -> bool:
    errors = FieldErrors()
    fields = domain_fields(form, errors)
    if errors:
        raise FormRefused(errors)
    async with db.write_transaction():
        row = await Domain.select(Domain.id, Domain.code, Domain.name, Domain.name_en).where(Domain.code == code).first()
        if row is None:
            raise NotFoundException(f"Không có lĩnh vực mã “{code[:40]}”.")
        before = {"code": code, "name": row["name"], "name_en": row["name_en"]}
        if before == {"code": code, **fields}:
            return False
        await Domain.update({Domain.name: fields["name"], Domain.name_en: fields["name_en"]}).where(
            Domain.id == row["id"])
        await audit.record(username, "domain_updated", f"domain:{code}", before=before, after={"code": code, **fields})
    return True


class DomainAdminController(Controller):
    path = "/admin/domains"
    opt = access("admin")

    @get()
    async def index(self, request: Request) -> Template:
        return await self.page(request)

    @staticmethod
    async def page(request: Request, errors: dict | None = None, notice: str | None = None,
                   form: dict | None = None) -> Template:
        domains = await Domain.select(Domain.code, Domain.name, Domain.name_en).order_by(Domain.code)
        return staff_page(request, "admin_domains.html", bool(errors), domains=domains, errors=errors or {},
                          notice=notice, form=form or {})

    @post(status_code=200)
    async def add(self, request: Request) -> Template:
        form = await request.form()
        try:
            code = await add_domain(form, request.user.username)
        except FormRefused as refused:
            return await self.page(request, refused.errors, form=dict(form))
        return await self.page(request, notice=f"Đã thêm lĩnh vực {code}.")

    @post("/{code:str}", status_code=200)
    async def rename(self, request: Request, code: FromPath[str]) -> Template:
        try:
            changed = await rename_domain(code, await request.form(), request.user.username)
        except FormRefused as refused:
            return await self.page(request, refused.errors)
        return await self.page(request, notice=f"Đã lưu lĩnh vực {code}." if changed else "Không có gì thay đổi.")
