"""The Decision 766 feed as JSON (`/api/v1/decision-766`) and CSV (`/api/v1/decision-766.csv`): staff sign-in or an
API token with the "results" scope; a unit manager sees their own units only."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, MediaType, Request, Response, get
from litestar.params import QueryParameter

from survey_app.accounts import access
from survey_app.core.errors import error_body
from survey_app.results.decision_766 import Period, PeriodRefused, feed, feed_csv

FROM = Annotated[str | None, QueryParameter(query="from", description="first day, dd/mm/yyyy or yyyy-mm-dd")]
TO = Annotated[str | None, QueryParameter(query="to", description="last day, dd/mm/yyyy or yyyy-mm-dd")]
UNIT = Annotated[str | None, QueryParameter(query="unit", description="one unit's code")]
PERIOD_HELP = "from, to: dd/mm/yyyy or yyyy-mm-dd (Vietnam's days; default: this year up to today)"


async def feed_or_refusal(request: Request, starts: str | None, ends: str | None, unit: str | None):
    try:
        period = Period.from_query(starts, ends)
    except PeriodRefused as refused:
        return Response(error_body(422, refused.message), status_code=422, media_type=MediaType.JSON)
    return await feed(period, unit, request.user.unit_ids)


class Decision766Controller(Controller):
    path = "/api/v1"
    opt = access("admin", "analyst", "unit_manager")

    @get("/decision-766", description=PERIOD_HELP)
    async def as_json(self, request: Request, starts: FROM = None, ends: TO = None,
                      unit: UNIT = None) -> Response:
        """Per unit: the satisfaction group's components (valid and satisfied ratings, percent, points) and total."""
        result = await feed_or_refusal(request, starts, ends, unit)
        return result if isinstance(result, Response) else Response(result, media_type=MediaType.JSON)

    @get("/decision-766.csv", description=PERIOD_HELP)
    async def as_csv(self, request: Request, starts: FROM = None, ends: TO = None,
                     unit: UNIT = None) -> Response:
        result = await feed_or_refusal(request, starts, ends, unit)
        if isinstance(result, Response):
            return result
        return Response(feed_csv(result), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="decision-766.csv"'})
