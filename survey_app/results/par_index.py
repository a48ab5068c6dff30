"""`survey par-index`: the PAR INDEX survey points per unit and criterion, plus appraised self-assessment points,
totals and ranking (analysis/par_index.py; docs/method.md).

Units with fewer respondents than SUPPRESS_BELOW are listed with their count but no points and no rank: a small
group's answers could be traced to the people who gave them.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from survey_app.core import db
from survey_app.results.analysis import AnalysisCommandError, campaign_frame
from survey_app.core.settings import Settings
from survey_app.results.suppression import publishable


async def run_par_index(campaign_code: str, self_assessment: Path | None, suppress_below: int,
                        rule: str | None = None) -> dict:
    from analysis.par_index import (
        SelfAssessmentError, criteria_with_points, read_self_assessment, survey_points, unit_totals,
    )

    from survey_app.results.dashboard import without_excluded

    campaign, scoring, frame = await campaign_frame(campaign_code)
    frame = await without_excluded(campaign["id"], frame)
    try:
        criteria = criteria_with_points(scoring)
    except ValueError as error:
        raise AnalysisCommandError(f"campaign {campaign_code}: {error}") from error
    respondents = frame.groupby("unit").size()
    kept, left_out = publishable(frame, officials=True, minimum=suppress_below)
    suppressed = sorted(left_out)
    points = survey_points(kept, scoring, "unit", rule=rule or scoring.get("rule", "linear")) if len(kept) else \
        pd.DataFrame(columns=["unit", "points"])
    assessed = pd.DataFrame(columns=["unit", "criterion", "points"])
    if self_assessment is not None:
        try:
            assessed = read_self_assessment(self_assessment, {criterion.key: criterion.max_points
                                                              for criterion in criteria})
        except SelfAssessmentError as error:
            raise AnalysisCommandError(f"{self_assessment}:\n  " + "\n  ".join(error.problems)) from error
        assessed = assessed[~assessed["unit"].isin(suppressed)]
    totals = unit_totals(points, assessed)
    return {
        "campaign": campaign_code, "rule": rule or scoring.get("rule", "linear"), "suppress_below": suppress_below,
        "units": [{**row, "respondents": int(respondents.get(row["unit"], 0))} for row in totals.to_dict("records")],
        "suppressed": [{"unit": unit, "respondents": int(respondents[unit])} for unit in suppressed],
        "criteria": points.to_dict("records"),
    }


def par_index_text(result: dict) -> str:
    lines = [f"campaign {result['campaign']}: PAR INDEX survey points (rule {result['rule']})",
             f"{'rank':>4}  {'unit':<10} {'n':>4} {'survey':>8} {'self':>8} {'total':>8}"]
    for row in result["units"]:
        lines.append(f"{row['rank'] or '—':>4}  {row['unit']:<10} {row['respondents']:>4} "
                     f"{_points(row['survey_points'])} {_points(row['self_assessment_points'])} {_points(row['total'])}")
    for row in result["suppressed"]:
        lines.append(f"{'—':>4}  {row['unit']:<10} {row['respondents']:>4}  không đủ số phiếu "
                     f"(fewer than {result['suppress_below']} respondents)")
    return "\n".join(lines)


def _points(value) -> str:
    return f"{'—':>8}" if value is None else f"{value:8.2f}"


def par_index(
    campaign: str = typer.Option(..., help="campaign code of the officials' survey"),
    self_assessment: Optional[Path] = typer.Option(None, help="CSV/XLSX with unit, criterion, points"),
    rule: Optional[str] = typer.Option(None, help="linear or share_4_5 (default: the scoring map's rule)"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """PAR INDEX: survey points per unit and criterion, self-assessment, totals and ranking."""
    settings = Settings.from_env()
    try:
        result = asyncio.run(db.run_connected(settings, lambda: run_par_index(
            campaign, self_assessment, settings.suppress_below, rule)))
    except (AnalysisCommandError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=1)
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2) if as_json else par_index_text(result))
