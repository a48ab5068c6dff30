"""`survey backup FILE` and `survey restore FILE`: the whole database, verified (survey_app.core.backup)."""

from __future__ import annotations

import time
from pathlib import Path

import typer


def _describe(report, seconds: float) -> str:
    counts = "" if report.responses is None else f", {report.responses} responses, {report.migrations} migrations"
    return f"{report.path}: {report.size_bytes / 1e6:.1f} MB{counts}, verified, {seconds:.1f} s"


def backup(target: Path = typer.Argument(..., help="new file to write (never overwritten)")) -> None:
    """Back up the database while the app keeps serving, then verify the file."""
    from survey_app.core import backup as backups
    from survey_app.core.settings import Settings

    started = time.perf_counter()
    try:
        report = backups.backup(Settings.from_env().database_url, target)
    except backups.BackupError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1)
    typer.echo("backup " + _describe(report, time.perf_counter() - started))


def restore(
    source: Path = typer.Argument(..., help="a file written by `survey backup`"),
    check_only: bool = typer.Option(False, "--check", help="only verify the file; change nothing"),
    yes: bool = typer.Option(False, "--yes", help="do not ask before replacing the database"),
) -> None:
    """Replace the database with a verified backup (stop the app first); --check only verifies the file."""
    from survey_app.core import backup as backups
    from survey_app.core.settings import Settings

    started = time.perf_counter()
    database_url = Settings.from_env().database_url
    try:
        if check_only:
            typer.echo("checked " + _describe(backups.verify(source), time.perf_counter() - started))
            return
        if not yes:
            typer.confirm(f"Replace every row of {database_url.rsplit('@', 1)[-1]} with {source}?", abort=True)
        report = backups.restore(source, database_url)
    except backups.BackupError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1)
    typer.echo("restored " + _describe(report, time.perf_counter() - started))


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
