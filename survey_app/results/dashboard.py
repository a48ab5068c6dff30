"""A campaign's indices for the dashboard: province, unit, level and domain with 95 % CIs, ranking, targets, trend.

Every figure comes from survey_app/results/figures.py (one definition for every page), computed from the campaign's stored
sums, not from its answers. The figure set of a campaign state is kept in a small in-process cache; building it
(a few hundred small matrix products) runs in a thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

import pandas as pd
from cachetools import LRUCache

from survey_app.core import worker_process
from survey_app.results import figures as published_figures
from survey_app.core.campaign_tables import QualityReview
from survey_app.results.figures import NotEnoughData, data_state, excluded_ids  # noqa: F401 (pages import them from here)
from survey_app.core.settings import SMALL_GROUP_DEFAULT
from survey_app.core.single_flight import cached_or_built
from survey_app.core.tables import Campaign, Domain, Questionnaire, Response, Unit


_figures: LRUCache = LRUCache(maxsize=32)  # per worker: each computes its own copy
_last: LRUCache = LRUCache(maxsize=64)  # (campaign id, without excluded, minimum) → (made at, the figures)
_refreshing: dict[tuple, asyncio.Task] = {}  # the same key → the newer figures being made


def not_excluded():
    """A where-condition on Response: not excluded in the quality review (what every published figure counts)."""
    return Response.id.not_in(QualityReview.select(QualityReview.response).where(QualityReview.decision == "exclude"))


async def without_excluded(campaign_id: int, frame: pd.DataFrame) -> pd.DataFrame:
    """A campaign frame without the responses the analyst excluded."""
    return frame[~frame["response_id"].isin(await excluded_ids(campaign_id))].reset_index(drop=True)


async def campaign_figures(campaign: dict, without_excluded: bool = True, minimum: int = SMALL_GROUP_DEFAULT,
                           max_age: float = 0.0) -> dict:
    """Province, unit, level and domain indices of the campaign as figures.py defines them (`without_excluded`
    False: the analyst's labelled view with the excluded responses put back). Officials' answers of units with fewer
    than `minimum` are in no figure (suppression.py). `max_age` > 0 (public pages, RESULTS_MAX_AGE_SECONDS): the
    figures this worker made last, if at most that old, else those same figures while newer ones are made."""
    if max_age > 0:
        return await _recent_figures(campaign, without_excluded, minimum, max_age)
    figures = await _current_figures(campaign, without_excluded, minimum)
    _last[(campaign["id"], without_excluded, minimum)] = (time.monotonic(), figures)
    return figures


async def _recent_figures(campaign: dict, without_excluded: bool, minimum: int, max_age: float) -> dict:
    key = (campaign["id"], without_excluded, minimum)
    made_at, figures = _last.get(key, (None, None))
    if figures is None:
        return await campaign_figures(campaign, without_excluded, minimum)
    if time.monotonic() - made_at > max_age and key not in _refreshing:
        task = _refreshing[key] = asyncio.ensure_future(campaign_figures(campaign, without_excluded, minimum))
        task.add_done_callback(lambda done: (_refreshing.pop(key, None), done.cancelled() or done.exception()))
    return figures


async def _current_figures(campaign: dict, without_excluded: bool, minimum: int) -> dict:
    minimum = minimum if campaign["mode"] == "invitation" else 0  # citizens' figures do not depend on it
    cells = await published_figures.campaign_cells(campaign, minimum, with_excluded=not without_excluded)
    units = await unit_rows()
    key = (campaign["id"], id(cells), tuple((unit["id"], unit["code"], unit["parent"]) for unit in units))
    # the cached value refers to `cells`, so its id is not reused while the entry lives
    figures = await cached_or_built(_figures, key, lambda: worker_process.run(published_figures.figure_set, cells, units))
    if figures["responses"] < 2:
        raise NotEnoughData(f"campaign {campaign['code']}: fewer than 2 responses are counted")
    return figures


async def warm_figures(minimum: int = SMALL_GROUP_DEFAULT) -> None:
    """Fold every campaign's new answers and make its published figures, before a server takes requests (`survey
    serve`): the first visitor of the public results then waits for nothing."""
    await published_figures.refresh_every_campaign()
    for campaign in await Campaign.select().order_by(Campaign.id):
        if published(campaign):
            try:
                await campaign_figures(campaign, True, minimum)
            except NotEnoughData:
                continue


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


async def trend(campaign: dict, without_excluded: bool = True, minimum: int = SMALL_GROUP_DEFAULT,
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
