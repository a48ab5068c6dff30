"""Units merged on a date: the administrator records it (every bad field named, nothing half-stored), and the
successor's trend counts its predecessors' answers in the campaigns before that date, saying so on the page."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

from survey_app.core.tables import Campaign, Response, Unit, UnitChange
from tests.app.analyst_helpers import signed_in_client
from tests.app.helpers import post_form


async def new_commune(code: str, name: str) -> int:
    district = await Unit.select(Unit.id).where(Unit.code == "H01").first()
    unit = Unit(code=code, name=name, level="xa", parent=district["id"])
    await unit.save()
    return unit.id


async def campaign_with_answers(code: str, starts_on: dt.date, per_unit: dict[int, int]) -> None:
    """A closed campaign of the counter questionnaire with copies of QUAY-2026's answers in the given units."""
    source = await Campaign.select().where(Campaign.code == "QUAY-2026").first()
    campaign = Campaign(code=code, name=f"Đợt {code}", questionnaire=source["questionnaire"], status="closed",
                        starts_on=starts_on, ends_on=starts_on + dt.timedelta(days=90))
    await campaign.save()
    answers = await Response.select(Response.answers, Response.questionnaire).where(
        Response.campaign == source["id"]).order_by(Response.id).limit(sum(per_unit.values()))
    rows, taken = [], iter(answers)
    for unit_id, count in per_unit.items():
        for _ in range(count):
            row = next(taken)
            rows.append(Response(campaign=campaign.id, unit=unit_id, questionnaire=row["questionnaire"],
                                 idempotency_key=uuid.uuid4().hex, answers_digest="d", channel="test",
                                 answers=row["answers"] if isinstance(row["answers"], str) else json.dumps(row["answers"])))
    await Response.insert(*rows)


async def test_bad_input_names_each_field_and_stores_nothing(app):
    admin = await signed_in_client(app, "admin")
    try:
        before = await UnitChange.count()
        refused = await post_form(admin, "/admin/units/changes", {"predecessors": "NOPE1", "successor": "",
                                                                  "kind": "merge", "effective_on": "31/02/2025"},
                                  "/admin/units/changes")
        assert refused.status_code == 422
        for field in ("predecessors", "successor", "effective_on"):
            assert f'id="problem-{field}"' in refused.text, field
        assert "không có mã NOPE1" in refused.text and await UnitChange.count() == before
    finally:
        await admin.aclose()


async def test_a_merged_communes_earlier_figures_are_carried_to_its_successor(app):
    tag = uuid.uuid4().hex[:4].upper()
    first, second = await new_commune(f"H01M{tag}1", f"Xã Cũ Một {tag}"), await new_commune(f"H01M{tag}2", f"Xã Cũ Hai {tag}")
    merged = await new_commune(f"H01M{tag}M", f"Xã Mới {tag}")
    await campaign_with_answers(f"OLD-{tag}", dt.date(2024, 3, 1), {first: 6, second: 5})
    await campaign_with_answers(f"NEW-{tag}", dt.date(2026, 3, 1), {merged: 7})
    admin = await signed_in_client(app, "admin")
    manager = await signed_in_client(app, "h01")
    try:
        page = f"/manager/units/H01M{tag}M?campaign=NEW-{tag}"
        before = (await manager.get(page)).text
        assert not re.search(rf'data-campaign="OLD-{tag}"><td>[^<]*</td><td class="num">', before)
        recorded = await post_form(admin, "/admin/units/changes", {
            "predecessors": f"H01M{tag}1, H01M{tag}2", "successor": f"H01M{tag}M", "kind": "merge",
            "effective_on": "2025-07-01"}, "/admin/units/changes")
        assert recorded.status_code == 200 and "01/07/2025" in recorded.text
        after = (await manager.get(page)).text
        old_row = re.search(rf'<tr data-campaign="OLD-{tag}">(.*?)</tr>', after, re.S).group(1)
        assert f"gồm số liệu của Xã Cũ Một {tag}, Xã Cũ Hai {tag}" in old_row and "01/07/2025" in old_row
        assert '<td class="num">11</td>' in old_row  # 6 + 5 answers of the two communes before the merger
        assert 'id="unit-history"' in after
    finally:
        await admin.aclose()
        await manager.aclose()
