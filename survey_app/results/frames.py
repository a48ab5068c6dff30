"""A campaign's responses as a data frame and its survey design: what every figure (pages, report, `survey
indices`, `survey par-index`) is computed from, so all of them agree."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pandas as pd

NO_DOMAIN = "(none)"


SRS_NOTE = ("all weights are 1: simple random sampling of responses within the campaign is assumed "
            "(each response its own unit, no strata, no finite-population correction)")


WEIGHTED_NOTE = ("weights from Response.weight; responses are treated as independent draws with replacement "
                 "(no strata or clusters are stored), so SEs ignore any clustering by counter")


class AnalysisCommandError(Exception):
    """A refusal with a message for the user (exit 1)."""


async def campaign_frame(campaign_code: str) -> tuple[dict, dict, pd.DataFrame]:
    """The campaign row, its scoring map, and one row per response: id, unit, level, domain, weight, item ratings."""
    from survey_app.campaigns.catalog import definition_of
    from survey_app.core.tables import Campaign, Questionnaire, Response

    campaign = await Campaign.select().where(Campaign.code == campaign_code).first()
    if campaign is None:
        raise AnalysisCommandError(f"no campaign with code {campaign_code!r}")
    questionnaire = await Questionnaire.select().where(Questionnaire.id == campaign["questionnaire"]).first()
    scoring = definition_of(questionnaire).scoring_dict()
    if not scoring.get("factors"):
        raise AnalysisCommandError(f"campaign {campaign_code}: questionnaire {questionnaire['key']} has no scoring map")
    item_keys = [item for factor in scoring["factors"] for criterion in factor["criteria"] for item in criterion["items"]]
    rows = await Response.select(
        Response.id, Response.answers, Response.weight,
        Response.unit.code.as_alias("unit_code"), Response.unit.level.as_alias("unit_level"),
        Response.domain.code.as_alias("domain_code"),
    ).where(Response.campaign == campaign["id"]).order_by(Response.id)
    if len(rows) < 2:
        raise AnalysisCommandError(f"campaign {campaign_code} has {len(rows)} response(s); a standard error needs at least 2")
    # Parsing every response's answers takes about a second per 36 000 responses: a thread keeps the loop free
    return campaign, scoring, await asyncio.to_thread(_response_frame, rows, item_keys)


def _response_frame(rows: list[dict], item_keys: list[str]) -> pd.DataFrame:
    frame = rating_frame(rows, item_keys)
    frame.insert(0, "response_id", [row["id"] for row in rows])
    frame.insert(1, "unit", [row["unit_code"] for row in rows])
    frame.insert(2, "level", [row["unit_level"] for row in rows])
    frame.insert(3, "domain", [row["domain_code"] or NO_DOMAIN for row in rows])
    frame.insert(4, "weight", [row["weight"] for row in rows])
    return frame


def design_of(frame: pd.DataFrame):
    """The design for a campaign frame and the sentence that states it."""
    from analysis.design import SurveyDesign

    weights = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(weights) | (weights <= 0)
    if bad.any():
        ids = frame.loc[bad, "response_id"].head(5).tolist()
        raise AnalysisCommandError(f"{int(bad.sum())} responses have a missing or non-positive weight (ids {ids}); "
                                   "run `survey weight` again or fix them")
    note = SRS_NOTE if np.all(weights == 1) else WEIGHTED_NOTE
    return SurveyDesign.from_frame(frame, weights=weights), note


def rating_frame(answer_rows: list[dict], item_keys: list[str]) -> pd.DataFrame:
    """One row per response, ratings as numbers; 'na' (không áp dụng) and non-answers become NaN."""
    def as_rating(value):
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else np.nan

    records = []
    for row in answer_rows:
        answers = row["answers"] if isinstance(row["answers"], dict) else json.loads(row["answers"])
        records.append({key: as_rating(answers.get(key)) for key in item_keys})
    return pd.DataFrame.from_records(records, columns=item_keys)
