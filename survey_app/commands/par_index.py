"""`survey par-index`: open the database, call survey_app.results.par_index, print (refusals exit 1)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Optional

import typer


def par_index(
    campaign: str = typer.Option(..., help="campaign code of the officials' survey"),
    self_assessment: Optional[Path] = typer.Option(None, help="CSV/XLSX with unit, criterion, points"),
    rule: Optional[str] = typer.Option(None, help="linear or share_4_5 (default: the scoring map's rule)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """PAR INDEX: survey points per unit and criterion, self-assessment, totals and ranking."""
    from survey_app.core import db
    from survey_app.core.settings import Settings
    from survey_app.results.frames import AnalysisCommandError
    from survey_app.results.par_index import par_index_text, run_par_index

    settings = Settings.from_env()
    try:
        result = asyncio.run(db.run_connected(settings, lambda: run_par_index(
            campaign, self_assessment, settings.suppress_below, rule)))
    except (AnalysisCommandError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else par_index_text(result))
