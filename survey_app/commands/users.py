"""`survey user create|list`: staff accounts from the terminal (the first administrator starts here). Each command
opens the database and calls survey_app.accounts.users; API tokens are `survey token` (survey_app.commands.tokens)."""

from __future__ import annotations

import asyncio
import sys

import typer


user_app = typer.Typer(help="Staff accounts: create, list.", no_args_is_help=True)


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
    from survey_app.accounts.users import UserCommandError, create_user
    from survey_app.core import db
    from survey_app.core.settings import Settings

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
    """List staff accounts with role, unit and whether they are active."""
    from survey_app.accounts.users import user_rows
    from survey_app.core import db
    from survey_app.core.settings import Settings

    for row in asyncio.run(db.run_connected(Settings.from_env(), user_rows)):
        state = "active" if row["active"] else "inactive"
        typer.echo(f"{row['username']:<24} {row['role']:<13} {row['unit.code'] or '-':<10} {state}")
