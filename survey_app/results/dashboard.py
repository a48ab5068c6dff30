"""A campaign's indices for the dashboard: province, unit, level and domain with 95 % CIs, ranking, targets, trend.

Every figure comes from analysis.sipas on `campaign_frame` (the rows `survey indices` uses), so a page shows the
numbers the command line prints. Computed once per campaign and state of its data (responses, weights, exclusions)
and kept in a small in-process cache: a second worker simply computes its own copy. The computing (pandas, seconds
on a large campaign) runs in a thread so the worker keeps serving other requests; database reads stay on the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from cachetools import LRUCache

from analysis.sipas import compute_indices, compute_indices_by
from survey_app.core import db
from survey_app.core.campaign_tables import QualityReview
from survey_app.results.frames import AnalysisCommandError, campaign_frame, design_of
from survey_app.core.settings import SMALL_GROUP_DEFAULT
from survey_app.core.single_flight import cached_or_built
from survey_app.results.suppression import publishable
from survey_app.core.tables import Campaign, Domain, Questionnaire, Response, Unit


_figures: LRUCache = LRUCache(maxsize=32)  # per worker: each computes its own copy


class NotEnoughData(Exception):
    """The campaign has too few responses for any index (the page says so instead of showing a figure)."""


@dataclass(frozen=True)
class DataState:
    """What a campaign's figures depend on; a change in any part means computing again."""

    campaign_id: int
    responses: int
    last_response_id: int
    weight_total: float
    weight_by_id: float
    excluded: tuple[int, ...]


def not_excluded():
    """A where-condition on Response: not excluded in the quality review (what every published figure counts)."""
    return Response.id.not_in(QualityReview.select(QualityReview.response).where(QualityReview.decision == "exclude"))


async def without_excluded(campaign_id: int, frame: pd.DataFrame) -> pd.DataFrame:
    """A campaign frame without the responses the analyst excluded."""
    return frame[~frame["response_id"].isin(await excluded_ids(campaign_id))].reset_index(drop=True)


async def excluded_ids(campaign_id: int) -> tuple[int, ...]:
    rows = await QualityReview.select(QualityReview.response).where(
        (QualityReview.campaign == campaign_id) & (QualityReview.decision == "exclude")).order_by(QualityReview.response)
    return tuple(row["response"] for row in rows)


STATE_SQL = ("SELECT COUNT(*), MAX(id), SUM(CAST(weight AS DOUBLE PRECISION)), "
             "SUM(CAST(weight AS DOUBLE PRECISION) * id) FROM response WHERE campaign = $1")


async def data_state(campaign_id: int, without_excluded: bool) -> DataState:
    """One aggregate row. The id-weighted sum changes when weights move between responses with their total kept
    (post-stratification keeps it at the population), which the plain sum alone would miss."""
    [(responses, last_id, weight_total, weight_by_id)] = await db.fetch_tuples(STATE_SQL, campaign_id)
    return DataState(campaign_id, responses, last_id or 0, round(weight_total or 0.0, 9),
                     round(weight_by_id or 0.0, 6), await excluded_ids(campaign_id) if without_excluded else ())


async def campaign_figures(campaign: dict, without_excluded: bool = False,
                           minimum: int = SMALL_GROUP_DEFAULT) -> dict:
    """Province, unit, level and domain indices of the campaign (cached per DataState and threshold, computed
    once at a time). Officials' answers of units with fewer than `minimum` are in no figure (suppression.py)."""
    state = await data_state(campaign["id"], without_excluded)
    minimum = minimum if campaign["mode"] == "invitation" else 0  # citizens' figures do not depend on it
    return await cached_or_built(_figures, (state, minimum),
                                 lambda: _computed_figures(campaign["code"], state, minimum))


async def _computed_figures(campaign_code: str, state: DataState, minimum: int) -> dict:
    try:
        _, scoring, frame = await campaign_frame(campaign_code)
    except AnalysisCommandError as error:
        raise NotEnoughData(str(error)) from error
    frame = frame[~frame["response_id"].isin(state.excluded)].reset_index(drop=True)
    frame, left_out = publishable(frame, officials=minimum > 0, minimum=minimum)
    if len(frame) < 2:
        raise NotEnoughData(f"campaign {campaign_code}: fewer than 2 responses remain after exclusions")
    return {**await asyncio.to_thread(compute_figures, frame, scoring), "left_out": left_out}


