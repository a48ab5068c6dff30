"""`survey retention [--dry-run]`: apply RETENTION_DAYS (survey_app/public/retention.py; docs/privacy.md)."""

from __future__ import annotations

import asyncio

import typer


def retention(dry_run: bool = typer.Option(False, "--dry-run", help="count what would change; change nothing")) -> None:
    """Drop free text and dossier hashes of old answers of closed campaigns; delete old officials' drafts."""
    from survey_app.core import db
    from survey_app.core.settings import Settings
    from survey_app.public.retention import apply_retention

    settings = Settings.from_env()
    if settings.retention_days is None:
        typer.echo("RETENTION_DAYS is empty: every answer is kept; nothing to do")
        return
    report = asyncio.run(db.run_connected(
        settings, lambda: apply_retention(settings.retention_days, actor="cli", dry_run=dry_run)))
    for line in report.lines():
        typer.echo(line)
    if dry_run:
        typer.echo("dry run: nothing was changed")
