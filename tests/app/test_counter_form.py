"""The QR → form → stored response path, with every kind of bad input from the platform issue."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from survey_app.core.tables import Campaign, Counter, Response
from survey_app.core.settings import Settings
from survey_app.core.tokens import sign, verify
from tests.app.helpers import form_path, counter_definition, filled_form, hidden_key, rating_keys, response_count


async def test_form_renders_in_vietnamese_without_javascript(client, counter_form):
    response = await client.get(counter_form)
    assert response.status_code == 200
    html = response.text
    assert html.count("<script") == html.count("<script src=") == 2  # scripts only from files, none inline
    assert 'lang="vi"' in html and "Gửi đánh giá" in html
    for key in rating_keys(counter_definition()):
        assert f'name="{key}"' in html
    assert len(hidden_key(html)) == 32


async def test_english_is_the_second_language(client, counter_form):
    response = await client.get(counter_form, params={"lang": "en"})
    assert response.status_code == 200 and "Submit" in response.text


@pytest.mark.parametrize("counter,campaign", [("NO-SUCH-COUNTER", "QUAY-2026"), ("SO01-Q1", "NO-SUCH-CAMPAIGN")])
async def test_unknown_counter_or_campaign_is_a_vietnamese_404(client, settings, counter, campaign):
    response = await client.get(form_path(settings, counter, campaign))
    assert response.status_code == 404
    assert "Không tìm thấy" in response.text


def tampered(path: str) -> str:
    """Change the counter inside a valid token, keeping its signature."""
    return path.replace("SO01-Q1", "SO02-Q1")


@pytest.mark.parametrize("make_path,status,message", [
    (lambda settings: tampered(form_path(settings)), 403, "đã bị sửa đổi"),
    (lambda settings: "/q/SO01-Q1.QUAY-2026.k1.0.AAAAAAAAAAAAAAAA", 403, "đã bị sửa đổi"),
    (lambda settings: "/q/not-a-token", 403, "không hợp lệ"),
    (lambda settings: form_path(settings, expires_on=dt.date(2020, 1, 1)), 410, "hết hạn"),
    (lambda settings: "/q/" + sign({"k9": b"old key"}, "SO01-Q1", "QUAY-2026"), 403, "thu hồi"),
])
async def test_bad_tokens_get_a_vietnamese_page_and_store_nothing(client, settings, make_path, status, message):
    path = make_path(settings)
    before = await response_count()
    for response in (await client.get(path), await client.post(path, data=filled_form(counter_definition()))):
        assert response.status_code == status
        assert message in response.text
    assert await response_count() == before


async def test_a_key_rotation_keeps_old_posters_valid(client, settings):
    rotated = Settings.from_env({"SECRET_KEY": settings.secret_key, "SIGNING_KEYS": "k2:new secret,k1:x"})
    assert sign(rotated.signing_keys, "SO01-Q1", "QUAY-2026").split(".")[2] == "k2"
    assert verify(rotated.signing_keys, sign({"k1": b"x"}, "SO01-Q1", "QUAY-2026"), dt.date.today()).key_id == "k1"


async def test_valid_submission_is_stored_once_with_its_context(client, counter_form):
    before = await response_count()
    post = filled_form(counter_definition(), rating="4")
    response = await client.post(counter_form, data=post)
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


async def test_retry_with_the_same_key_is_acknowledged_but_stored_once(client, counter_form):
    post = filled_form(counter_definition(), rating="5")
    first = await client.post(counter_form, data=post)
    again = await client.post(counter_form, data=post)
    assert first.status_code == again.status_code == 303
    assert await response_count(idempotency_key=post["_key"]) == 1


async def test_same_key_with_other_answers_is_refused_and_the_first_kept(client, counter_form):
    definition = counter_definition()
    post = filled_form(definition, rating="5")
    await client.post(counter_form, data=post)
    refused = await client.post(counter_form, data={**post, rating_keys(definition)[0]: "1"})
    assert refused.status_code == 409
    stored = await Response.select(Response.answers).where(Response.idempotency_key == post["_key"]).first()
    answers = stored["answers"] if isinstance(stored["answers"], dict) else json.loads(stored["answers"])
    assert answers[rating_keys(definition)[0]] == 5


async def test_missing_required_answer_comes_back_with_answers_kept(client, counter_form):
    definition = counter_definition()
    required = next(item for item in definition.items if item.required and item.type == "rating5")
    other = next(key for key in rating_keys(definition) if key != required.key)
    post = filled_form(definition, rating="5", **{other: "2"})
    post.pop(required.key)
    before = await response_count()
    response = await client.post(counter_form, data=post)
    assert response.status_code == 422
    html = response.text
    assert f'id="item-{required.key}"' in html
    error_block = html.split(f'id="item-{required.key}"')[1].split('<div class="item')[0]
    assert 'class="error"' in error_block and "Vui lòng" in error_block
    assert f'name="{other}" value="2" checked' in html  # the answers given are kept
    assert await response_count() == before


async def test_out_of_range_rating_is_refused_next_to_the_field(client, counter_form):
    definition = counter_definition()
    key = rating_keys(definition)[0]
    before = await response_count()
    response = await client.post(counter_form, data=filled_form(definition, **{key: "9"}))
    assert response.status_code == 422
    assert 'class="error"' in response.text.split(f'id="item-{key}"')[1].split('<div class="item')[0]
    assert await response_count() == before


async def test_dossier_code_is_stored_only_as_a_keyed_hash_and_rated_once(client, counter_form):
    definition = counter_definition()
    dossier_item = next(item for item in definition.items if item.type == "dossier_code")
    code = "000.00.15.H01-261123-0042"
    first = await client.post(counter_form, data=filled_form(definition, **{dossier_item.key: code}))
    assert first.status_code == 303
    rows = await Response.select(Response.answers, Response.dossier_hash, Response.answers_digest).where(
        Response.dossier_hash.is_not_null())
    assert rows and all(code not in json.dumps(row) for row in rows)
    # nor inside an unkeyed hash (which trying every code would reverse): the digest is of stored data only
    from survey_app.public.services import answers_digest

    for row in rows:
        stored = json.loads(row["answers"]) if isinstance(row["answers"], str) else row["answers"]
        assert row["answers_digest"] == answers_digest({**stored, "_dossier_hash": row["dossier_hash"]})
    before = await response_count()
    second = await client.post(counter_form, data=filled_form(definition, **{dossier_item.key: code.lower()}))
    assert second.status_code == 409
    assert "đã được đánh giá" in second.text
    assert await response_count() == before


async def test_closed_campaign_shows_a_friendly_page_and_stores_nothing(client, counter_form):
    campaign = await Campaign.select().where(Campaign.code == "QUAY-2026").first()
    await Campaign.update({Campaign.status: "closed"}).where(Campaign.id == campaign["id"])
    try:
        before = await response_count()
        page = await client.get(counter_form)
        posted = await client.post(counter_form, data=filled_form(counter_definition()))
        assert page.status_code == posted.status_code == 410
        assert "Đợt khảo sát đã kết thúc" in page.text
        assert await response_count() == before
    finally:
        await Campaign.update({Campaign.status: "open"}).where(Campaign.id == campaign["id"])


async def test_script_in_a_text_answer_is_never_rendered_raw(client, counter_form):
    definition = counter_definition()
    text_item = next((item for item in definition.items if item.type == "text"), None)
    assert text_item is not None
    payload = "<script>alert(1)</script>"
    key = rating_keys(definition)[0]
    response = await client.post(counter_form, data=filled_form(definition, **{key: "9", text_item.key: payload}))
    assert payload not in response.text and "&lt;script&gt;" in response.text


@pytest.mark.parametrize("sent_key", ["bad\x00key", "x" * 65, "khóa-có-dấu"])
async def test_a_key_the_page_never_makes_is_replaced_and_the_answer_stored(client, counter_form, sent_key):
    before = await response_count()
    response = await client.post(counter_form, data=filled_form(counter_definition(), rating="4", key=sent_key))
    assert response.status_code == 303
    newest = await Response.select(Response.idempotency_key).order_by(Response.id, ascending=False).first()
    assert await response_count() == before + 1
    assert newest["idempotency_key"] != sent_key and len(newest["idempotency_key"]) == 32  # a fresh uuid4 hex
