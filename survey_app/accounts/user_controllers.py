"""Staff accounts: create with a role and unit, deactivate or reactivate, reset a password. Wrong passwords are
counted and shown, never lock an account (a lockout would let anyone shut a colleague out); the sign-in rate limit
slows guessing instead.

Deactivating or resetting moves the session epoch on, so the person's open sessions end at once, and revokes
their API tokens for good.
"""

from __future__ import annotations

import asyncio

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from survey_app.accounts import audit
from survey_app.core import db
from survey_app.accounts.admin_forms import (
    FieldErrors,
    FormRefused,
    clean_code,
    clean_text,
    staff_page,
)
from survey_app.accounts import ROLE_NAMES_VI, ROLES, SignedInUser, access, api_tokens
from survey_app.accounts.passwords import hash_password, password_problem
from survey_app.accounts.users import create_user
from survey_app.core.confirmations import Confirmation, confirmation_page, confirmed_reason, with_reason
from survey_app.core.tables import Unit, User

USERNAME_LETTERS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


def user_record(row: dict) -> dict:
    """What the audit log keeps of an account (never the password hash)."""
    return {"username": row["username"], "role": row["role"], "active": row["active"],
            "unit": row.get("unit_code")}


async def user_row(user_id: int) -> dict:
    row = await User.select(User.id, User.username, User.display_name, User.role, User.active,
                            User.failed_logins, User.session_epoch, User.unit.code.as_alias("unit_code")).where(
        User.id == user_id).first()
    if row is None:
        raise NotFoundException(f"Không có tài khoản số {user_id}.")
    return row


async def checked_new_user(form) -> dict:
    """The fields of a new account, or FormRefused naming each wrong field (Vietnamese)."""
    errors = FieldErrors()
    username = clean_text(errors, "username", "Tên đăng nhập", form.get("username"), max_length=64).lower()
    if username and not set(username) <= USERNAME_LETTERS:
        errors.add("username", "Tên đăng nhập chỉ gồm chữ thường không dấu, chữ số, '.', '-' hoặc '_'.")
    display_name = clean_text(errors, "display_name", "Họ tên", form.get("display_name"), required=False)
    role = str(form.get("role", ""))
    if role not in ROLES:
        errors.add("role", f"Vai trò phải là một trong: {', '.join(ROLES)}.")
    unit_code = clean_code(errors, "unit_code", "Mã đơn vị", form.get("unit_code"), required=role == "unit_manager")
    if unit_code and "unit_code" not in errors.messages and not await Unit.exists().where(Unit.code == unit_code):
        errors.add("unit_code", f"Không có đơn vị mã “{unit_code}”.")
    password = str(form.get("password", ""))
    if problem := password_problem(password, username):
        errors.add("password", problem)
    if username and await User.exists().where(User.username == username):
        errors.add("username", f"Tên đăng nhập “{username}” đã có.")
    if errors:
        raise FormRefused(errors)
    return {"username": username, "display_name": display_name, "role": role, "unit_code": unit_code or None,
            "password": password}


async def change_account(user_id: int, actor: SignedInUser, action: str, values: dict,
                         end_sessions: bool = False, detail: str = "") -> None:
    """Update one account and log it, in one transaction; `end_sessions` signs the person out everywhere."""
    async with db.write_transaction():
        row = await user_row(user_id)
        if end_sessions:
            values = {**values, User.session_epoch: row["session_epoch"] + 1}
        await User.update(values).where(User.id == user_id)
        if end_sessions:  # a deactivated account's tokens stay revoked when it is reactivated
            await api_tokens.revoke_all_of(user_id, actor.username, action)
        after = await user_row(user_id)
        await audit.record(actor.username, action, f"user:{user_id}", before=user_record(row),
                           after=user_record(after), detail=detail)


async def set_active(user_id: int, actor: SignedInUser, active: bool, reason: str = "") -> None:
    if user_id == actor.id and not active:
        raise FormRefused({"confirm": "Không thể tự ngừng tài khoản của chính mình."})
    await change_account(user_id, actor, "user_activated" if active else "user_deactivated", {User.active: active},
                         end_sessions=not active, detail=with_reason(reason) if reason else "")


def deactivation_confirmation(row: dict) -> Confirmation:
    return Confirmation(
        title=f"Ngừng tài khoản {row['username']}?",
        consequence=f"{row['username']} bị đăng xuất khỏi mọi phiên ngay và không đăng nhập được nữa cho đến khi "
                    "quản trị mở lại tài khoản.",
        action=f"/admin/users/{row['id']}/deactivate", button="Ngừng tài khoản", back="/admin/users")


async def reset_password(user_id: int, actor: SignedInUser, password: str) -> None:
    row = await user_row(user_id)
    if problem := password_problem(password, row["username"]):
        raise FormRefused({"password": problem})
    new_hash = await asyncio.to_thread(hash_password, password)  # argon2 is slow by design: off the event loop
    await change_account(user_id, actor, "password_reset", {User.password_hash: new_hash, User.failed_logins: 0}, end_sessions=True)


class UserAdminController(Controller):
    path = "/admin/users"
    opt = access("admin")

    @get()
    async def index(self, request: Request) -> Template:
        return await self.page(request)

    @staticmethod
    async def page(request: Request, errors: dict | None = None, notice: str | None = None,
                   form: dict | None = None) -> Template:
        users = await User.select(User.id, User.username, User.display_name, User.role, User.active,
                                  User.failed_logins, User.unit.code.as_alias("unit_code")
                                  ).order_by(User.username)
        return staff_page(request, "admin_users.html", bool(errors), users=users, roles=ROLE_NAMES_VI,
                          errors=errors or {}, notice=notice,
                          form={key: value for key, value in (form or {}).items() if key != "password"})

    @post(status_code=200)
    async def create(self, request: Request) -> Template:
        form = await request.form()
        try:
            fields = await checked_new_user(form)
        except FormRefused as refused:
            return await self.page(request, refused.errors, form=dict(form))
        await create_user(fields["username"], fields["password"], fields["role"], fields["unit_code"],
                          fields["display_name"], actor=request.user.username)
        return await self.page(request, notice=f"Đã tạo tài khoản {fields['username']}.")

    @post("/{user_id:int}/deactivate", status_code=200)
    async def deactivate(self, request: Request, user_id: FromPath[int]) -> Template:
        row = await user_row(user_id)
        form = await request.form()
        if (reason := confirmed_reason(form)) is None:
            return confirmation_page(request, deactivation_confirmation(row), form)
        return await self.act(request, user_id, "Đã ngừng tài khoản.", lambda form: set_active(
            user_id, request.user, False, reason))

    @post("/{user_id:int}/activate", status_code=200)
    async def activate(self, request: Request, user_id: FromPath[int]) -> Template:
        return await self.act(request, user_id, "Đã mở lại tài khoản.", lambda form: set_active(
            user_id, request.user, True))

    @post("/{user_id:int}/password", status_code=200)
    async def password(self, request: Request, user_id: FromPath[int]) -> Template:
        return await self.act(request, user_id, "Đã đặt mật khẩu mới; các phiên đăng nhập cũ đã kết thúc.",
                              lambda form: reset_password(user_id, request.user, str(form.get("password", ""))))

    async def act(self, request: Request, user_id: int, done: str, action) -> Template:
        await user_row(user_id)  # 404 before anything else
        form = await request.form()
        try:
            await action(form)
        except FormRefused as refused:
            return await self.page(request, refused.errors)
        return await self.page(request, notice=done)
