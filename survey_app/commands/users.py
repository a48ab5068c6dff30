"""`survey user create|list`: staff accounts from the terminal (the first administrator starts here); API tokens
are `survey token` (survey_app.commands.tokens)."""

from __future__ import annotations

import asyncio
import sys

import typer

from survey_app import audit, db
from survey_app.auth import ROLES
from survey_app.auth.passwords import hash_password, password_problem
from survey_app.settings import Settings
from survey_app.tables import Unit, User

user_app = typer.Typer(help="Staff accounts: create, list.", no_args_is_help=True)


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


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@user_app.command("create")
def create(
    username: str = typer.Argument(..., help="sign-in name"),
    role: str = typer.Option(..., help="admin, analyst or unit_manager"),
    unit: str = typer.Option(None, help="unit code (required for unit_manager)"),
    name: str = typer.Option("", help="display name"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from standard input"),
) -> None:
    """Create a staff account (asks for the password twice unless --password-stdin)."""
    password = _read_password(password_stdin)
    try:
        user_id = asyncio.run(db.run_connected(Settings.from_env(),
                                               lambda: create_user(username, password, role, unit, name)))
    except UserCommandError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1)
    typer.echo(f"created {role} {username} (id {user_id})")


@user_app.command("list")
def list_users() -> None:
    """List staff accounts with role, unit and whether they are active or locked."""
    async def rows():
        return await User.select(User.username, User.role, User.unit.code, User.active, User.locked_until)

    for row in asyncio.run(db.run_connected(Settings.from_env(), rows)):
        state = "active" if row["active"] else "inactive"
        typer.echo(f"{row['username']:<24} {row['role']:<13} {row['unit.code'] or '-':<10} {state}"
                   + (" locked" if row["locked_until"] else ""))
