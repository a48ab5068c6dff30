"""Campaign pages: create with checks that name the field, open/pause/close audit-logged, the version rule, counts."""

from __future__ import annotations

import uuid


from survey_app.core.campaign_tables import CampaignUnit
from survey_app.core.tables import Campaign, Questionnaire, Response, Unit
from tests.app.analyst_helpers import last_audit, table_row
from tests.app.helpers import post_form


async def new_campaign_form(code: str, **overrides) -> dict:
    questionnaire = await Questionnaire.select().where(Questionnaire.key == "counter_rating").first()
    units = await Unit.select(Unit.id).where(Unit.code.is_in(["SO01", "SO02"])).order_by(Unit.id)
    form = {"code": code, "name": "Khảo sát thử", "questionnaire": str(questionnaire["id"]), "starts_on": "01/03/2027",
            "ends_on": "30/06/2027", "mode": "open_qr", "units": [str(unit["id"]) for unit in units],
            f"quota_{units[0]['id']}": "40"}
    return {**form, **overrides}


async def test_create_stores_a_draft_with_units_quotas_and_an_audit_entry(analyst):
    response = await post_form(analyst, "/analyst/campaigns", await new_campaign_form("TEST-NEW"), "/analyst/campaigns/new")
    assert response.status_code == 303 and response.headers["location"] == "/analyst/campaigns/TEST-NEW"
    campaign = await Campaign.select().where(Campaign.code == "TEST-NEW").first()
    assert campaign["status"] == "draft" and campaign["starts_on"].isoformat() == "2027-03-01"
    quotas = sorted(row["quota"] or 0 for row in await CampaignUnit.select().where(CampaignUnit.campaign == campaign["id"]))
    assert quotas == [0, 40]
    entry = await last_audit("campaign_create")
    assert entry["username"] == "analyst" and entry["target"] == "campaign TEST-NEW"
    page = await analyst.get("/analyst/campaigns/TEST-NEW")
    assert "01/03/2027 – 30/06/2027" in page.text and "Nháp" in page.text


async def test_an_end_before_the_start_is_refused_naming_the_field(analyst):
    before = await Campaign.count()
    form = await new_campaign_form("TEST-BACKWARDS", starts_on="10/05/2027", ends_on="09/05/2027")
    response = await post_form(analyst, "/analyst/campaigns", form, "/analyst/campaigns/new")
    assert response.status_code == 422
    assert 'id="problem-ends_on"' in response.text and "Ngày kết thúc: không được trước ngày bắt đầu." in response.text
    assert await Campaign.count() == before


async def test_a_district_with_the_units_below_it_is_one_tick_and_dates_come_from_date_fields(analyst):
    page = (await analyst.get("/analyst/campaigns/new")).text
    assert 'type="date" name="starts_on"' in page and 'id="unit-tree"' in page and "chọn tất cả" in page
    district = await Unit.select(Unit.id).where(Unit.code == "H01").first()
    below = await Unit.select(Unit.id).where(Unit.parent == district["id"])
    form = await new_campaign_form("TEST-TREE", units=[], with_children=[str(district["id"])],
                                   starts_on="2027-03-01", ends_on="2027-06-30")
    form.pop(next(key for key in form if key.startswith("quota_")))
    response = await post_form(analyst, "/analyst/campaigns", form, "/analyst/campaigns/new")
    assert response.status_code == 303
    campaign = await Campaign.select().where(Campaign.code == "TEST-TREE").first()
    covered = {row["unit"] for row in await CampaignUnit.select().where(CampaignUnit.campaign == campaign["id"])}
    assert below and covered == {district["id"], *(row["id"] for row in below)}
    assert campaign["starts_on"].isoformat() == "2027-03-01"


async def test_every_bad_field_is_named(analyst):
    form = await new_campaign_form("x", name="", starts_on="31/02/2027", mode="by_mail", units=[])
    response = await post_form(analyst, "/analyst/campaigns", form, "/analyst/campaigns/new")
    assert response.status_code == 422
    for field in ("code", "name", "starts_on", "mode", "units"):
        assert f'id="problem-{field}"' in response.text, field
    assert not await Campaign.exists().where(Campaign.code == "X")


