"""The PAR INDEX (`survey par-index`) survey points per unit and criterion, plus appraised self-assessment points,
totals and ranking (analysis/par_index.py; docs/method.md).

Units with fewer respondents than SUPPRESS_BELOW are listed with their count but no points and no rank: a small
group's answers could be traced to the people who gave them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from survey_app.results.frames import AnalysisCommandError, campaign_frame
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


