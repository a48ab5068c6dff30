"""Officials' response weights from their sample's statuses (`survey weight-nonresponse`; docs/method.md §5d).

Responses are not linked to members and carry only their unit (privacy, issue #25: a stratum or a role weight on an
answer singled out a unit's one respondent of a role). Per stratum, analysis.nonresponse turns the members' statuses
and design weights into a factor (unknown eligibility, then non-response; ineligible members out); a unit's
completed members' adjusted weights (design weight × their stratum's factor) are summed, and the unit's answers share
that sum equally. Recomputed from the draw each time, so a second run stores the same weights.
"""

from __future__ import annotations

import pandas as pd

from survey_app.core import db
from survey_app.results.frames import AnalysisCommandError


async def run_nonresponse_weights(campaign_code: str, engine=None) -> dict:
    """Store non-response-adjusted weights on the campaign's invitation answers, in one transaction."""
    from survey_app.core.tables import Campaign, Response

    campaign = await Campaign.select(Campaign.id, Campaign.code).where(Campaign.code == campaign_code).first()
    if campaign is None:
        raise AnalysisCommandError(f"no campaign with code {campaign_code!r}")
    members = await _members(campaign["id"], campaign_code)
    factors, report = _stratum_factors(members)
    responses = pd.DataFrame(await Response.select(Response.id, Response.unit).where(Response.campaign == campaign["id"]),
                             columns=["id", "unit"])
    unit_totals = _unit_totals(members, factors)
    answers = responses.groupby("unit").size()
    unknown = sorted(set(answers.index) - set(unit_totals.index))
    if unknown:
        raise AnalysisCommandError(f"campaign {campaign_code}: answers of unit ids {unknown[:3]} that have no completed "
                                   "member in the draw; only invitation answers can be weighted from their sample")
    responses["weight"] = [unit_totals[unit] / answers[unit] for unit in responses["unit"]]
    await _store(responses, engine or Response._meta.db)
    cells = [{"stratum": stratum, "members": int((members["stratum"] == stratum).sum()), "factor": factors[stratum]}
             for stratum in sorted(factors)]
    return {"campaign": campaign_code, "answers": len(responses), "cells": cells, **report}


async def _members(campaign_id: int, campaign_code: str) -> pd.DataFrame:
    from survey_app.core.sampling_tables import SampleDraw, SampleMember

    draw = await SampleDraw.select(SampleDraw.id).where(SampleDraw.campaign == campaign_id).order_by(SampleDraw.id, ascending=False).first()
    if draw is None:
        raise AnalysisCommandError(f"campaign {campaign_code} has no sample draw: its weights cannot come from sample statuses")
    rows = await SampleMember.select(SampleMember.unit, SampleMember.stratum, SampleMember.status,
                                     SampleMember.design_weight).where(
        (SampleMember.draw == draw["id"]) & SampleMember.reserve_rank.is_null() & (SampleMember.status != "reserve"))
    members = pd.DataFrame(rows, columns=["unit", "stratum", "status", "design_weight"])
    if members.empty or members["design_weight"].isna().any():
        raise AnalysisCommandError(f"campaign {campaign_code}: the draw's members have no design weights")
    return members


def _stratum_factors(members: pd.DataFrame) -> tuple[dict, dict]:
    from analysis.design import SurveyDesign
    from analysis.nonresponse import adjust_for_statuses
    from analysis.weighting import WeightingError

    design = SurveyDesign.from_frame(members, weights="design_weight")
    try:
        adjusted = adjust_for_statuses(design, "status", "stratum")
    except WeightingError as error:
        raise AnalysisCommandError(str(error)) from error
    report = adjusted.report
    factors = {stratum: report["eligibility_factor"][stratum] * report["response_factor"][stratum] for stratum in report["response_factor"]}
    summary = {key: report[key] for key in ("respondents", "ineligible", "unknown_eligibility")}
    return factors, {**summary, "before": vars(adjusted.before), "after": vars(adjusted.after)}


def _unit_totals(members: pd.DataFrame, factors: dict) -> pd.Series:
    """Per unit: Σ design weight × stratum factor over its completed members (what its answers together stand for)."""
    completed = members[members["status"] == "completed"]
    adjusted = completed["design_weight"] * completed["stratum"].map(factors)
    return adjusted.groupby(completed["unit"]).sum()


async def _store(responses: pd.DataFrame, engine) -> None:
    from survey_app.core.tables import Response

    async with db.write_transaction(engine):
        for weight, ids in responses.groupby("weight")["id"]:
            ids = [int(value) for value in ids]
            for start in range(0, len(ids), 500):
                await Response.update({Response.weight: float(weight)}).where(Response.id.is_in(ids[start:start + 500]))


def nonresponse_text(result: dict) -> str:
    lines = [f"campaign {result['campaign']}: {result['answers']} answer weights from the sample statuses "
             f"({result['respondents']} completed, {result['ineligible']} ineligible, {result['unknown_eligibility']} not heard from)",
             f"{'stratum':<40} {'members':>8} {'factor':>8}  (a unit's answers share its members' adjusted weights)"]
    lines += [f"{cell['stratum']:<40} {cell['members']:>8} {cell['factor']:>8.4f}" for cell in result["cells"]]
    return "\n".join(lines)