async def test_open_pause_close_are_logged_and_a_closed_campaign_stays_closed(analyst):
    await post_form(analyst, "/analyst/campaigns", await new_campaign_form("TEST-LIFE"), "/analyst/campaigns/new")
    for action, status in (("open", "open"), ("pause", "paused"), ("open", "open"), ("close", "closed")):
        confirmed = {"confirm": "yes", "reason": "hết thời gian khảo sát"} if action == "close" else {}
        response = await post_form(analyst, "/analyst/campaigns/TEST-LIFE/status", {"action": action, **confirmed})
        assert response.status_code == 303, action
        assert (await Campaign.select().where(Campaign.code == "TEST-LIFE").first())["status"] == status
        entry = await last_audit(f"campaign_{action}")
        assert entry["target"] == "campaign TEST-LIFE" and entry["after"] == {"status": status}
    refused = await post_form(analyst, "/analyst/campaigns/TEST-LIFE/status", {"action": "open"})
    assert refused.status_code == 409 and "không thể mở" in refused.text
    assert (await Campaign.select().where(Campaign.code == "TEST-LIFE").first())["status"] == "closed"


async def test_closing_asks_for_a_confirmation_naming_the_consequence_and_logs_the_reason(analyst):
    await post_form(analyst, "/analyst/campaigns", await new_campaign_form("TEST-ASK"), "/analyst/campaigns/new")
    page = (await analyst.get("/analyst/campaigns/TEST-ASK")).text
    assert 'class="danger" id="close-campaign"' in page  # looks different from "Tạm dừng"
    asked = await post_form(analyst, "/analyst/campaigns/TEST-ASK/status", {"action": "close"})
    assert asked.status_code == 200 and "không mở lại được" in asked.text and 'name="reason"' in asked.text
    no_reason = await post_form(analyst, "/analyst/campaigns/TEST-ASK/status", {"action": "close", "confirm": "yes",
                                                                              "reason": "  "})
    assert no_reason.status_code == 422 and 'id="problem-reason"' in no_reason.text
    assert (await Campaign.select().where(Campaign.code == "TEST-ASK").first())["status"] == "draft"
    done = await post_form(analyst, "/analyst/campaigns/TEST-ASK/status", {"action": "close", "confirm": "yes",
                                                                         "reason": "Đủ số phiếu"})
    assert done.status_code == 303
    assert (await Campaign.select().where(Campaign.code == "TEST-ASK").first())["status"] == "closed"
    assert (await last_audit("campaign_close"))["detail"] == "lý do: Đủ số phiếu"


async def test_the_questionnaire_version_cannot_change_mid_campaign(analyst):
    campaign = await Campaign.select().where(Campaign.code == "QUAY-2026").first()
    other = await Questionnaire.select().where(Questionnaire.id != campaign["questionnaire"]).first()
    refused = await post_form(analyst, "/analyst/campaigns/QUAY-2026/questionnaire", {"questionnaire": str(other["id"])})
    assert refused.status_code == 409
    assert "Không thể đổi phiên bản phiếu hỏi khi đợt khảo sát đã mở" in refused.text
    assert (await Campaign.select().where(Campaign.code == "QUAY-2026").first())["questionnaire"] == campaign["questionnaire"]


async def test_a_draft_may_change_its_questionnaire_version(analyst):
    await post_form(analyst, "/analyst/campaigns", await new_campaign_form("TEST-DRAFT"), "/analyst/campaigns/new")
    sipas = await Questionnaire.select().where(Questionnaire.key == "sipas_citizen").first()
    response = await post_form(analyst, "/analyst/campaigns/TEST-DRAFT/questionnaire", {"questionnaire": str(sipas["id"])})
    assert response.status_code == 303
    assert (await Campaign.select().where(Campaign.code == "TEST-DRAFT").first())["questionnaire"] == sipas["id"]
    assert (await last_audit("campaign_questionnaire"))["after"] == {"questionnaire": sipas["id"]}


async def test_live_counts_per_unit_and_counter_match_the_stored_responses(analyst):
    campaign = await Campaign.select().where(Campaign.code == "QUAY-2026").first()
    stored = await Response.count().where((Response.campaign == campaign["id"]) & (Response.unit.code == "H01"))
    on_counter = await Response.count().where((Response.campaign == campaign["id"]) & (Response.counter.code == "H01-Q2"))
    page = await analyst.get("/analyst/campaigns/QUAY-2026")
    row = table_row(page.text, "data-unit", "H01")
    assert f'<td class="num">{stored}</td>' in row and f"H01-Q2: {on_counter}" in row
    assert "/analyst/campaigns/QUAY-2026/export/csv" in page.text and "/analyst/campaigns/QUAY-2026/report.pdf" in page.text


async def test_the_list_shows_campaigns_with_status_and_counts(analyst):
    page = await analyst.get("/analyst/campaigns")
    assert page.status_code == 200 and "QUAY-2026" in page.text and "Đang mở" in page.text


async def edit_form(code: str, **overrides) -> dict:
    """The edit form as a browser sends it: the create form's values without code, questionnaire and mode."""
    form = await new_campaign_form(code, **overrides)
    return {key: value for key, value in form.items() if key not in ("code", "questionnaire", "mode")}


