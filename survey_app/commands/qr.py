"""`survey qr`: connect, call survey_app.units.posters.build, write the file only on success (refusals exit 1)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer


async def _build_connected(settings, **options):
    from survey_app.core import db
    from survey_app.core.server_key import KeyMismatch, require_server_key
    from survey_app.units.posters import QrCommandError, build

    async def checked_then_build():
        try:
            await require_server_key(settings.secret_key)  # posters signed otherwise would be refused
        except KeyMismatch as refused:
            raise QrCommandError(f"{refused.message_vi} / {refused.message_en}") from refused
        return await build(settings, **options)

    return await db.run_connected(settings, checked_then_build, migrate_first=False)


def qr(
    campaign: str = typer.Option(..., "--campaign", help="campaign code, e.g. QUAY-2026"),
    counter: str = typer.Option(None, "--counter", help="one counter's code, e.g. SO01-Q1"),
    unit: str = typer.Option(None, "--unit", help="a unit's code: a ZIP of posters for all its active counters"),
    format: str = typer.Option(None, "--format", help="png, svg, pdf or zip (default: from -o, else png/zip)"),
    size: str = typer.Option("A4", "--size", help="poster size: A4 or A5"),
    expires: str = typer.Option(None, "--expires", help="last day the code is accepted, dd/mm/yyyy"),
    code_only: bool = typer.Option(False, "--code-only", help="the bare QR code instead of a poster (png)"),
    output: Path = typer.Option(..., "-o", "--output", help="file to write"),
) -> None:
    """QR code (PNG/SVG), A4/A5 poster (PNG/PDF), or a ZIP of posters for a unit or a whole campaign."""
    from survey_app.core.settings import Settings
    from survey_app.units.posters import QrCommandError, parse_expiry, write_atomically

    try:
        result = asyncio.run(_build_connected(
            Settings.from_env(), campaign_code=campaign, counter_code=counter, unit_code=unit, format=format,
            size=size, expires_on=parse_expiry(expires), code_only=code_only, output=output))
    except QrCommandError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    write_atomically(output, result.data)
    what = f"{len(result.counters)} counters" if len(result.counters) > 1 else result.counters[0]
    typer.echo(f"wrote {output} ({result.format}, {what}, {len(result.data):,} bytes)")
