"""The administrator's page for unit merges and splits (survey_app/units/unit_changes.py holds the rules)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Template

from survey_app.accounts import access
from survey_app.accounts.admin_forms import FormRefused, staff_page
from survey_app.units.unit_changes import KINDS, changes, checked_change, record_change


class UnitChangeController(Controller):
    path = "/admin/units/changes"
    opt = access("admin")

    @get()
    async def index(self, request: Request) -> Template:
        return staff_page(request, "admin_unit_changes.html", changes=await changes(), kinds=KINDS, form={},
                          errors={})

    @post(status_code=200)
    async def create(self, request: Request) -> Template:
        form = await request.form()
        try:
            change = await checked_change(form)
        except FormRefused as refused:
            return staff_page(request, "admin_unit_changes.html", True, changes=await changes(), kinds=KINDS,
                              form=dict(form), errors=refused.errors)
        await record_change(change, request.user.username)
        return staff_page(request, "admin_unit_changes.html", changes=await changes(), kinds=KINDS, form={},
                          errors={}, notice=f"Đã ghi: {', '.join(u['name'] for u in change['predecessors'])} "
                                            f"{KINDS[change['kind']]} {change['successor']['name']} từ ngày "
                                            f"{change['effective_on'].strftime('%d/%m/%Y')}.")
