"""`survey token create|list|revoke`: API tokens from the terminal, as on the admin page (/admin/tokens)."""

from __future__ import annotations

import asyncio

import typer

from survey_app import db
from survey_app.auth import api_tokens
from survey_app.settings import Settings

token_app = typer.Typer(help="API tokens: create (shown once), list, revoke.", no_args_is_help=True)


def _run(work):
    """Run one database job; a refusal is printed and exits 1, nothing stored."""
    try:
        return asyncio.run(db.run_connected(Settings.from_env(), work))
    except api_tokens.TokenRefused as refusal:
        typer.echo(f"error: {refusal.message}", err=True)
        raise typer.Exit(code=1)


@token_app.command("create")
def create(
    username: str = typer.Argument(..., help="the account the token acts for"),
    name: str = typer.Option(..., help="what the token is for, e.g. 'Grafana' or 'Cổng một cửa'"),
    scope: list[str] = typer.Option(..., help="repeat for each: " + ", ".join(api_tokens.SCOPES)),
    days: int = typer.Option(api_tokens.DEFAULT_DAYS, help=f"days until it expires (1–{api_tokens.MAX_DAYS})"),
) -> None:
    """Issue a token; it is printed once and stored only as a hash."""
    secret_key = Settings.from_env().secret_key
    typer.echo(_run(lambda: api_tokens.issue(secret_key, username, name, scope, days, actor="cli")))


@token_app.command("list")
def list_tokens(username: str = typer.Option(None, "--user", help="only this account's tokens")) -> None:
    """List tokens: id, account, name, scopes, created and expiry dates (dd/mm/yyyy, Vietnam), state."""
    for row in _run(lambda: api_tokens.listed(username)):
        expires = row["expires_on"].strftime("%d/%m/%Y") if row["expires_on"] else "-"
        typer.echo(f"{row['id']:>5} {row['username']:<20} {row['name'][:30]:<30} {','.join(row['scopes']):<20} "
                   f"{row['created_on']:%d/%m/%Y} {expires} {row['state']}")


@token_app.command("revoke")
def revoke(token_id: int = typer.Argument(..., help="the id shown by `survey token list`")) -> None:
    """Revoke one token at once; the others keep working."""
    _run(lambda: api_tokens.revoke(token_id, actor="cli"))
    typer.echo(f"revoked token {token_id}")
