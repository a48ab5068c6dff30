"""The QR → form → stored response path, with every kind of bad input from the platform issue."""

from __future__ import annotations

import json

import pytest

from survey_app.tables import Campaign, Counter, Response
from tests.app.helpers import COUNTER_FORM, counter_definition, filled_form, hidden_key, rating_keys, response_count


async def test_form_renders_in_vietnamese_without_javascript(client):
    response = await client.get(COUNTER_FORM)
    assert response.status_code == 200
    html = response.text
    assert "<script" not in html  # the form works with JavaScript off
    assert 'lang="vi"' in html and "Gửi đánh giá" in html
    for key in rating_keys(counter_definition()):
        assert f'name="{key}"' in html
    assert len(hidden_key(html)) == 32


async def test_english_is_the_second_language(client):
    response = await client.get(COUNTER_FORM, params={"lang": "en"})
    assert response.status_code == 200 and "Submit" in response.text


@pytest.mark.parametrize("path", ["/s/QUAY-2026/NO-SUCH-COUNTER", "/s/NO-SUCH-CAMPAIGN/SO01-Q1"])
async def test_unknown_counter_or_campaign_is_a_vietnamese_404(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert "Không tìm thấy" in response.text


async def test_valid_submission_is_stored_once_with_its_context(client):
    before = await response_count()
    post = filled_form(counter_definition(), rating="4")
    response = await client.post(COUNTER_FORM, data=post)
    assert response.status_code == 303
    thanks = await client.get(response.headers["location"])
    assert "Đã gửi" in thanks.text
    stored = await Response.select().where(Response.idempotency_key == post["_key"]).first()
    counter = await Counter.select().where(Counter.code == "SO01-Q1").first()
    campaign = await Campaign.select().where(Campaign.code == "QUAY-2026").first()
    assert (stored["counter"], stored["unit"], stored["campaign"]) == (counter["id"], counter["unit"], campaign["id"])
    answers = stored["answers"] if isinstance(stored["answers"], dict) else json.loads(stored["answers"])
    assert all(answers[key] == 4 for key in rating_keys(counter_definition()))
    assert await response_count() == before + 1


async def test_retry_with_the_same_key_is_acknowledged_but_stored_once(client):
    post = filled_form(counter_definition(), rating="5")
    first = await client.post(COUNTER_FORM, data=post)
    again = await client.post(COUNTER_FORM, data=post)
    assert first.status_code == again.status_code == 303
    assert await response_count(idempotency_key=post["_key"]) == 1


async def test_same_key_with_other_answers_is_refused_and_the_first_kept(client):
    definition = counter_definition()
    post = filled_form(definition, rating="5")
    await client.post(COUNTER_FORM, data=post)
    refused = await client.post(COUNTER_FORM, data={**post, rating_keys(definition)[0]: "1"})
    assert refused.status_code == 409
    stored = await Response.select(Response.answers).where(Response.idempotency_key == post["_key"]).first()
    answers = stored["answers"] if isinstance(stored["answers"], dict) else json.loads(stored["answers"])
    assert answers[rating_keys(definition)[0]] == 5


async def test_missing_required_answer_comes_back_with_answers_kept(client):
    definition = counter_definition()
    required = next(item for item in definition.items if item.required and item.type == "rating5")
    other = next(key for key in rating_keys(definition) if key != required.key)
    post = filled_form(definition, rating="5", **{other: "2"})
    post.pop(required.key)
    before = await response_count()
    response = await client.post(COUNTER_FORM, data=post)
    assert response.status_code == 422
    html = response.text
    assert f'id="item-{required.key}"' in html
    error_block = html.split(f'id="item-{required.key}"')[1].split('<div class="item')[0]
    assert 'class="error"' in error_block and "Vui lòng" in error_block
    assert f'name="{other}" value="2" checked' in html  # the answers given are kept
    assert await response_count() == before


async def test_out_of_range_rating_is_refused_next_to_the_field(client):
    definition = counter_definition()
    key = rating_keys(definition)[0]
    before = await response_count()
    response = await client.post(COUNTER_FORM, data=filled_form(definition, **{key: "9"}))
    assert response.status_code == 422
    assert 'class="error"' in response.text.split(f'id="item-{key}"')[1].split('<div class="item')[0]
    assert await response_count() == before


async def test_dossier_code_is_stored_only_as_a_keyed_hash_and_rated_once(client):
    definition = counter_definition()
    dossier_item = next(item for item in definition.items if item.type == "dossier_code")
    code = "000.00.15.H01-261123-0042"
    first = await client.post(COUNTER_FORM, data=filled_form(definition, **{dossier_item.key: code}))
    assert first.status_code == 303
    rows = await Response.select(Response.answers, Response.dossier_hash).where(Response.dossier_hash.is_not_null())
    assert rows and all(code not in json.dumps(row) for row in rows)
    before = await response_count()
    second = await client.post(COUNTER_FORM, data=filled_form(definition, **{dossier_item.key: code.lower()}))
    assert second.status_code == 409
    assert "đã được đánh giá" in second.text
    assert await response_count() == before


async def test_closed_campaign_shows_a_friendly_page_and_stores_nothing(client):
    campaign = await Campaign.select().where(Campaign.code == "QUAY-2026").first()
    await Campaign.update({Campaign.status: "closed"}).where(Campaign.id == campaign["id"])
    try:
        before = await response_count()
        page = await client.get(COUNTER_FORM)
        posted = await client.post(COUNTER_FORM, data=filled_form(counter_definition()))
        assert page.status_code == posted.status_code == 410
        assert "Đợt khảo sát đã kết thúc" in page.text
        assert await response_count() == before
    finally:
        await Campaign.update({Campaign.status: "open"}).where(Campaign.id == campaign["id"])


async def test_script_in_a_text_answer_is_never_rendered_raw(client):
    definition = counter_definition()
    text_item = next((item for item in definition.items if item.type == "text"), None)
    assert text_item is not None
    payload = "<script>alert(1)</script>"
    key = rating_keys(definition)[0]
    response = await client.post(COUNTER_FORM, data=filled_form(definition, **{key: "9", text_item.key: payload}))
    assert payload not in response.text and "&lt;script&gt;" in response.text
