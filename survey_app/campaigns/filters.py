"""The dashboard's filters: a level narrows the ranking to its units; a procedure domain or a period (days in
Vietnam) recomputes every figure on the page from the responses they keep, with the same design rule."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from dataclasses import dataclass

from survey_app.campaigns.services import parse_date
from survey_app.results import figures as published
from survey_app.results.dashboard import NotEnoughData
from survey_app.core.tables import Response
from survey_app.core.vietnam_time import VIETNAM_TIME

LEVELS = ("so", "huyen", "xa")


@dataclass(frozen=True)
class DashboardFilters:
    level: str = ""
    domain: str = ""
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None

    @classmethod
    def from_query(cls, level: str, domain: str, starts_on: str, ends_on: str) -> "DashboardFilters":
        """Unknown values are dropped, not refused: a filter link never breaks the page."""
        return cls(level if level in LEVELS else "", domain[:32], parse_date(starts_on), parse_date(ends_on))

    @property
    def narrows_responses(self) -> bool:
        return bool(self.domain or self.starts_on or self.ends_on)


def _moment(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=VIETNAM_TIME)


async def ids_in_period(campaign_id: int, filters: DashboardFilters) -> set[int]:
    """Responses submitted on the chosen days, counted in Vietnam's calendar."""
    query = Response.select(Response.id).where(Response.campaign == campaign_id)
    if filters.starts_on:
        query = query.where(Response.submitted_at >= _moment(filters.starts_on))
    if filters.ends_on:
        query = query.where(Response.submitted_at < _moment(filters.ends_on + dt.timedelta(days=1)))
    return {row["id"] for row in await query}


async def filtered_figures(campaign: dict, figures: dict, filters: DashboardFilters, without_excluded: bool,
                           units: list[dict]) -> dict:
    """The campaign's figures on the chosen domain and period, from the same stored sums as every published figure:
    a domain keeps its cells; a period sums its responses (the stored sums carry no dates). Officials' answers are
    published per whole campaign only (suppression.py), so a period never splits them."""
    cells = figures["cells"]
    if filters.starts_on or filters.ends_on:  # never on officials' campaigns (pages.dashboard drops it)
        ids = await ids_in_period(campaign["id"], filters)
        if without_excluded:
            ids -= set(await published.excluded_ids(campaign["id"]))
        cells = await published.cells_of_responses(campaign, sorted(ids))
    if filters.domain:
        cells = dataclasses.replace(cells, cells=tuple(cell for cell in cells.cells if cell.domain == filters.domain))
    if cells.responses < 2:
        raise NotEnoughData("fewer than 2 responses match the filters")
    return await asyncio.to_thread(published.figure_set, cells, units)
