"""Issue #25: a unit whose officials all answered 5 has index 100 everywhere. Its mean of seven factor shares of
1.0 was 99.99999999999999 with a lower CI bound of 100.0: the dashboard, report.pdf, report.html and
`survey report` failed (negative error bar, 500) and the public API showed 99.99999999999999."""

from __future__ import annotations

import pytest

from survey_app.exports.report import write_report
from survey_app.core.tables import Unit
from tests.app.analyst_helpers import answer_and_close, scored_officials_campaign, signed_in_client

OFFICIALS_PER_UNIT = 6


@pytest.fixture(scope="module")
async def all_five(app) -> dict:
    """A closed officials' campaign: unit A's officials all answered 5, unit B's alternate 4 and 2."""
    campaign, items, province = await scored_officials_campaign("ALL5")
    code = campaign["code"]
    units = {}
    for name in ("A", "B"):
        unit = Unit(code=f"{name}-{code}", name=f"Xã {name} {code}", level="xa", parent=province)
        await unit.save()
        units[name] = unit
    await answer_and_close(campaign, {units["A"].id: [{item: 5 for item in items}] * OFFICIALS_PER_UNIT,
                                      units["B"].id: [{item: 4 if number % 2 else 2 for item in items}
                                                      for number in range(OFFICIALS_PER_UNIT)]})
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
