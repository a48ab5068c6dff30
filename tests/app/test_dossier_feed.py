"""The dossier feed (issue #21): the one-stop system posts completed dossiers with a "dossiers" token; each gets a
one-time rating link and QR code; the citizen rates that very dossier without typing its code; a second rating,
even posted concurrently, is refused; a bad batch reports every row and stores nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
import pytest_asyncio
import zxingcpp
from PIL import Image

from survey_app.accounts import api_tokens
from survey_app.core.dossier_tables import Dossier, Procedure
from survey_app.core.tables import Domain, Response, Unit
from survey_app.core.vietnam_time import today_in_vietnam
from survey_app.public.services import dossier_hash
from tests.app.helpers import app_client, counter_definition, filled_form, signed_in

TODAY = today_in_vietnam()


def a_code() -> str:
    return f"000.00.12.H12-{uuid.uuid4().hex[:10].upper()}"


def dossier(code: str, **overrides) -> dict:
    fields = {"code": code, "procedure": "1.004227", "domain": "dat_dai", "unit": "SO09", "channel": "truc_tiep",
              "received_on": (TODAY - dt.timedelta(days=10)).isoformat(), "due_on": TODAY.isoformat(),
              "returned_on": (TODAY - dt.timedelta(days=1)).strftime("%d/%m/%Y")}
    return {**fields, **overrides}


@pytest_asyncio.fixture
async def client(app):
    async with app_client(app) as http:
        yield http


@pytest_asyncio.fixture
async def feed_token(app, settings) -> dict:
    token = await api_tokens.issue(settings.secret_key, "analyst", "Cổng một cửa", ["dossiers"], 30, actor="test")
    return {"Authorization": f"Bearer {token}"}


async def post_dossiers(client, headers, body) -> httpx.Response:
    return await client.post("/api/v1/dossiers", json=body, headers=headers)


def rating_form(rating: str = "5", key: str | None = None) -> dict:
    form = filled_form(counter_definition(), rating, key)
    form.pop("domain", None)  # the page does not ask: the dossier answers it
    return form


async def test_a_posted_dossier_is_rated_through_its_link_with_its_unit_domain_and_procedure(client, feed_token,
                                                                                             settings):
    codes = [a_code(), a_code()]
    sent = await post_dossiers(client, feed_token, {"dossiers": [dossier(codes[0]), dossier(
        codes[1], procedure="1.001193", domain="", unit="H02", channel="truc_tuyen")]})
    assert sent.status_code == 201, sent.text
    links = sent.json()["dossiers"]
    assert [entry["code"] for entry in links] == codes and sent.json()["stored"] == 2
    path = urlsplit(links[1]["rating_url"]).path
    page = await client.get(path)
    assert page.status_code == 200
    assert "Đăng ký khai sinh" in page.text and 'name="dossier_code"' not in page.text and 'name="domain"' not in page.text

    rated = await client.post(path, data=rating_form("4"))
    assert rated.status_code == 303 and rated.headers["location"].startswith(path + "/thanks")
    stored = await Dossier.select().where(Dossier.code_hash == dossier_hash(settings.secret_key, codes[1])).first()
    response = await Response.select().where(Response.id == stored["response"]).first()
    unit = await Unit.select(Unit.id).where(Unit.code == "H02").first()
    domain = await Domain.select(Domain.id).where(Domain.code == "ho_tich").first()
    procedure = await Procedure.select(Procedure.id).where(Procedure.code == "1.001193").first()
    assert (response["unit"], response["domain"], stored["procedure"]) == (unit["id"], domain["id"], procedure["id"])
    assert response["dossier_hash"] == stored["code_hash"] and response["channel"] == "link"
    answers = json.loads(response["answers"]) if isinstance(response["answers"], str) else response["answers"]
    assert answers["reception"] == 4 and "dossier_code" not in answers
    assert codes[1] not in str(response) and codes[1] not in str(stored)  # the code itself is never stored

    again = await client.post(path, data=rating_form("1"))
    assert again.status_code == 409 and "đã được đánh giá" in again.text
    assert (await client.get(path)).status_code == 409
    assert await Response.count().where(Response.dossier_hash == stored["code_hash"]) == 1


async def test_a_retry_of_the_same_rating_is_acknowledged_and_stored_once(client, feed_token):
    sent = await post_dossiers(client, feed_token, dossier(a_code()))
    path = urlsplit(sent.json()["dossiers"][0]["rating_url"]).path
    form = rating_form("5")
    assert (await client.post(path, data=form)).status_code == 303
    assert (await client.post(path, data=form)).status_code == 303  # the phone lost the first answer's reply


async def test_concurrent_double_posts_store_one_rating(client, feed_token, settings):
    code = a_code()
    sent = await post_dossiers(client, feed_token, [dossier(code)])
    path = urlsplit(sent.json()["dossiers"][0]["rating_url"]).path
    answers = await asyncio.gather(*[client.post(path, data=rating_form(str(1 + n % 5))) for n in range(8)])
    assert sorted(answer.status_code for answer in answers) == [303] + [409] * 7
    assert await Response.count().where(Response.dossier_hash == dossier_hash(settings.secret_key, code)) == 1


async def test_a_forged_or_unknown_link_is_a_vietnamese_not_found_page(client, feed_token):
    sent = await post_dossiers(client, feed_token, dossier(a_code()))
    path = urlsplit(sent.json()["dossiers"][0]["rating_url"]).path
    link_id, signature = path.removeprefix("/d/").rsplit(".", 1)
    for forged in (f"/d/{link_id}.{'A' * len(signature)}", f"/d/{link_id}", "/d/x.y"):
        page = await client.get(forged)
        assert page.status_code == 404 and "Không tìm thấy hồ sơ" in page.text
    assert (await client.post(f"/d/{link_id}.AAAA", data=rating_form())).status_code == 404


async def test_a_bad_batch_reports_every_row_and_field_and_stores_nothing(client, feed_token):
    stored_code = a_code()
    assert (await post_dossiers(client, feed_token, dossier(stored_code))).status_code == 201
    twice = a_code()
    batch = [
        dossier(a_code()),  # 1: good, but stored only with the rest
        dossier(a_code(), unit="ZZ99"),  # 2
        dossier(a_code(), procedure="9.999999"),  # 3
        dossier(a_code(), domain="khong_co"),  # 4
        dossier(a_code(), domain="ho_tich"),  # 5: the procedure is a land procedure
        dossier(a_code(), received_on="31/02/2026"),  # 6
        dossier(a_code(), received_on=TODAY.isoformat(), returned_on=(TODAY - dt.timedelta(days=3)).isoformat()),  # 7
        dossier(twice), dossier(twice),  # 8, 9
        dossier(stored_code),  # 10
        dossier("", channel="fax"),  # 11
    ]
    before = await Dossier.count()
    refused = await post_dossiers(client, feed_token, batch)
    assert refused.status_code == 422
    errors = {(error["row"], error["field"]) for error in refused.json()["errors"]}
    assert errors == {(2, "unit"), (3, "procedure"), (4, "domain"), (5, "domain"), (6, "received_on"),
                      (7, "returned_on"), (8, "code"), (9, "code"), (10, "code"), (11, "code"), (11, "channel")}
    messages = " ".join(error["message"] for error in refused.json()["errors"])
    for words in ("Không có đơn vị mã “ZZ99”", "Không có thủ tục mã “9.999999”", "không đúng dạng ngày",
                  "Ngày trả kết quả trước ngày tiếp nhận", "trùng trong cùng tệp/lô (dòng 8, 9)", "đã được gửi trước đây",
                  "Thiếu mã hồ sơ", "Kênh “fax” không có"):
        assert words in messages, words
    assert await Dossier.count() == before


async def test_the_feed_opens_only_to_a_dossiers_token(app, client, settings, feed_token):
    body = dossier(a_code())
    assert (await client.post("/api/v1/dossiers", json=body)).status_code == 401
    reader = await api_tokens.issue(settings.secret_key, "analyst", "đọc", ["results"], 30, actor="test")
    assert (await post_dossiers(client, {"Authorization": f"Bearer {reader}"}, body)).status_code == 403
    async with signed_in(app, "analyst") as browser:
        # no CSRF token is asked, so only JSON is taken: another site's form cannot send it
        form_post = await browser.post("/api/v1/dossiers", content=json.dumps(body).encode(),
                                       headers={"Content-Type": "text/plain"})
        assert form_post.status_code == 415
    bad = await client.post("/api/v1/dossiers", content=b"{not json",
                            headers={**feed_token, "Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["ok"] is False
    assert (await post_dossiers(client, feed_token, [1, 2])).status_code == 422


async def test_the_qr_code_of_a_dossier_opens_its_rating_link(client, feed_token, settings):
    sent = await post_dossiers(client, feed_token, dossier(a_code()))
    entry = sent.json()["dossiers"][0]
    png = await client.get(entry["qr_png"], headers=feed_token)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    decoded = [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))]
    assert decoded == [entry["rating_url"]]
    svg = await client.get(entry["qr_svg"], headers=feed_token)
    assert svg.status_code == 200 and svg.content.startswith(b"<?xml") and b"<svg" in svg.content
    assert (await client.get(entry["qr_png"])).status_code == 401
    reader = await api_tokens.issue(settings.secret_key, "analyst", "đọc", ["results"], 30, actor="test")
    assert (await client.get(entry["qr_png"], headers={"Authorization": f"Bearer {reader}"})).status_code == 403
    assert (await client.get("/api/v1/dossiers/unknown/qr", headers=feed_token)).status_code == 404


async def test_retention_unlinks_the_dossier_from_its_rating_but_still_refuses_a_second(client, feed_token):
    from survey_app.public.retention import store_anonymised

    sent = await post_dossiers(client, feed_token, dossier(a_code()))
    path = urlsplit(sent.json()["dossiers"][0]["rating_url"]).path
    assert (await client.post(path, data=rating_form("4"))).status_code == 303
    link_id = path.removeprefix("/d/").rsplit(".", 1)[0]
    rated = await Dossier.select(Dossier.response).where(Dossier.link_id == link_id).first()
    await store_anonymised(rated["response"], {"reception": 4})
    after = await Dossier.select(Dossier.response, Dossier.rated_at).where(Dossier.link_id == link_id).first()
    assert after["response"] is None and after["rated_at"] is not None
    assert (await client.post(path, data=rating_form("1"))).status_code == 409


async def test_two_batches_sending_one_code_at_once_store_it_once(client, feed_token, settings):
    for _ in range(3):  # the race (both checked before either is stored) or not, the outcome is the same
        code = a_code()
        others = [a_code(), a_code()]
        batches = [[dossier(code), dossier(others[0])], [dossier(others[1]), dossier(code)]]
        answers = await asyncio.gather(*[post_dossiers(client, feed_token, batch) for batch in batches])
        assert sorted(answer.status_code for answer in answers) == [201, 422]
        assert await Dossier.count().where(Dossier.code_hash == dossier_hash(settings.secret_key, code)) == 1
        refused = next(answer for answer in answers if answer.status_code == 422)
        assert refused.json()["errors"][0]["field"] == "code"
        hashes = [dossier_hash(settings.secret_key, other) for other in others]
        assert await Dossier.count().where(Dossier.code_hash.is_in(hashes)) == 1  # nothing of the refused batch


async def test_without_an_open_rating_campaign_the_link_says_so_and_stores_nothing(client, feed_token):
    from survey_app.core.tables import Campaign

    sent = await post_dossiers(client, feed_token, dossier(a_code()))
    path = urlsplit(sent.json()["dossiers"][0]["rating_url"]).path
    before = await Response.count()
    await Campaign.update({Campaign.status: "paused"}).where(Campaign.code == "QUAY-2026")
    try:
        page = await client.get(path)
        assert page.status_code == 410 and "Chưa có đợt đánh giá đang mở" in page.text
        assert (await client.post(path, data=rating_form())).status_code == 410
    finally:
        await Campaign.update({Campaign.status: "open"}).where(Campaign.code == "QUAY-2026")
    assert await Response.count() == before
    assert (await client.get(path)).status_code == 200  # open again: the same link works