async def add_answer(campaign_code: str, unit_code: str) -> None:
    campaign = await Campaign.select().where(Campaign.code == campaign_code).first()
    unit = await Unit.select(Unit.id).where(Unit.code == unit_code).first()
    await Response.insert(Response(campaign=campaign["id"], unit=unit["id"], questionnaire=campaign["questionnaire"],
                                   idempotency_key=uuid.uuid4().hex, answers_digest="x" * 64, answers="{}"))


async def test_an_open_campaign_is_extended_and_its_units_and_quotas_changed(analyst):
    await post_form(analyst, "/analyst/campaigns", await new_campaign_form("TEST-EDIT"), "/analyst/campaigns/new")
    await post_form(analyst, "/analyst/campaigns/TEST-EDIT/status", {"action": "open"})
    page = await analyst.get("/analyst/campaigns/TEST-EDIT/edit")
    assert 'value="2027-06-30"' in page.text and 'value="40"' in page.text and 'name="code"' not in page.text
    h01 = await Unit.select(Unit.id).where(Unit.code == "H01").first()
    form = await edit_form("TEST-EDIT", name="Khảo sát thử (gia hạn)", ends_on="31/07/2027",
                           units=(await new_campaign_form("x"))["units"] + [str(h01["id"])], **{f"quota_{h01['id']}": "25"})
    response = await post_form(analyst, "/analyst/campaigns/TEST-EDIT/edit", form, "/analyst/campaigns/TEST-EDIT/edit")
    assert response.status_code == 303 and response.headers["location"] == "/analyst/campaigns/TEST-EDIT"
    campaign = await Campaign.select().where(Campaign.code == "TEST-EDIT").first()
    assert (campaign["name"], campaign["ends_on"].isoformat(), campaign["status"]) == (
        "Khảo sát thử (gia hạn)", "2027-07-31", "open")
    quotas = {row["unit"]: row["quota"] for row in await CampaignUnit.select().where(CampaignUnit.campaign == campaign["id"])}
    assert len(quotas) == 3 and quotas[h01["id"]] == 25 and sorted(q or 0 for q in quotas.values()) == [0, 25, 40]
    entry = await last_audit("campaign_edit")
    assert entry["before"]["ends_on"] == "2027-06-30" and entry["after"]["ends_on"] == "2027-07-31"
    assert "01/03/2027 – 31/07/2027" in (await analyst.get("/analyst/campaigns/TEST-EDIT")).text


async def test_a_unit_with_answers_cannot_be_dropped_and_nothing_changes(analyst):
    await post_form(analyst, "/analyst/campaigns", await new_campaign_form("TEST-KEEP"), "/analyst/campaigns/new")
    await add_answer("TEST-KEEP", "SO01")
    so02 = await Unit.select(Unit.id).where(Unit.code == "SO02").first()
    form = await edit_form("TEST-KEEP", ends_on="15/02/2027", units=[str(so02["id"])])
    response = await post_form(analyst, "/analyst/campaigns/TEST-KEEP/edit", form, "/analyst/campaigns/TEST-KEEP/edit")
    assert response.status_code == 422
    assert 'id="problem-units"' in response.text and "không bỏ được: SO01" in response.text
    assert 'id="problem-ends_on"' in response.text  # every bad field at once
    campaign = await Campaign.select().where(Campaign.code == "TEST-KEEP").first()
    assert campaign["ends_on"].isoformat() == "2027-06-30"
    assert await CampaignUnit.count().where(CampaignUnit.campaign == campaign["id"]) == 2


async def test_a_closed_campaign_cannot_be_edited(analyst):
    await post_form(analyst, "/analyst/campaigns", await new_campaign_form("TEST-SHUT"), "/analyst/campaigns/new")
    await post_form(analyst, "/analyst/campaigns/TEST-SHUT/status", {"action": "close", "confirm": "yes", "reason": "thử"})
    refused = await post_form(analyst, "/analyst/campaigns/TEST-SHUT/edit", await edit_form("TEST-SHUT", ends_on="31/12/2027"))
    assert refused.status_code == 409 and "Đợt khảo sát đã đóng" in refused.text
    assert (await Campaign.select().where(Campaign.code == "TEST-SHUT").first())["ends_on"].isoformat() == "2027-06-30"
    assert "/analyst/campaigns/TEST-SHUT/edit" not in (await analyst.get("/analyst/campaigns/TEST-SHUT")).text
    assert (await analyst.get("/analyst/campaigns/TEST-SHUT/edit")).status_code == 409
