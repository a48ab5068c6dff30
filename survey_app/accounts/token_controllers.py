"""API tokens on the admin page: issue (shown once), list, revoke one by one (survey_app.accounts.api_tokens)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Template

from survey_app.accounts.admin_forms import staff_page
from survey_app.accounts import ROLE_NAMES_VI, access, api_tokens
from survey_app.core.settings import Settings
from survey_app.core.tables import User

NO_STORE = {"Cache-Control": "no-store"}  # the page that shows a new token must not stay in any cache


class TokenAdminController(Controller):
    path = "/admin/tokens"
    opt = access("admin")

    @get()
    async def index(self, request: Request) -> Template:
        return await self.page(request)

    @staticmethod
    async def page(request: Request, errors: dict | None = None, notice: str | None = None,
                   new_token: str | None = None, form: dict | None = None) -> Template:
        users = await User.select(User.username, User.role).where(User.active == True).order_by(  # noqa: E712
            User.username)
        page = staff_page(request, "admin_tokens.html", bool(errors), tokens=await api_tokens.listed(), users=users,
                          scopes=api_tokens.SCOPES, roles=ROLE_NAMES_VI, errors=errors or {}, notice=notice, new_token=new_token,
                          form=form or {}, default_days=api_tokens.DEFAULT_DAYS, max_days=api_tokens.MAX_DAYS)
        page.headers.update(NO_STORE)
        return page

    @post(status_code=200)
    async def create(self, request: Request) -> Template:
        form = await request.form()
        settings: Settings = request.app.state.settings
        try:
            token = await api_tokens.issue(settings.secret_key, str(form.get("username", "")),
                                           str(form.get("name", "")), form.getall("scopes", []),
                                           form.get("days", ""), actor=request.user.username)
        except api_tokens.TokenRefused as refusal:
            return await self.page(request, {refusal.field: refusal.message},
                                   form={key: form.getall(key) for key in form})
        return await self.page(request, notice="Đã cấp mã truy cập. Hãy chép ngay: mã chỉ hiện một lần này.",
                               new_token=token)

    @post("/{token_id:int}/revoke", status_code=200)
    async def revoke(self, request: Request, token_id: FromPath[int]) -> Template:
        try:
            await api_tokens.revoke(token_id, actor=request.user.username)
        except api_tokens.TokenRefused as refusal:
            return await self.page(request, {refusal.field: refusal.message})
        return await self.page(request, notice=f"Đã thu hồi mã truy cập số {token_id}.")
