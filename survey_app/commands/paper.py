"""`survey paper print`: number new paper copies of a campaign for a unit and write their PDF
(survey_app.paper.services, the same operation as the campaign's paper page)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

paper_app = typer.Typer(help="Paper questionnaires: numbered printable copies.", no_args_is_help=True)


@paper_app.command("print")
def print_copies(
    campaign: str = typer.Option(..., "--campaign", help="campaign code, e.g. SIPAS-2026"),
    unit: str = typer.Option(..., "--unit", help="code of the unit that hands the copies out, e.g. H01"),
    copies: int = typer.Option(..., "--copies", help="how many copies (each gets the next number; any count, in one "
                                                      "PDF)"),
    output: Path = typer.Option(..., "-o", "--output", help="PDF file to write"),
    user: str = typer.Option("cli", "--user", help="who printed them, for the audit log"),
) -> None:
    """Print N numbered copies (A4 PDF), each with a QR code to answer it online instead."""
    from survey_app.core import db
    from survey_app.core.server_key import KeyMismatch, require_server_key
    from survey_app.core.settings import Settings
    from survey_app.paper.services import PaperRefused, print_copies as number_and_print
    from survey_app.units.posters import write_atomically

    settings = Settings.from_env()

    async def checked_then_print():
        await require_server_key(settings.secret_key)  # QR links signed otherwise would be refused by the server
        return await number_and_print(settings, campaign, unit, str(copies), user, maximum=None)  # any count

    try:
        run = asyncio.run(db.run_connected(settings, checked_then_print))
    except (PaperRefused, KeyMismatch) as refused:
        typer.echo(f"refused / từ chối: {refused.message_vi} / {refused.message_en}", err=True)
        raise typer.Exit(code=1)
    write_atomically(output, run.pdf)
    typer.echo(f"wrote {output}: copies {run.first:06d}–{run.last:06d} of {campaign} for {unit}")
