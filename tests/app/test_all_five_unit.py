"""Issue #25: a unit whose officials all answered 5 has index 100 everywhere. Its mean of seven factor shares of
1.0 was 99.99999999999999 with a lower CI bound of 100.0: the dashboard, report.pdf, report.html and
`survey report` failed (negative error bar, 500) and the public API showed 99.99999999999999."""

from __future__ import annotations

import json
import uuid

import pytest

from survey_app.campaigns.catalog import definition_of
from survey_app.exports.report import write_report
from survey_app.core.tables import Campaign, Questionnaire, Response, Unit
from tests.app.analyst_helpers import signed_in_client
from tests.app.test_sample_cli import make_campaign

OFFICIALS_PER_UNIT = 6


@pytest.fixture(scope="module")
async def all_five(app) -> dict:
    """A closed officials' campaign: unit A's officials all answered 5, unit B's alternate 4 and 2."""
    code = await make_campaign(f"ALL5-{uuid.uuid4().hex[:6]}")
    campaign = await Campaign.select().where(Campaign.code == code).first()
    questionnaire = await Questionnaire.select().where(Questionnaire.id == campaign["questionnaire"]).first()
    scoring = definition_of(questionnaire).scoring_dict()
    items = [item for factor in scoring["factors"] for criterion in factor["criteria"] for item in criterion["items"]]
    province = await Unit.select(Unit.id).where(Unit.code == "DEMO").first()
    units = {}
    for name in ("A", "B"):
        unit = Unit(code=f"{name}-{code}", name=f"Xã {name} {code}", level="xa", parent=province["id"])
        await unit.save()
        units[name] = unit
    responses = [Response(campaign=campaign["id"], unit=units[name].id, questionnaire=campaign["questionnaire"],
                          idempotency_key=uuid.uuid4().hex, answers_digest="d", channel="invitation",
                          answers=json.dumps({item: rating(number) for item in items}))
                 for name, rating in (("A", lambda number: 5), ("B", lambda number: 4 if number % 2 else 2))
                 for number in range(OFFICIALS_PER_UNIT)]
    await Response.insert(*responses)
    await Campaign.update({Campaign.status: "closed"}).where(Campaign.id == campaign["id"])
    return {"campaign": code, "unit": units["A"].code}


async def test_the_dashboard_shows_the_all_5_unit_at_100(app, all_five):
    client = await signed_in_client(app, "analyst")
    try:
        for query in ("", "?excluded=without"):
            page = await client.get(f"/analyst/campaigns/{all_five['campaign']}/dashboard{query}")
            assert page.status_code == 200, page.text[:300]
            assert "100,0 %" in page.text and "99,9" not in page.text
        for name in ("report.pdf", "report.html"):
            report = await client.get(f"/analyst/campaigns/{all_five['campaign']}/{name}")
            assert report.status_code == 200, report.text[:300]
    finally:
        await client.aclose()


async def test_survey_report_writes_the_report_with_the_all_5_unit(all_five, settings, tmp_path):
    written = await write_report(all_five["campaign"], tmp_path, minimum=settings.suppress_below)
    assert {path.name for path in written} == {"report.html", "report.pdf"}
    assert "100,0" in (tmp_path / "report.html").read_text(encoding="utf-8")


async def test_the_public_api_and_page_show_100(client, all_five):
    api = await client.get(f"/api/v1/units/{all_five['unit']}/index", params={"campaign": all_five["campaign"]})
    assert api.status_code == 200
    assert api.json()["index"]["overall"] == 100
    page = await client.get(f"/results/{all_five['unit']}", params={"campaign": all_five["campaign"]})
    assert page.status_code == 200 and "100,0" in page.text and "99,9" not in page.text


def test_error_bars_are_never_negative_even_for_a_bound_on_the_wrong_side():
    from survey_app.results.charts import error_bars

    bars = error_bars([99.99999999999999, 50.0, 0.0], [100.0, None, 0.0], [100.0, 60.0, 0.0])
    assert bars.tolist() == [[0.0, 0.0, 0.0], [pytest.approx(1.4e-14, abs=1e-13), 10.0, 0.0]]


async def test_officials_ratings_are_not_titled_a_satisfaction_index(client, all_five):
    """Issue #25: officials rate the quality of reform work (Kém … Rất tốt); the public page called it
    "Chỉ số hài lòng" as if citizens' satisfaction."""
    page = await client.get(f"/results/{all_five['unit']}", params={"campaign": all_five["campaign"]})
    assert "Chỉ số đánh giá của công chức" in page.text and "hài lòng" not in page.text.lower()
    citizens = await client.get("/results/SO01", params={"campaign": "QUAY-2026"})
    assert "Chỉ số hài lòng" in citizens.text
