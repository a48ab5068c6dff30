"""Officials' response weights from their sample's statuses (`survey weight-nonresponse`; docs/method.md §5d).

Responses are not linked to members (privacy), but each invitation answer carries its sample stratum. Per stratum,
analysis.nonresponse turns the members' statuses and design weights into a factor (unknown eligibility, then
non-response; ineligible members out); every answer of the stratum gets design weight × factor. The design weight of
a stratum is the one its drawn members share (a stratified draw gives them one; otherwise the stratum is refused).
Recomputed from the draw each time, so a second run stores the same weights.
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
    weights = _stratum_design_weights(members)
    responses = pd.DataFrame(await Response.select(Response.id, Response.stratum).where(Response.campaign == campaign["id"]),
                             columns=["id", "stratum"])
    unknown = sorted(set(responses["stratum"].dropna()) - set(factors))
    if unknown or responses["stratum"].isna().any():
        raise AnalysisCommandError(f"campaign {campaign_code}: answers without a stratum of the draw ({unknown[:3] or 'none'}); "
                                   "only invitation answers can be weighted from their sample")
    responses["weight"] = [weights[stratum] * factors[stratum] for stratum in responses["stratum"]]
    await _store(responses, engine or Response._meta.db)
    cells = [{"stratum": stratum, "members": int((members["stratum"] == stratum).sum()),
              "answers": int((responses["stratum"] == stratum).sum()), "design_weight": weights[stratum],
              "factor": factors[stratum]} for stratum in sorted(factors)]
    return {"campaign": campaign_code, "answers": len(responses), "cells": cells, **report}


async def _members(campaign_id: int, campaign_code: str) -> pd.DataFrame:
    from survey_app.core.sampling_tables import SampleDraw, SampleMember

    draw = await SampleDraw.select(SampleDraw.id).where(SampleDraw.campaign == campaign_id).order_by(SampleDraw.id, ascending=False).first()
    if draw is None:
        raise AnalysisCommandError(f"campaign {campaign_code} has no sample draw: its weights cannot come from sample statuses")
    rows = await SampleMember.select(SampleMember.stratum, SampleMember.status, SampleMember.design_weight).where(
        (SampleMember.draw == draw["id"]) & SampleMember.reserve_rank.is_null() & (SampleMember.status != "reserve"))
    members = pd.DataFrame(rows, columns=["stratum", "status", "design_weight"])
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


def _stratum_design_weights(members: pd.DataFrame) -> dict:
    spread = members.groupby("stratum")["design_weight"].agg(["min", "max"])
    uneven = spread[(spread["max"] - spread["min"]).abs() > 1e-9 * spread["max"].abs()]
    if len(uneven):
        raise AnalysisCommandError(f"stratum {uneven.index[0]!r}: its members' design weights differ, so an answer (not linked "
                                   "to its member) cannot be given one; weight such a sample in analysis/ with the member data")
    return spread["min"].to_dict()


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
             f"{'stratum':<40} {'members':>8} {'answers':>8} {'design w':>9} {'factor':>8}"]
    lines += [f"{cell['stratum']:<40} {cell['members']:>8} {cell['answers']:>8} {cell['design_weight']:>9.3f} {cell['factor']:>8.4f}"
              for cell in result["cells"]]
    return "\n".join(lines)

