"""The Decision 766 feed (JSON and CSV): per unit and period, the satisfaction group by the rule in its definition
file, with counts and the rule, checked against numbers computed by hand; days are Vietnam's; excluded responses
and other units' ratings stay out; a unit manager sees only their units."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid

import httpx
import pytest
import pytest_asyncio

from survey_app.accounts import api_tokens
from survey_app.core.campaign_tables import QualityReview
from survey_app.core.tables import Campaign, Response, Unit
from tests.app.helpers import app_client, sign_in

UTC = dt.timezone.utc
# (submitted at, UTC; answers; excluded by the analyst). 1 March 2025 00:30 in Vietnam is 28 Feb 17:30 UTC.
RATINGS = [
    (dt.datetime(2025, 3, 5, 3, 0, tzinfo=UTC), {"reception": 5, "publicity": 4, "timeliness": 2, "attitude": "na"}, False),
    (dt.datetime(2025, 3, 9, 3, 0, tzinfo=UTC), {"reception": 3, "publicity": 5, "timeliness": 4, "attitude": 1}, False),
    (dt.datetime(2025, 3, 20, 3, 0, tzinfo=UTC), {"reception": 4, "publicity": "na", "timeliness": 5, "attitude": 5}, False),
    (dt.datetime(2025, 2, 28, 17, 30, tzinfo=UTC), {"reception": "na", "publicity": "na", "timeliness": "na",
                                                    "attitude": "na"}, False),  # 1 March in Vietnam: in
    (dt.datetime(2025, 3, 31, 17, 30, tzinfo=UTC), {"reception": 1, "publicity": 1, "timeliness": 1, "attitude": 1},
     False),  # 1 April in Vietnam: out
    (dt.datetime(2025, 3, 10, 3, 0, tzinfo=UTC), {"reception": 1, "publicity": 1, "timeliness": 1, "attitude": 1},
     True),  # excluded by the analyst: out
]
# By hand, 2 points each: reception 2 of 3 valid satisfied, publicity 2 of 2, timeliness 2 of 3, attitude 1 of 2
EXPECTED = {"reception_guidance": (3, 2, 66.67, 1.3333), "publicity": (2, 2, 100.0, 2.0),
            "timeliness": (3, 2, 66.67, 1.3333), "attitude": (2, 1, 50.0, 1.0)}
PERIOD = "from=01/03/2025&to=2025-03-31&unit=T766"


@pytest_asyncio.fixture(scope="module")
async def rated_unit(app):
    if await Unit.exists().where(Unit.code == "T766"):
        return
    province = await Unit.select(Unit.id).where(Unit.code == "DEMO").first()
    unit = (await Unit.insert(Unit(code="T766", name="Xã Kiểm Thử", level="xa", parent=province["id"]))
            .returning(Unit.id))[0]["id"]
    campaign = await Campaign.select(Campaign.id, Campaign.questionnaire).where(Campaign.code == "QUAY-2026").first()
    for submitted_at, answers, excluded in RATINGS:
        stored = await Response.insert(Response(
            campaign=campaign["id"], unit=unit, questionnaire=campaign["questionnaire"],
            idempotency_key=uuid.uuid4().hex, answers_digest="x", answers=json.dumps(answers),
            submitted_at=submitted_at)).returning(Response.id)
        if excluded:
            await QualityReview.insert(QualityReview(campaign=campaign["id"], response=stored[0]["id"],
                                                     decision="exclude"))


@pytest_asyncio.fixture
async def staff(app):
    clients = []

    async def signed_in(username: str) -> httpx.AsyncClient:
        client = app_client(app)
        clients.append(client)
        assert (await sign_in(client, username)).status_code == 303
        return client

    yield signed_in
    for client in clients:
        await client.aclose()


async def test_the_json_feed_matches_the_hand_computed_components(rated_unit, staff):
    analyst = await staff("analyst")
    answer = await analyst.get(f"/api/v1/decision-766?{PERIOD}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["period"] == {"from": "2025-03-01", "to": "2025-03-31"} and "rất hài lòng" in body["rule"]["vi"]
    [unit] = body["units"]
    assert unit["unit"] == "T766" and unit["responses"] == 4
    for component in unit["components"]:
        valid, satisfied, percent, points = EXPECTED[component["key"]]
        assert (component["valid_ratings"], component["satisfied_ratings"]) == (valid, satisfied)
        assert component["satisfied_percent"] == pytest.approx(percent)
        assert component["points"] == pytest.approx(points, abs=1e-4) and component["max_points"] == 2.0
    assert unit["points"] == pytest.approx(1.3333 * 2 + 2 + 1, abs=1e-3) and unit["max_points"] == 8.0


async def test_the_csv_feed_has_a_line_per_component_and_the_total(rated_unit, staff, app, settings):
    token = await api_tokens.issue(settings.secret_key, "analyst", "Hệ thống 766", ["results"], 30, actor="test")
    async with app_client(app) as machine:
        answer = await machine.get(f"/api/v1/decision-766.csv?{PERIOD}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [row["component"] for row in rows] == [*EXPECTED, "total"]
    assert rows[0]["valid_ratings"] == "3" and rows[0]["satisfied_ratings"] == "2" and rows[0]["points"] == "1.3333"
    assert rows[-1]["points"] == "5.6667" and rows[-1]["max_points"] == "8.0" and rows[0]["from"] == "2025-03-01"


async def test_a_unit_manager_sees_only_their_units_and_a_bad_period_is_named(rated_unit, staff):
    manager = await staff("so01")
    assert (await manager.get(f"/api/v1/decision-766?{PERIOD}")).json()["units"] == []
    own = (await manager.get("/api/v1/decision-766?unit=SO01")).json()["units"]
    assert [unit["unit"] for unit in own] == ["SO01"] and own[0]["responses"] > 0
    analyst = await staff("analyst")
    refused = await analyst.get("/api/v1/decision-766?from=32/13/2025")
    assert refused.status_code == 422 and "Tham số from" in refused.json()["error"]
    assert (await analyst.get("/api/v1/decision-766?from=02/03/2025&to=01/03/2025")).status_code == 422
