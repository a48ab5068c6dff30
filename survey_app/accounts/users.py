"""Staff accounts created and listed: what `survey user` and the users' admin page call (API tokens:
survey_app.accounts.api_tokens)."""

from __future__ import annotations

from survey_app.accounts import ROLES, audit
from survey_app.core import db
from survey_app.accounts.passwords import hash_password, password_problem
from survey_app.core.tables import Unit, User


class UserCommandError(Exception):
    """A refusal with a message for the person at the terminal; nothing is stored."""


async def create_user(username: str, password: str, role: str, unit_code: str | None = None,
                      display_name: str = "", actor: str = "cli") -> int:
    """Insert one user after checking every field; the new id."""
    username = username.strip()
    if role not in ROLES:
        raise UserCommandError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not username or len(username) > 64:
        raise UserCommandError("username must have 1 to 64 characters")
    if problem := password_problem(password, username):
        raise UserCommandError(problem)
    unit_id = None
    if unit_code:
        unit = await Unit.select(Unit.id).where(Unit.code == unit_code).first()
        if unit is None:
            raise UserCommandError(f"no unit with code {unit_code!r}")
        unit_id = unit["id"]
    if role == "unit_manager" and unit_id is None:
        raise UserCommandError("a unit manager needs --unit (the unit whose results they may see)")
    if await User.exists().where(User.username == username):
        raise UserCommandError(f"user {username!r} already exists")
    async with db.write_transaction():
        row = (await User.insert(User(username=username, display_name=display_name, role=role, unit=unit_id,
                                      password_hash=hash_password(password))).returning(User.id))[0]
        await audit.record(actor, "user_created", f"user:{row['id']}",
                           after={"username": username, "role": role, "unit": unit_code})
    return row["id"]


async def user_rows() -> list[dict]:
    """Every account with role, unit code, and active, for `survey user list`."""
    return await User.select(User.username, User.role, User.unit.code, User.active)
