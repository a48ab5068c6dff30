"""A unit manager sees their unit (and units below) beside the province; another unit answers 403, logged."""

from __future__ import annotations

import dataclasses

import pytest_asyncio

from analysis.sipas import compute_indices_by
from survey_app.results.dashboard import campaign_by_code, campaign_figures
from survey_app.results.frames import design_of
from survey_app.accounts.users import create_user
from survey_app.campaigns.demo import DEMO_PASSWORD
from tests.app.analyst_helpers import (
    last_audit, officials_parent_and_child, shown_counts, shown_percent, signed_in_client,
)
from tests.app.helpers import started_app


@pytest_asyncio.fixture(scope="module")
async def managers(app):
    clients = {name: await signed_in_client(app, name) for name in ("so01", "h01")}
    yield clients
    for client in clients.values():
        await client.aclose()


async def expected_scope(unit_codes: set[str]) -> tuple[dict, dict]:
    """The unit-and-below index as a domain of the whole campaign design, and the province index."""
    figures = await campaign_figures(await campaign_by_code("QUAY-2026"), without_excluded=True)
    frame = figures["frame"]
    labels = frame["unit"].isin(unit_codes).map({True: "in", False: "out"})
    scope = compute_indices_by(frame, figures["scoring"], labels, design=design_of(frame)[0])["in"]
    return scope.to_dict(), figures["province"]


async def test_the_manager_home_goes_to_their_unit(managers):
    response = await managers["so01"].get("/manager")
    assert response.status_code == 302 and response.headers["location"] == "/manager/units/SO01"


async def test_own_unit_beside_the_province(managers):
    page = (await managers["so01"].get("/manager/units/SO01?campaign=QUAY-2026")).text
    scope, province = await expected_scope({"SO01"})
    assert shown_percent(scope["overall"]) in page.split('id="scope-row"')[1].split("</tr>")[0]
    assert shown_percent(province["overall"]) in page.split('id="province-row"')[1].split("</tr>")[0]


async def test_a_district_manager_sees_its_communes_in_its_figure(managers):
    page = await managers["h01"].get("/manager/units/H01?campaign=QUAY-2026")
    scope, _ = await expected_scope({"H01", "H01X1", "H01X2"})
    assert page.status_code == 200 and 'data-unit="H01X1"' in page.text
    assert shown_percent(scope["overall"]) in page.text.split('id="scope-row"')[1].split("</tr>")[0]
    assert (await managers["h01"].get("/manager/units/H01X2")).status_code == 200


async def test_another_units_page_is_refused_and_logged(managers):
    for client, other in ((managers["so01"], "SO02"), (managers["h01"], "H02"), (managers["so01"], "H01X1"),
                          (managers["so01"], "NO-SUCH-UNIT")):
        response = await client.get(f"/manager/units/{other}")
        assert response.status_code == 403, other
        assert "không có quyền" in response.text
        entry = await last_audit("access_denied")
        assert entry["target"] == f"GET /manager/units/{other}" and other in entry["detail"]


def scope_row(page: str) -> str:
    return page.split('id="scope-row"')[1].split("</tr>")[0]


async def test_a_raised_suppress_below_hides_the_managers_own_figure(app, settings, managers):
    scope, _ = await expected_scope({"SO01"})
    path = "/manager/units/SO01?campaign=QUAY-2026"
    assert shown_percent(scope["overall"]) in scope_row((await managers["so01"].get(path)).text)
    strict_settings = dataclasses.replace(settings, suppress_below=scope["response_count"] + 1)
    async with started_app(app, strict_settings) as strict:
        strict_client = await signed_in_client(strict, "so01")
        row = scope_row((await strict_client.get(path)).text)
        await strict_client.aclose()
    assert "không đủ số phiếu" in row and shown_percent(scope["overall"]) not in row


async def parent_managers_page(app, units: dict) -> str:
    """The page of the parent commune's manager (a new account) for the campaign."""
    username = f"m-{units['parent']}".lower()
    await create_user(username, DEMO_PASSWORD, "unit_manager", units["parent"])
    client = await signed_in_client(app, username)
    page = (await client.get(f"/manager/units/{units['parent']}", params={"campaign": units["campaign"]})).text
    await client.aclose()
    return page


async def test_officials_answers_of_the_unit_itself_are_in_no_figure_of_its_managers_page(app, settings):
    """The parent's 2 answers of its own: its row shows nothing, and its unit-and-below figure, the child's and the
    province's hold the child's 5 only, so neither subtraction nor the public index gives the 2 away."""
    exposed = await officials_parent_and_child(2, settings.suppress_below)
    page = await parent_managers_page(app, exposed)
    assert "không đủ số phiếu" not in scope_row(page) and 'id="manager-factors"' in page
    assert "không đủ số phiếu" in page.split(f'data-unit="{exposed["parent"]}"')[1].split("</tr>")[0]
    assert "không đủ số phiếu" not in page.split(f'data-unit="{exposed["child"]}"')[1].split("</tr>")[0]
    assert shown_counts(page) == {settings.suppress_below}


async def test_a_unit_whose_own_answers_are_enough_keeps_its_figure(app, settings):
    fine = await officials_parent_and_child(settings.suppress_below, settings.suppress_below)
    page = await parent_managers_page(app, fine)
    assert "không đủ số phiếu" not in scope_row(page) and 'id="manager-factors"' in page
