"""The analyst's sample pages: tracking per stratum and the reminders list, never answers or identities."""

from __future__ import annotations

import csv
import io

import httpx
import pytest_asyncio

from survey_app.officials import draws
from survey_app.core.tables import Unit
from survey_app.core.wording import stratum_label
from tests.app.helpers import draw_officials, sign_in

CAMPAIGN = "PAR-SO-PAGES"


@pytest_asyncio.fixture(scope="module")
async def drawn(app, settings, tmp_path_factory):
    stored = await draw_officials(settings, tmp_path_factory.mktemp("frame"), CAMPAIGN, "PAR INDEX trang",
                                  ("SO03", "SO04"), 3, ["lanh_dao_phong=2", "cong_chuc=1"], seed=5)
    first = stored.slips.iloc[0]
    await draws.mark(CAMPAIGN, first["staff_ref"], "refused", "bận công tác")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    await sign_in(client, "analyst")
    yield client
    await client.aclose()


async def test_tracking_page_shows_each_stratum_and_the_reminders(drawn):
    listing = await drawn.get("/analyst/sampling")
    assert CAMPAIGN in listing.text and f"/analyst/sampling/{CAMPAIGN}" in listing.text
    page = await drawn.get(f"/analyst/sampling/{CAMPAIGN}")
    assert page.status_code == 200
    members = await draws.members_frame(CAMPAIGN)
    tracking = draws.tracking_table(members)
    names = {row["code"]: row["name"] for row in await Unit.select(Unit.code, Unit.name)}
    for stratum in tracking.index:  # named for people: "Sở Y tế · công chức", never "unit=SO03, role=cong_chuc"
        assert stratum_label(str(stratum), names) in page.text
        assert "=" not in str(stratum) or str(stratum) not in page.text
    assert "Sở Tài chính · lãnh đạo cấp phòng" in page.text
    waiting = draws.reminders(members)
    assert len(waiting) == 5  # 6 drawn, one refused
    assert f"Danh sách nhắc nhở ({len(waiting)})" in page.text
    assert all(ref in page.text for ref in waiting["staff_ref"])


async def test_members_file_has_no_identity(drawn):
    response = await drawn.get(f"/analyst/sampling/{CAMPAIGN}/members.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 6
    assert "staff_ref_hash" not in rows[0] and "staff_id" not in rows[0]
    assert not any("SO03-" in value for row in rows for value in row.values())


async def test_a_campaign_without_a_draw_is_a_clear_404(drawn):
    page = await drawn.get("/analyst/sampling/QUAY-2026")
    assert page.status_code == 404 and "chưa có mẫu" in page.text
