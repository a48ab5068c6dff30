"""A repeat on the phone form without JavaScript: one block per member, "Thêm" posts and comes back with one more
block keeping what was typed, errors name the member, the stored answers hold a list of per-member dicts."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest_asyncio

from questionnaires import load_definition
from survey_app.campaigns.catalog import register
from survey_app.campaigns.demo import load_campaign
from survey_app.core.tables import Campaign, Response
from tests.app.helpers import app_client, form_path
from tests.questionnaires.test_repeats import HOUSEHOLD, household_yaml

VISITS = household_yaml("household_visits", repeat="{minimum: 1, maximum: 3}")


@pytest_asyncio.fixture
async def client(app):
    """A client of its own: the form posts here must not spend the shared client's per-minute limit."""
    async with app_client(app, "198.51.100.41") as http_client:
        yield http_client


@pytest_asyncio.fixture
async def repeat_forms(app, settings):
    ids = []
    for code, text in (("HO-2026", HOUSEHOLD), ("HO-VISITS", VISITS)):
        questionnaire = await register(load_definition(text))
        ids.append(await load_campaign(code, "Hộ gia đình", questionnaire, dt.date.today()))
    yield {code: form_path(settings, campaign_code=code) for code in ("HO-2026", "HO-VISITS")}
    await Response.delete().where(Response.campaign.is_in(ids))
    await Campaign.delete().where(Campaign.id.is_in(ids))


def key_of(page: str) -> str:
    return re.search(r'name="_key" value="([^"]+)"', page).group(1)


async def test_add_one_more_keeps_what_was_typed_then_the_members_are_stored(client, repeat_forms):
    path = repeat_forms["HO-VISITS"]
    page = (await client.get(path)).text
    assert page.count('<fieldset class="member">') == 1 and 'name="members.1.name"' in page
    assert "Thêm một người/lượt" in page and 'name="members._count" value="1"' in page
    base = {"_key": key_of(page), "_lang": "vi", "n_members": "2", "urban": "yes", "members._count": "1",
            "members.1.name": "Lan", "members.1.age": "40"}
    more = await client.post(path, data={**base, "_more": "members"})
    assert more.status_code == 200 and more.text.count('<fieldset class="member">') == 2
    assert re.search(r'name="members.1.name"[^>]*>Lan</textarea>', more.text)
    assert 'name="members.1.age" inputmode="numeric" value="40"' in more.text
    assert re.search(r'name="members.2.name"[^>]*></textarea>', more.text)
    assert await Response.count().where(Response.idempotency_key == base["_key"]) == 0
    wrong = await client.post(path, data={**base, "members._count": "2", "members.2.name": "Bé", "members.2.age": "7"})
    assert wrong.status_code == 422 and "Thành viên 2: Vui lòng trả lời câu hỏi này." in wrong.text
    assert 'id="item-members-2-school"' in wrong.text
    done = await client.post(path, data={**base, "members._count": "2", "members.2.name": "Bé", "members.2.age": "7",
                                         "members.2.school": "Tiểu học Kim Liên"})
    assert done.status_code == 303
    stored = await Response.select(Response.answers).where(Response.idempotency_key == base["_key"]).first()
    answers = json.loads(stored["answers"]) if isinstance(stored["answers"], str) else stored["answers"]
    assert answers["members"] == [{"name": "Lan", "age": 40},
                                  {"name": "Bé", "age": 7, "school": "Tiểu học Kim Liên"}]


async def test_the_count_answer_decides_the_blocks_and_the_server_enforces_it(client, repeat_forms):
    path = repeat_forms["HO-2026"]
    page = (await client.get(path)).text
    assert "Cập nhật số người/lượt theo câu trả lời" in page
    base = {"_key": key_of(page), "_lang": "vi", "n_members": "3", "members._count": "1",
            "members.1.name": "Lan", "members.1.age": "40"}
    shown = await client.post(path, data={**base, "_more": "members"})
    assert shown.text.count('<fieldset class="member">') == 3
    refused = await client.post(path, data=base)
    assert refused.status_code == 422
    assert "Cần đúng 3 thành viên theo câu trả lời trước; đã có 1." in refused.text
    assert refused.text.count('<fieldset class="member">') == 3
    assert await Response.count().where(Response.idempotency_key == base["_key"]) == 0


async def test_paper_copies_of_a_questionnaire_with_a_repeat_are_refused_clearly(repeat_forms, analyst):
    from survey_app.paper.services import PaperCopy
    from tests.app.helpers import post_form

    path = "/analyst/campaigns/HO-2026/paper"
    page = await post_form(analyst, f"{path}/print", {"unit": "SO01", "copies": "2"}, page_path=path)
    assert page.status_code == 422 and "phiếu giấy và nhập liệu chưa hỗ trợ nhóm lặp" in page.text
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == "HO-2026").first()
    assert await PaperCopy.count().where(PaperCopy.campaign == campaign["id"]) == 0


def test_an_officials_page_with_a_repeat_reads_its_member_blocks():
    from litestar.datastructures import FormMultiDict

    from survey_app.officials.controllers import page_values

    section = load_definition(HOUSEHOLD).repeats[0]
    form = FormMultiDict([("members._count", "2"), ("members.1.name", "Lan"), ("members.2.age", "7"),
                          ("_action", "next")])
    assert page_values(form, section) == {"members": [{"name": "Lan", "age": "", "school": ""},
                                                      {"name": "", "age": "7", "school": ""}]}
