"""`survey dossiers import|procedures`: completed dossiers and the procedure catalogue from CSV/XLSX files, for
provinces whose one-stop system has no API; both call survey_app.dossiers. A file with any bad row stores nothing
and every problem is printed (row, field, reason), exit code 1."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Optional

import typer

dossiers_app = typer.Typer(help="Completed dossiers (the rating links' and SIPAS frame's source).",
                           no_args_is_help=True)


def _run(work):
    from survey_app.core import db
    from survey_app.core.server_key import KeyMismatch, require_server_key
    from survey_app.core.settings import Settings
    from survey_app.dossiers.services import DossiersRefused

    settings = Settings.from_env()

    async def checked_then_work():
        await require_server_key(settings.secret_key)  # codes hashed with another key would never match
        return await work(settings)

    try:
        return asyncio.run(db.run_connected(settings, checked_then_work))
    except KeyMismatch as refused:
        typer.echo(f"refused / từ chối: {refused.message_vi} / {refused.message_en}", err=True)
        raise typer.Exit(code=1)
    except DossiersRefused as refusal:
        typer.echo(f"refused, nothing stored / từ chối, không lưu gì: {len(refusal.problems)} lỗi", err=True)
        for problem in refusal.problems:
            typer.echo(f"  dòng {problem.row}, {problem.field}: {problem.message}", err=True)
        raise typer.Exit(code=1)


@dossiers_app.command("import")
def import_dossiers(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="dossiers, CSV or XLSX"),
    links_out: Optional[Path] = typer.Option(None, help="CSV of each dossier's code and rating link, for the "
                                             "result slips (default: FILE.links.csv; written once)"),
) -> None:
    """Store completed dossiers (all or none) and write their one-time rating links."""
    from survey_app.dossiers.imports import import_file, links_csv
    from survey_app.officials.samples import write_private

    output = links_out or file.with_name(file.stem + ".links.csv")
    if output.exists():
        typer.echo(f"refused / từ chối: {output} đã tồn tại; không ghi đè.", err=True)
        raise typer.Exit(code=1)

    async def work(settings):
        stored = await import_file(file.read_bytes(), file.name, settings.secret_key)
        write_private(output, links_csv(stored, settings.base_url, settings.secret_key))
        return len(stored)

    count = _run(work)
    typer.echo(f"stored {count} dossier(s) / đã lưu {count} hồ sơ; rating links: {output}")


@dossiers_app.command("procedures")
def import_procedures(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                                  help="procedure catalogue, CSV or XLSX: code, name, domain")) -> None:
    """Add or update the procedure catalogue (all rows or none)."""
    from survey_app.dossiers.procedures import import_procedures as store

    count = _run(lambda settings: store(file.read_bytes(), file.name))
    typer.echo(f"stored {count} procedure(s) / đã lưu {count} thủ tục")
