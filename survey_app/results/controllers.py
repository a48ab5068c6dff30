"""Results pages and the JSON index endpoint."""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from survey_app.accounts import PUBLIC

from survey_app.results.services import campaign_choices, unit_index, units_overview


class ResultsController(Controller):
    path = "/results"
    opt = PUBLIC

    @get()
    async def overview(self) -> Template:
        return Template(template_name="results_overview.html", context={"units": await units_overview()})

    @get("/{unit_code:str}")
    async def unit(self, state: State, unit_code: FromPath[str], campaign: FromQuery[str | None] = None) -> Template:
        context = await unit_index(unit_code, campaign, state.settings.suppress_below)
        return Template(template_name="results_unit.html",
                        context={**context, "campaigns": await campaign_choices(unit_code)})


class IndexApiController(Controller):
    path = "/api/v1/units"
    opt = PUBLIC

    @get("/{unit_code:str}/index")
    async def index(self, state: State, unit_code: FromPath[str], campaign: FromQuery[str | None] = None) -> dict:
        """SIPAS-style index of a unit and the units below it: share of 4–5 answers among valid answers.
        Officials' answers are withheld ("index": null) for fewer responses than SUPPRESS_BELOW."""
        return await unit_index(unit_code, campaign, state.settings.suppress_below)
