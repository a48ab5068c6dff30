"""`survey export` and `survey report`: a campaign's data files and its Vietnamese report (docs/exports.md)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Optional

import typer


def _format_of(export_format: str | None, out: Path) -> str:
    if export_format:
        return export_format.lower()
    suffix = out.suffix.lower().lstrip(".")
    return {"jsonl": "json", "ndjson": "json"}.get(suffix, suffix)


def export(
    campaign: str = typer.Argument(..., help="campaign code, e.g. SIPAS-2026"),
    export_format: Optional[str] = typer.Option(None, "--format", "-f", help="csv, xlsx, sav, dta, json or members_csv "
                                                "(default: the suffix of --out)"),
    out: Path = typer.Option(..., "--out", "-o", help="file to write"),
) -> None:
    """Export a campaign's responses with weight and design columns (CSV, XLSX + codebook, SPSS, Stata, JSON lines)."""
    from survey_app.core import db
    from survey_app.core.settings import Settings
    from survey_app.exports.service import ExportError

    chosen = _format_of(export_format, out)
    settings = Settings.from_env()
    try:
        plan = asyncio.run(db.run_connected(settings, _with_bar(campaign, chosen, out, settings.suppress_below)))
    except ExportError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1)
    for note in plan.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"wrote {plan.response_count} responses to {out}")


def _with_bar(campaign: str, export_format: str, out: Path, minimum: int):
    """The export job with a progress bar sized to the campaign's response count."""
    from survey_app.exports.service import plan_for_format, write_export

    async def work():
        plan = await plan_for_format(campaign, export_format, minimum)
        with typer.progressbar(length=plan.response_count, label=f"{campaign} → {export_format}",
                               file=sys.stderr) as bar:
            await write_export(plan, export_format, out, on_progress=bar.update)
        return plan

    return work


def report(
    campaign: str = typer.Argument(..., help="campaign code"),
    out: Path = typer.Option(..., "--out", "-o", help="folder for report.html and report.pdf"),
    targets: Optional[Path] = typer.Option(None, "--targets", exists=True, dir_okay=False,
                                           help="YAML or JSON targets (default: SIPAS ≥ 90 %, land > 82 %, "
                                                "investment > 84 %)"),
) -> None:
    """Write the campaign's Vietnamese report (report.html and report.pdf) with indices, CIs, rankings, targets."""
    from survey_app.core import db
    from survey_app.core.settings import Settings
    from survey_app.exports.report import ReportError, read_targets, write_report

    settings = Settings.from_env()
    try:
        chosen_targets = read_targets(targets) if targets else None
        written = asyncio.run(db.run_connected(settings, lambda: write_report(campaign, out, chosen_targets,
                                                                              settings.suppress_below)))
    except ReportError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1)
    typer.echo("wrote " + ", ".join(str(path) for path in written))


def export_xlsform(
    key: str = typer.Argument(..., help="questionnaire key, e.g. sipas_citizen"),
    version: Optional[str] = typer.Option(None, "--version", help="stored version (default: the latest)"),
    out: Path = typer.Option(..., "--out", "-o", help=".xlsx file to write"),
) -> None:
    """Write a questionnaire as an XLSForm (.xlsx) that pyxform, ODK and KoBo read; importing it gives it back."""
    from questionnaires.xlsform_export import export_xlsform as as_xlsform
    from survey_app.campaigns.catalog import stored_definition
    from survey_app.core import db
    from survey_app.core.settings import Settings

    definition = asyncio.run(db.run_connected(Settings.from_env(), lambda: stored_definition(key, version)))
    if definition is None:
        typer.echo(f"error: no questionnaire '{key}'" + (f" version {version}" if version else ""), err=True)
        raise typer.Exit(code=1)
    out.write_bytes(as_xlsform(definition))
    typer.echo(f"wrote {definition.key} version {definition.version} to {out}")


def register(app: typer.Typer) -> None:
    """Add `export`, `report` and `export-xlsform` to the `survey` command."""
    app.command("export")(export)
    app.command("report")(report)
    app.command("export-xlsform")(export_xlsform)
