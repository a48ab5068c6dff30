"""Free-text comments on the web: per unit, searchable (without accents too), exportable as CSV; officials'
comments follow the figures' small-group rule and carry no time or response number."""

from __future__ import annotations

import json
import uuid

import httpx

from survey_app.accounts.users import create_user
from survey_app.core.tables import Campaign, Response, Unit
from tests.app.analyst_helpers import signed_in_client
from tests.app.helpers import counter_definition, filled_form, form_path, sign_in
from tests.app.test_sample_cli import make_campaign

COMPLAINT = "Chờ quá lâu, cán bộ hướng dẫn chưa rõ ràng"


async def test_a_citizens_comment_is_listed_searchable_and_exported(analyst, client, settings):
    posted = await client.post(form_path(settings, "SO01-Q1", "QUAY-2026"),
                               data=filled_form(counter_definition(), rating="1", why=COMPLAINT))
    assert posted.status_code in (200, 303)
    page = await analyst.get("/analyst/campaigns/QUAY-2026/comments?q=cho+qua+lau")  # typed without accents
    assert page.status_code == 200 and COMPLAINT in page.text and "Vì sao ông/bà chưa hài lòng?" in page.text
    assert COMPLAINT not in (await analyst.get("/analyst/campaigns/QUAY-2026/comments?q=xyzzy")).text
    assert COMPLAINT not in (await analyst.get("/analyst/campaigns/QUAY-2026/comments?q=cho&unit=H01")).text
    exported = await analyst.get("/analyst/campaigns/QUAY-2026/comments.csv?q=hướng dẫn")
    assert exported.status_code == 200 and exported.content.startswith("\ufeff".encode())
    assert COMPLAINT in exported.content.decode("utf-8-sig") and "SO01" in exported.text


async def officials_with_comments(per_unit: dict[str, int], status: str = "closed") -> str:
    code = await make_campaign(f"CMT-{uuid.uuid4().hex[:6]}")
    campaign = await Campaign.select().where(Campaign.code == code).first()
    province = await Unit.select(Unit.id).where(Unit.code == "DEMO").first()
    rows = []
    for unit_code, count in per_unit.items():
        unit = Unit(code=f"{unit_code}-{code}"[:32], name=f"Đơn vị {unit_code}", level="xa", parent=province["id"])
        await unit.save()
        rows += [Response(campaign=campaign["id"], unit=unit.id, questionnaire=campaign["questionnaire"],
                          idempotency_key=uuid.uuid4().hex, answers_digest="d", channel="invitation",
                          answers=json.dumps({"comments": f"Đề xuất {unit_code} số {number}"}))
                 for number in range(count)]
    await Response.insert(*rows)
    await Campaign.update({Campaign.status: status}).where(Campaign.id == campaign["id"])
    return code


async def test_officials_comments_of_a_small_unit_are_not_shown(analyst):
    code = await officials_with_comments({"LON": 6, "NHO": 2})
    page = (await analyst.get(f"/analyst/campaigns/{code}/comments")).text
    assert "Đề xuất LON số 0" in page and "Đề xuất LON số 5" in page
    assert "Đề xuất NHO" not in page and 'id="hidden-units"' in page
    assert "/responses/" not in page  # no response number to tie a comment to a person
    assert "Đề xuất NHO" not in (await analyst.get(f"/analyst/campaigns/{code}/comments.csv")).text


async def test_a_manager_reads_own_comments_only_after_an_officials_campaign_closed(app):
    code = await officials_with_comments({"MGR": 5}, status="open")
    unit_code = f"MGR-{code}"[:32]
    username = f"ql-{code.lower()}"[:32]
    await create_user(username, "mat-khau-dai-2026!", "unit_manager", unit_code, "Quản lý thử")
    manager = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    try:
        assert (await sign_in(manager, username, "mat-khau-dai-2026!")).status_code == 303
        early = await manager.get(f"/manager/units/{unit_code}/comments?campaign={code}")
        assert early.status_code == 200 and 'id="until-closed"' in early.text and "Đề xuất MGR" not in early.text
        await Campaign.update({Campaign.status: "closed"}).where(Campaign.code == code)
        later = await manager.get(f"/manager/units/{unit_code}/comments?campaign={code}")
        assert "Đề xuất MGR số 4" in later.text
        assert (await manager.get("/manager/units/SO01/comments")).status_code == 403
    finally:
        await manager.aclose()
