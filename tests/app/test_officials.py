"""The official's path: code → one section per page, saved on the server → continue elsewhere → one submission."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
import pytest_asyncio

import sampling
from sampling.codes import normalize_code
from questionnaires import load_shipped
from survey_app.officials import draws
from survey_app.officials.services import COOKIE_NAME, read_session, sign_session
from survey_app.core.sampling_tables import DraftAnswers, Invitation, SampleMember
from survey_app.core.tables import Campaign, Response
from tests.app.helpers import app_client, draw_officials, page_form

CAMPAIGN = "PAR-SO-OFFICIALS"
DEFINITION = load_shipped()["par_index_so"]
SECTIONS = DEFINITION.sections


@pytest_asyncio.fixture(scope="module")
async def slips(app, settings, tmp_path_factory) -> list[dict]:
    """A campaign on par_index_so with SO01 and SO02 drawn (2 heads + 2 civil servants each): the printed slips."""
    stored = await draw_officials(settings, tmp_path_factory.mktemp("frame"), CAMPAIGN, "PAR INDEX sở",
                                  ("SO01", "SO02"), 4, ["lanh_dao_phong=2", "cong_chuc=2"], seed=11,
                                  starts_on=dt.date.today() - dt.timedelta(days=1))
    return stored.slips.to_dict("records")


@pytest_asyncio.fixture
async def device(app):
    """A fresh browser: its own cookie jar."""
    async with app_client(app) as browser:
        yield browser


async def member_of(slip: dict, settings) -> dict:
    invitation = await Invitation.select(Invitation.id, Invitation.member, Invitation.used_at).where(
        Invitation.code_hash == sampling.hash_code(draws.code_key(settings.secret_key), slip["code"])).first()
    member = await SampleMember.select().where(SampleMember.id == invitation["member"]).first()
    return {**member, "used_at": invitation["used_at"], "invitation": invitation["id"]}


async def invitation_responses() -> list[dict]:
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == CAMPAIGN).first()
    return await Response.select().where((Response.campaign == campaign["id"]) & (Response.channel == "invitation"))


async def test_code_page_is_vietnamese_first_with_english(client):
    page = await client.get("/o")
    assert page.status_code == 200 and 'lang="vi"' in page.text and "Mã khảo sát" in page.text
    assert "<script" not in page.text
    english = await client.get("/o", params={"lang": "en"})
    assert "Enter the code printed on your invitation slip" in english.text


@pytest.mark.parametrize("typed,status,message", [
    ("ABCD", 422, "Mã phải gồm 10 ký tự"),
    ("", 422, "Mã phải gồm 10 ký tự"),
])
async def test_malformed_codes_get_a_clear_vietnamese_message(device, slips, typed, status, message):
    response = await device.post("/o", data={"code": typed, "_lang": "vi"})
    assert response.status_code == status and message in response.text
    assert COOKIE_NAME not in response.headers.get("set-cookie", "")


async def test_a_typo_and_an_unknown_code_are_refused(device, slips):
    code = normalize_code(slips[0]["code"])
    typo = code[:3] + ("X" if code[3] != "X" else "Y") + code[4:]
    response = await device.post("/o", data={"code": typo})
    assert response.status_code == 422 and "gõ sai" in response.text
    response = await device.post("/o", data={"code": sampling.generate_code()})
    assert response.status_code == 403 and "Mã không đúng" in response.text


async def test_pages_need_a_valid_signed_session(device, settings, slips):
    response = await device.get("/o/0")
    assert response.status_code == 403 and "nhập lại mã" in response.text
    forged = sign_session("another-key", 1)
    device.cookies.set(COOKIE_NAME, forged, path="/o")
    response = await device.post("/o/0", data=page_form(SECTIONS[0]))
    assert response.status_code == 403
    assert read_session(settings.secret_key, forged) is None
    assert read_session(settings.secret_key, sign_session(settings.secret_key, 5, now=0)) is None  # expired


async def test_start_save_continue_on_another_device_submit_and_the_code_is_spent(app, settings, slips):
    slip = slips[0]
    transport = httpx.ASGITransport(app=app)
    phone = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    laptop = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    stranger = httpx.AsyncClient(transport=transport, base_url="http://testserver")
    responses_before = len(await invitation_responses())

    # Start on the phone, typing the code in lower case with spaces.
    started = await phone.post("/o", data={"code": slip["code"].lower().replace("-", " "), "_lang": "vi"})
    assert started.status_code == 303 and started.headers["location"] == "/o/0?lang=vi"
    cookie = started.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/o" in cookie
    assert (await member_of(slip, settings))["status"] == "started"
    first_page = await phone.get("/o/0")
    assert first_page.status_code == 200 and "Phần 1/9" in first_page.text and 'name="role"' in first_page.text

    # Page 1 saved; page 2 with a missing required answer comes back with the message, kept answers saved.
    saved = await phone.post("/o/0", data=page_form(SECTIONS[0], gender="nu"))
    assert saved.status_code == 303 and saved.headers["location"] == "/o/1?lang=vi"
    missing = page_form(SECTIONS[1])
    missing.pop(SECTIONS[1].items[0].key)
    incomplete = await phone.post("/o/1", data=missing)
    assert incomplete.status_code == 422 and "Vui lòng" in incomplete.text
    stopped = await phone.post("/o/1", data={**missing, "_action": "save"})
    assert stopped.status_code == 200 and "Đã lưu" in stopped.text

    # Continue on a laptop with the same code: back at the unfinished page, earlier answers still there.
    resumed = await laptop.post("/o", data={"code": slip["code"]})
    assert resumed.headers["location"] == "/o/1?lang=vi"
    first_again = await laptop.get("/o/0")
    assert 'value="nu" checked' in first_again.text
    for index, section in enumerate(SECTIONS[1:], start=1):
        last = index == len(SECTIONS) - 1
        answered = await laptop.post(f"/o/{index}", data=page_form(section, "submit" if last else "next"))
        assert answered.status_code == 303, answered.text[:500]
    assert answered.headers["location"] == "/o/sent?lang=vi"
    assert "Đã gửi" in (await laptop.get(answered.headers["location"])).text

    # One response, with the unit and the unit's weight only; the invitation is spent (no time), the draft gone.
    member = await member_of(slip, settings)
    stored = await invitation_responses()
    assert len(stored) == responses_before + 1
    response = stored[-1]
    answers = response["answers"] if isinstance(response["answers"], dict) else json.loads(response["answers"])
    assert answers["gender"] == "nu" and answers[SECTIONS[1].items[0].key] == 4 and "role" not in answers
    assert response["unit"] == member["unit"] and response["counter"] is None
    assert response["stratum"] is None
    linked = {column._meta.name for column in Response._meta.columns}
    assert not linked & {"member", "invitation", "staff_ref_hash", "code_hash"}
    assert member["status"] == "completed"
    first_day = dt.datetime.combine(dt.date.today() - dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    assert member["used_at"] == response["submitted_at"] == first_day  # the campaign's first day, not the day sent
    assert await DraftAnswers.count().where(DraftAnswers.invitation == member["invitation"]) == 0
    response_text = json.dumps(response, default=str)
    assert member["staff_ref_hash"] not in response_text and normalize_code(slip["code"]) not in response_text

    # The code cannot be used again, on any device; the phone's old session is refused too.
    for browser in (stranger, laptop):
        reused = await browser.post("/o", data={"code": slip["code"]})
        assert reused.status_code == 410 and "đã được dùng" in reused.text
    assert (await phone.post("/o/0", data=page_form(SECTIONS[0]))).status_code == 410
    assert len(await invitation_responses()) == responses_before + 1

    # Reminders list everyone not finished, never the one who completed, never answers.
    waiting = draws.reminders(await draws.members_frame(CAMPAIGN))
    assert member["staff_ref_hash"][:draws.REF_PREFIX] not in set(waiting["staff_ref"])
    assert len(waiting) == len(slips) - 1 and set(waiting.columns) == {"unit", "role", "status", "staff_ref"}
    tracking = draws.tracking_table(await draws.members_frame(CAMPAIGN))
    assert tracking.loc["all", "completed"] == 1 and tracking.loc["all", "rr1"] == pytest.approx(1 / len(slips))
    for browser in (phone, laptop, stranger):
        await browser.aclose()


async def test_final_submit_with_an_earlier_gap_shows_that_page(device, slips):
    await device.post("/o", data={"code": slips[1]["code"]})
    for index, section in enumerate(SECTIONS[:-1]):
        form = page_form(section, "save")
        if index == 2:
            form.pop(section.items[0].key)
        await device.post(f"/o/{index}", data=form)
    last = len(SECTIONS) - 1
    response = await device.post(f"/o/{last}", data=page_form(SECTIONS[-1], "submit"))
    assert response.status_code == 422 and 'action="/o/2"' in response.text
    assert "Phần 3/9" in response.text


async def test_a_closed_campaign_refuses_codes(device, slips):
    await Campaign.update({Campaign.status: "closed"}).where(Campaign.code == CAMPAIGN)
    try:
        response = await device.post("/o", data={"code": slips[2]["code"]})
        assert response.status_code == 410 and "kết thúc" in response.text
    finally:
        await Campaign.update({Campaign.status: "open"}).where(Campaign.code == CAMPAIGN)
