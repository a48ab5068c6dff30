"""A unit manager's view: their unit (and the units below it) beside the province, with trend. Every query here is
limited to the manager's `unit_ids`; a unit outside them is simply not found, and the controller answers 403."""

from __future__ import annotations

import asyncio

import pandas as pd

from analysis.sipas import compute_indices_by
from survey_app.results.dashboard import (
    NotEnoughData,
    campaign_by_code,
    campaign_figures,
    is_suppressed,
    published,
    trend,
)
from survey_app.campaigns.services import COMMON
from survey_app.results.frames import design_of
from survey_app.units.unit_changes import mapped_codes, predecessors_of
from survey_app.results.services import unit_and_descendant_ids
from survey_app.core.tables import Campaign, Response, Unit

SCOPE = "scope"


async def scoped_unit(unit_code: str, unit_ids: frozenset[int]) -> dict | None:
    """The unit, only when it is one the manager may see (the filter is in the query, not in a template)."""
    return await Unit.select().where((Unit.code == unit_code) & Unit.id.is_in(sorted(unit_ids))).first()


async def scope_units(unit: dict, unit_ids: frozenset[int]) -> list[dict]:
    """The unit and every unit below it that the manager may see."""
    ids = [unit_id for unit_id in await unit_and_descendant_ids(unit["id"]) if unit_id in unit_ids]
    return await Unit.select(Unit.id, Unit.code, Unit.name, Unit.level).where(Unit.id.is_in(ids)).order_by(Unit.id)


async def campaigns_of(unit_ids: list[int]) -> list[dict]:
    """Campaigns with responses from these units, newest first."""
    with_answers = Response.select(Response.campaign).where(Response.unit.is_in(unit_ids))
    return await Campaign.select().where(Campaign.id.is_in(with_answers)) \
        .order_by(Campaign.starts_on, ascending=False).order_by(Campaign.id, ascending=False)


def scope_index(figures: dict, unit_codes: set[str]) -> dict | None:
    """The index of the unit together with the units below it, as a domain of the whole campaign design."""
    frame = figures["frame"]
    labels = pd.Series(frame["unit"].isin(unit_codes).map({True: SCOPE, False: "other"}).to_numpy())
    if not (labels == SCOPE).any():
        return None
    design, _ = design_of(frame)
    return compute_indices_by(frame, figures["scoring"], labels, design=design)[SCOPE].to_dict()


def scope_point(figures: dict, unit_codes: set[str], threshold: int, campaign: dict | None = None,
                earlier: list[dict] = ()) -> dict | None:
    """A trend point: the scope's index in another campaign, and whether it has too few answers to show. Units
    merged into (or split from) the scope count for campaigns before their change took effect (`mapped`)."""
    used = []
    if campaign is not None:
        unit_codes, used = mapped_codes(unit_codes, campaign["starts_on"], list(earlier))
    scope = scope_index(figures, unit_codes)
    return scope and {**scope, "suppressed": is_suppressed(scope, threshold), "mapped": used}


async def comments_view(unit: dict, unit_ids: frozenset[int], campaign_code: str, search: str, page: int,
                        threshold: int) -> dict:
    """The comments of the manager's units in one campaign, under the same rules as their figures: officials'
    comments only once the campaign has closed, none from a unit with fewer than `threshold` answers."""
    from survey_app.campaigns import comments

    units = await scope_units(unit, unit_ids)
    campaigns = await campaigns_of([row["id"] for row in units])
    chosen = next((c for c in campaigns if c["code"] == campaign_code), campaigns[0] if campaigns else None)
    context = {"unit": unit, "campaigns": campaigns, "campaign": chosen, "search": search, "unit_filter": "",
               "threshold": threshold,
               "units": units, **COMMON}
    if chosen is None or not published(chosen):
        return {**context, "until_closed": chosen is not None}
    found = await comments.campaign_comments(chosen, threshold, [row["id"] for row in units])
    return {**context, **found, **comments.page_of(comments.matching(found["comments"], search), page)}


async def manager_view(unit: dict, unit_ids: frozenset[int], campaign_code: str | None, threshold: int) -> dict:
    """The manager's page; a group with fewer than `threshold` responses (SUPPRESS_BELOW) shows no figure, and
    officials' answers of a unit with fewer are in no figure at all (survey_app/results/suppression.py)."""
    units = await scope_units(unit, unit_ids)
    campaigns = await campaigns_of([row["id"] for row in units])
    chosen = next((c for c in campaigns if c["code"] == campaign_code), campaigns[0] if campaigns else None)
    context = {"unit": unit, "campaigns": campaigns, "campaign": chosen, "threshold": threshold, **COMMON}
    if chosen is None:
        return context
    campaign = await campaign_by_code(chosen["code"])
    if not published(campaign):
        return {**context, "campaign": campaign, "until_closed": True}
    try:
        figures = await campaign_figures(campaign, True, threshold)
    except NotEnoughData:
        return {**context, "error": True}
    codes = {row["code"] for row in units}
    earlier = await predecessors_of(codes)
    scope = await asyncio.to_thread(scope_index, figures, codes)  # pandas: off the event loop
    by_unit = figures["by"]["unit"]
    rows = [{**row, "index": by_unit.get(row["code"]), "suppressed": is_suppressed(by_unit.get(row["code"]), threshold),
             "answered": row["code"] in by_unit or row["code"] in figures["left_out"]} for row in units]
    return {**context, "campaign": campaign, "scope": scope, "province": figures["province"], "unit_rows": rows,
            "scope_suppressed": is_suppressed(scope, threshold),
            "trend": await trend(campaign, True, threshold, published_only=True, pick=lambda figures, other:
                                 scope_point(figures, codes, threshold, other, earlier)),
            "predecessors": earlier}
