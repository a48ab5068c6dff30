"""One definition of a published figure (survey_app/results/figures.py): the dashboard, the report, the manager view, the
public results page and the index API give a unit the same figure, count and 95 % CI: the unit with the units below
it, without the excluded responses, weighted by the campaign's design (issues #18 and #25)."""

from __future__ import annotations

import pytest_asyncio

from survey_app.results.dashboard import campaign_by_code
from survey_app.core.campaign_tables import QualityReview
from survey_app.exports.report import build_report
from survey_app.results.figures import fold_again
from survey_app.core.tables import Response, Unit
from tests.app.analyst_helpers import shown_interval, shown_percent, signed_in_client, table_row

CAMPAIGN, DISTRICT = "SIPAS-2026", "H01"


@pytest_asyncio.fixture(scope="module")
async def weighted_with_an_exclusion(app):
    """Unequal weights (1, 2 or 3) and one excluded response of the district's commune: the three ways the pages
    used to differ (unit alone or with its communes, excluded counted or not, weighted or not)."""
    campaign = await campaign_by_code(CAMPAIGN)
    district = await Unit.select(Unit.id).where(Unit.code == DISTRICT).first()
    commune = await Response.select(Response.id).where(
        (Response.campaign == campaign["id"]) & (Response.unit.parent == district["id"])).first()
    rows = await Response.select(Response.id, Response.weight).where(Response.campaign == campaign["id"])
    for row in rows:
        await Response.update({Response.weight: 1.0 + row["id"] % 3}).where(Response.id == row["id"])
    await fold_again(campaign["id"])
    await QualityReview.insert(QualityReview(campaign=campaign["id"], response=commune["id"], decision="exclude",
                                             reviewed_by="analyst"))
    yield
    await QualityReview.delete().where(QualityReview.response == commune["id"])
    for row in rows:
        await Response.update({Response.weight: row["weight"]}).where(Response.id == row["id"])
    await fold_again(campaign["id"])


async def test_every_page_gives_a_district_the_same_figure_count_and_interval(app, client, weighted_with_an_exclusion):
    api = (await client.get(f"/api/v1/units/{DISTRICT}/index", params={"campaign": CAMPAIGN})).json()["index"]
    figure, count = shown_percent(api["overall"]), api["response_count"]
    ci = shown_interval(api["ci_low"], api["ci_high"])
    report = next(row for row in (await build_report(CAMPAIGN)).units if row.code == DISTRICT)
    assert (shown_percent(report.overall), report.responses, shown_interval(report.ci_low, report.ci_high)) == \
        (figure, count, ci)
    analyst, manager = await signed_in_client(app, "analyst"), await signed_in_client(app, "h01")
    try:
        dashboard = table_row((await analyst.get(f"/analyst/campaigns/{CAMPAIGN}/dashboard")).text, "data-unit", DISTRICT)
        managers = (await manager.get(f"/manager/units/{DISTRICT}?campaign={CAMPAIGN}")).text
    finally:
        await analyst.aclose()
        await manager.aclose()
    scope = managers.split('id="scope-row"')[1].split("</tr>")[0]
    public = (await client.get(f"/results/{DISTRICT}", params={"campaign": CAMPAIGN})).text
    for page in (dashboard, scope):
        assert f'<td class="num">{figure}</td><td class="num">{ci}</td><td class="num">{count}</td>' in page
    assert f'id="overall-index">{figure}<' in public and f'id="overall-ci">{ci}<' in public
    assert f'id="response-count">{count}<' in public
