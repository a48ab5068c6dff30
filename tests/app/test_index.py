"""The unit's index changes exactly as the SIPAS rule says when answers arrive (share of 4–5, N/A left out)."""

from __future__ import annotations

import dataclasses
import uuid

import httpx
import pytest

from survey_app.core.tables import Campaign, Counter, Response, Unit
from tests.app.analyst_helpers import officials_parent_and_child
from tests.app.helpers import counter_definition, filled_form, form_path, started_app
from tests.app.test_sample_cli import make_campaign


@pytest.fixture(scope="module")
async def fresh_counter(app, settings):
    """A unit of its own under the demo province, so the expected index is known exactly."""
    province = await Unit.select(Unit.id).where(Unit.code == "DEMO").first()
    unit = Unit(code="TEST-IDX", name="Xã Kiểm Thử", level="xa", parent=province["id"])
    await unit.save()
    counter = Counter(code="TEST-IDX-Q1", unit=unit.id, name="Quầy kiểm thử")
    await counter.save()
    return form_path(settings, "TEST-IDX-Q1")


async def index_of(client, unit_code: str, campaign_code: str = "QUAY-2026") -> dict:
    response = await client.get(f"/api/v1/units/{unit_code}/index", params={"campaign": campaign_code})
    assert response.status_code == 200, response.text
    return response.json()


async def test_index_follows_the_share_of_satisfied_answers(client, fresh_counter):
    definition = counter_definition()
    for rating in ("5", "2", "na"):  # 1 satisfied of 2 valid answers per item: N/A is not in the denominator
        assert (await client.post(fresh_counter, data=filled_form(definition, rating=rating))).status_code == 303
    first = await index_of(client, "TEST-IDX")
    assert first["index"]["response_count"] == 3
    assert first["index"]["overall"] == pytest.approx(50.0)

    await client.post(fresh_counter, data=filled_form(definition, rating="4"))
    second = await index_of(client, "TEST-IDX")
    assert second["index"]["overall"] == pytest.approx(200 / 3)
    assert all(factor["value"] == pytest.approx(200 / 3) for factor in second["index"]["factors"])


async def test_results_page_shows_the_index_with_a_decimal_comma(client, fresh_counter):
    page = await client.get("/results/TEST-IDX", params={"campaign": "QUAY-2026"})
    assert page.status_code == 200
    assert "Xã Kiểm Thử" in page.text and 'id="overall-index"' in page.text


async def test_province_index_covers_the_units_below_it(client):
    province = await index_of(client, "DEMO")
    department = await index_of(client, "SO01")
    assert province["index"]["response_count"] > department["index"]["response_count"] > 0


@pytest.mark.parametrize("path,status", [
    ("/api/v1/units/NOPE/index", 404),
    ("/api/v1/units/SO01/index?campaign=NOPE", 404),
    ("/results/NOPE", 404),
])
async def test_unknown_unit_or_campaign(client, path, status):
    response = await client.get(path)
    assert response.status_code == status
    if path.startswith("/api/"):
        body = response.json()
        assert body["ok"] is False and body["status"] == 404 and body["error"]


async def test_officials_answers_of_a_small_unit_are_withheld_from_the_public_index(app, client, settings):
    code = await make_campaign(f"PAR-SMALL-{uuid.uuid4().hex[:6]}")
    campaign = await Campaign.select().where(Campaign.code == code).first()
    unit = await Unit.select().where(Unit.code == "SO02").first()
    for number in range(settings.suppress_below - 1):  # one fewer than the threshold
        await Response.insert(Response(campaign=campaign["id"], unit=unit["id"], questionnaire=campaign["questionnaire"],
                                       idempotency_key=f"{code}-{number}", answers_digest="d", answers={},
                                       channel="invitation"))
    await Campaign.update({Campaign.status: "closed"}).where(Campaign.id == campaign["id"])
    withheld = (await client.get("/api/v1/units/SO02/index", params={"campaign": code})).json()
    page = await client.get("/results/SO02", params={"campaign": code})
    assert withheld["index"] is None and withheld["suppressed_below"] == settings.suppress_below
    assert "Không đủ số phiếu" in page.text and 'id="overall-index"' not in page.text

    lower = dataclasses.replace(settings, suppress_below=settings.suppress_below - 1)
    async with started_app(app, lower) as lenient, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=lenient), base_url="http://t") as other:
        shown = (await other.get("/api/v1/units/SO02/index", params={"campaign": code})).json()
    assert shown["index"]["response_count"] == settings.suppress_below - 1 and shown["suppressed_below"] is None


async def test_a_small_units_officials_answers_are_in_no_published_figure(app, client, settings):
    """A parent commune with 2 answers of its own above a child commune with 5: the parent's figure, the child's
    and the province's all hold the child's 5 and nothing else, so no subtraction reaches the parent's 2."""
    exposed = await officials_parent_and_child(2, settings.suppress_below)
    for unit_code in (exposed["parent"], exposed["child"], "DEMO"):
        index = (await index_of(client, unit_code, exposed["campaign"]))["index"]
        assert index["response_count"] == settings.suppress_below, unit_code


async def test_a_small_child_is_withheld_and_left_out_of_its_parent_and_the_province(app, client, settings):
    """A district-like parent with 10 answers of its own and a child with 3: the parent and the province show the
    parent's 10 only (13·P − 10·own would otherwise give the child's 3 away), the child shows nothing."""
    exposed = await officials_parent_and_child(10, 3)
    of_child = await index_of(client, exposed["child"], exposed["campaign"])
    assert of_child["index"] is None and of_child["suppressed_below"] == settings.suppress_below
    for unit_code in (exposed["parent"], "DEMO"):
        assert (await index_of(client, unit_code, exposed["campaign"]))["index"]["response_count"] == 10


async def test_an_open_officials_campaign_is_published_only_once_closed(app, client, settings):
    """Live figures would give each new answer (or exclusion) away by difference: 5 answers, then a 6th."""
    exposed = await officials_parent_and_child(settings.suppress_below, settings.suppress_below)
    await Campaign.update({Campaign.status: "open"}).where(Campaign.code == exposed["campaign"])
    live = await index_of(client, exposed["child"], exposed["campaign"])
    assert live["index"] is None and live["published_when_closed"] and live["suppressed_below"] is None
    page = await client.get(f"/results/{exposed['child']}", params={"campaign": exposed["campaign"]})
    assert "được công bố sau khi đợt khảo sát kết thúc" in page.text and 'id="overall-index"' not in page.text
    await Campaign.update({Campaign.status: "closed"}).where(Campaign.code == exposed["campaign"])
    closed = await index_of(client, exposed["child"], exposed["campaign"])
    assert closed["index"]["response_count"] == settings.suppress_below and not closed["published_when_closed"]
