"""`survey token create|list|revoke`: API tokens from the terminal, as on the admin page (/admin/tokens); each
command opens the database and calls survey_app.accounts.api_tokens."""

from __future__ import annotations

import asyncio

import typer

token_app = typer.Typer(help="API tokens: create (shown once), list, revoke.", no_args_is_help=True)
SCOPE_NAMES = "results, export, admin, dossiers, metrics, webhooks"  # survey_app.accounts.api_tokens.SCOPES


def _run(work):
    """Run one database job; a refusal is printed and exits 1, nothing stored."""
    from survey_app.accounts.api_tokens import TokenRefused
    from survey_app.core import db
    from survey_app.core.settings import Settings

    try:
        return asyncio.run(db.run_connected(Settings.from_env(), work))
    except TokenRefused as refusal:
        typer.echo(f"error: {refusal.message}", err=True)
        raise typer.Exit(code=1)


@token_app.command("create")
def create(
    username: str = typer.Argument(..., help="the account the token acts for"),
    name: str = typer.Option(..., help="what the token is for, e.g. 'Grafana' or 'Cổng một cửa'"),
    scope: list[str] = typer.Option(..., help=f"repeat for each: {SCOPE_NAMES}"),
    days: int = typer.Option(90, help="days until it expires (1–366)"),
) -> None:
    """Issue a token; it is printed once and stored only as a hash."""
    from survey_app.accounts import api_tokens
    from survey_app.core.settings import Settings

    secret_key = Settings.from_env().secret_key
    typer.echo(_run(lambda: api_tokens.issue(secret_key, username, name, scope, days, actor="cli")))


@token_app.command("list")
def list_tokens(username: str = typer.Option(None, "--user", help="only this account's tokens")) -> None:
    """List tokens: id, account, name, scopes, created and expiry dates (dd/mm/yyyy, Vietnam), state."""
    from survey_app.accounts import api_tokens

    for row in _run(lambda: api_tokens.listed(username)):
        expires = row["expires_on"].strftime("%d/%m/%Y") if row["expires_on"] else "-"
        typer.echo(f"{row['id']:>5} {row['username']:<20} {row['name'][:30]:<30} {','.join(row['scopes']):<20} "
                   f"{row['created_on']:%d/%m/%Y} {expires} {row['state']}")


@token_app.command("revoke")
def revoke(token_id: int = typer.Argument(..., help="the id shown by `survey token list`")) -> None:
    """Revoke one token at once; the others keep working."""
    from survey_app.accounts import api_tokens

    _run(lambda: api_tokens.revoke(token_id, actor="cli"))
    typer.echo(f"revoked token {token_id}")
