"""`survey par-index`: open the database, call survey_app.results.par_index, print (refusals exit 1)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Optional

import typer

RULE_HELP = ("linear or share_4_5 (default: the questionnaire scoring map's rule, share_4_5 in the shipped PAR INDEX "
             "maps; linear if the map names none)")


def par_index(
    campaign: str = typer.Option(..., help="campaign code of the officials' survey"),
    structure: Optional[Path] = typer.Option(
        None, help="CSV/XLSX of the province's PAR INDEX: id, parent, title, max_points, scored_by "
                   "(self_assessment | appraisal | survey), survey_criteria (default: the scoring map's criteria)"),
    points: Optional[Path] = typer.Option(
        None, "--points", "--self-assessment",
        help="CSV/XLSX of self-assessment and appraisal points: unit, id (the structure's ids, e.g. 1.1), points"),
    rule: Optional[str] = typer.Option(None, help=RULE_HELP),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """PAR INDEX: survey points per unit and criterion, self-assessment and appraisal points, totals, subtotals
    per field and ranking per level (sở, huyện). Units with fewer officials' answers than SUPPRESS_BELOW get no
    points; a criterion fewer than SUPPRESS_BELOW officials of a unit rated is withheld (its count shown) and
    scored by the unit's mean over its other survey criteria (docs/method.md §6b). Warns on a campaign not closed."""
    from survey_app.core import db
    from survey_app.core.settings import Settings
    from survey_app.results.frames import AnalysisCommandError
    from survey_app.results.par_index import open_campaign_warning, par_index_text, run_par_index

    settings = Settings.from_env()
    try:
        result = asyncio.run(db.run_connected(settings, lambda: run_par_index(
            campaign, points, settings.suppress_below, rule, structure)))
    except (AnalysisCommandError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1)
    if as_json and result["campaign_status"] != "closed":
        typer.echo(open_campaign_warning(result), err=True)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else par_index_text(result))