def compute_figures(frame: pd.DataFrame, scoring: dict) -> dict:
    """Everything the dashboard shows that analysis/ computes, as plain dicts."""
    design, note = design_of(frame)
    by = {name: {str(key): result.to_dict() for key, result in
                 compute_indices_by(frame, scoring, name, design=design).items()}
          for name in ("unit", "level", "domain")}
    return {"province": compute_indices(frame, scoring, design=design).to_dict(), "by": by, "design": note,
            "responses": len(frame), "scoring": scoring, "frame": frame}


def is_suppressed(group: dict | None, threshold: int) -> bool:
    """Fewer responses than `threshold` (SUPPRESS_BELOW) in the group: no figure is shown ("không đủ số phiếu")."""
    return group is None or group["response_count"] < threshold


def ranked_units(by_unit: dict, units: list[dict], threshold: int, left_out: Iterable = ()) -> list[dict]:
    """Units with their index (and the `left_out` ones, without); rank 1 = highest overall among units with
    enough responses, ties share a rank."""
    rows = [{**unit, "index": by_unit.get(unit["code"]),
             "suppressed": is_suppressed(by_unit.get(unit["code"]), threshold)}
            for unit in units if unit["code"] in by_unit or unit["code"] in left_out]
    ranked = sorted((row for row in rows if not row["suppressed"] and row["index"]["overall"] is not None),
                    key=lambda row: -row["index"]["overall"])
    for position, row in enumerate(ranked):
        previous = ranked[position - 1] if position else None
        same = previous and previous["index"]["overall"] == row["index"]["overall"]
        row["rank"] = previous["rank"] if same else position + 1
    unranked = [row for row in rows if "rank" not in row]
    return ranked + sorted(unranked, key=lambda row: row["code"])


async def unit_rows() -> list[dict]:
    return await Unit.select(Unit.id, Unit.code, Unit.name, Unit.level, Unit.parent).order_by(Unit.id)


async def domain_names() -> dict[str, str]:
    return {row["code"]: row["name"] for row in await Domain.select(Domain.code, Domain.name)}


async def campaign_by_code(code: str) -> dict | None:
    return await Campaign.select(*Campaign.all_columns(), Campaign.questionnaire.key.as_alias("questionnaire_key"),
                                 Campaign.questionnaire.version.as_alias("questionnaire_version"),
                                 Campaign.questionnaire.title.as_alias("questionnaire_title")) \
        .where(Campaign.code == code).first()


def published(campaign: dict) -> bool:
    """Whether pages beyond the analyst's may show the campaign's figures: officials' answers only once the
    campaign is closed (for good), since live figures give each new answer or exclusion away by difference."""
    return campaign["mode"] != "invitation" or campaign["status"] == "closed"


async def trend(campaign: dict, without_excluded: bool = False, minimum: int = SMALL_GROUP_DEFAULT,
                pick=None, published_only: bool = False) -> list[dict]:
    """The province index (or `pick(figures, that_campaign)`) in every campaign of the same questionnaire key,
    oldest first (`published_only`: the campaigns `published` allows)."""
    earlier = await Campaign.select().where(Campaign.questionnaire.is_in(
        Questionnaire.select(Questionnaire.id).where(Questionnaire.key == campaign["questionnaire_key"]))) \
        .order_by(Campaign.starts_on).order_by(Campaign.id)
    points = []
    for other in earlier:
        if other["starts_on"] > campaign["starts_on"] or (published_only and not published(other)):
            continue
        try:
            figures = await campaign_figures(other, without_excluded, minimum)
        except NotEnoughData:
            continue
        points.append({"code": other["code"], "name": other["name"], "starts_on": other["starts_on"],
                       "current": other["id"] == campaign["id"],
                       "index": await asyncio.to_thread(pick, figures, other) if pick else figures["province"]})
    return points
