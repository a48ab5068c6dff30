"""Paper mode end to end: print numbered copies (PDF text and QR read back), key them twice, settle a difference,
find one paper response in the figures and the export; the refusals that keep a copy to one response."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess

import pytest

from questionnaires.paper import answer_codes, is_coded
from survey_app.campaigns.catalog import definition_of
from survey_app.core.paper_tables import PaperCopy, PaperEntry
from survey_app.core.tables import Campaign, Questionnaire, Response
from survey_app.paper.services import copy_token, online_url
from survey_app.results.dashboard import campaign_figures
from tests.app.analyst_helpers import signed_in_client
from tests.app.helpers import filled_form, post_form
from tests.app.test_sample_cli import SURVEY, make_campaign
from tests.app.test_slips import decoded_qr_codes, pdf_text

CAMPAIGN = "SIPAS-2026"
PAPER_PAGE = f"/analyst/campaigns/{CAMPAIGN}/paper"
KEYING = f"/staff/paper/{CAMPAIGN}"


async def campaign_and_definition(code: str = CAMPAIGN):
    campaign = await Campaign.select().where(Campaign.code == code).first()
    questionnaire = await Questionnaire.select().where(Questionnaire.id == campaign["questionnaire"]).first()
    return campaign, definition_of(questionnaire)


async def print_copies(client, count: int, unit: str = "SO01"):
    """Print through the page; the response and the serials just numbered (newest copies of the campaign)."""
    printed = await post_form(client, f"{PAPER_PAGE}/print", {"unit": unit, "copies": str(count)}, page_path=PAPER_PAGE)
    campaign, _ = await campaign_and_definition()
    rows = await PaperCopy.select(PaperCopy.serial).where(PaperCopy.campaign == campaign["id"]) \
        .order_by(PaperCopy.serial, ascending=False).limit(count)
    return printed, sorted(row["serial"] for row in rows)


def keyed_copy(definition, rating: str = "4") -> dict:
    """What an operator types for a complete copy: every rating `rating`, the first box of every other required
    coded question (the SIPAS form's "gave feedback" is 1 = Có, so its follow-up questions are asked too)."""
    keyed = {}
    for item in definition.items:
        if item.type == "rating5":
            keyed[item.key] = rating
        elif is_coded(item) and (item.required or item.key == "gave_feedback"):
            keyed[item.key] = answer_codes(item)[0][0]
    return keyed


async def key(client, serial: int, keyed: dict):
    return await post_form(client, KEYING, {"_copy": str(serial), **keyed}, page_path=f"{KEYING}?copy={serial}")


async def paper_responses(campaign_id: int) -> list[dict]:
    return await Response.select().where((Response.campaign == campaign_id) & (Response.channel == "paper"))


async def test_print_key_twice_settle_and_find_one_paper_response(app, settings, analyst):
    campaign, definition = await campaign_and_definition()
    printed, serials = await print_copies(analyst, 2)
    assert printed.status_code == 200 and printed.headers["content-type"].startswith("application/pdf")
    text = pdf_text(printed.content)
    for serial in serials:
        assert f"Phiếu số: {serial:06d}" in text and f"Phiếu số {serial:06d} · trang 2" in text
    assert "Khảo sát SIPAS năm 2026" in text and "Câu 8. Nơi ngồi chờ" in text and "Rất hài lòng" in text
    assert "Nếu câu 31 là 'Có', trả lời các câu 32–35; nếu không, chuyển sang câu 36." in text
    assert decoded_qr_codes(printed.content) == [
        online_url(settings.base_url, copy_token(settings.secret_key, campaign["id"], serial)) for serial in serials]

    so01, admin = await signed_in_client(app, "so01"), await signed_in_client(app, "admin")
    serial, first = serials[0], keyed_copy(definition)
    second = {**first, "official_polite": "5"}  # the second operator reads one box differently
    saved = await key(so01, serial, first)
    assert saved.status_code == 303 and "l%E1%BA%A7n+nh%E1%BA%ADp+1" in saved.headers["location"]
    again = await key(so01, serial, second)  # the same operator cannot give the second entry
    assert again.status_code == 409 and "lần nhập kia phải do một người khác làm" in again.text
    copy = await PaperCopy.select().where((PaperCopy.campaign == campaign["id"]) & (PaperCopy.serial == serial)).first()
    assert await PaperEntry.count().where(PaperEntry.copy == copy["id"]) == 1

    before = (await campaign_figures(campaign))["responses"]
    assert (await key(analyst, serial, second)).status_code == 303
    assert await paper_responses(campaign["id"]) == []  # different: nothing stored until settled
    listed = await analyst.get(PAPER_PAGE)
    assert f"/paper/copies/{serial}" in listed.text

    settle_path = f"{PAPER_PAGE}/copies/{serial}"
    page = await admin.get(settle_path)
    assert page.status_code == 200 and 'data-item="official_polite"' in page.text
    row = page.text.split('data-item="official_polite"')[1].split("</tr>")[0]
    assert "Câu 19." in row and "> 4<" in row and "> 5<" in row and row.index("> 4<") < row.index("> 5<")
    refused = await post_form(analyst, settle_path, {"pick_official_polite": "2"}, page_path=settle_path)
    assert refused.status_code == 403 and "Người đã nhập phiếu không tự đối chiếu" in refused.text
    unanswered = await post_form(admin, settle_path, {}, page_path=settle_path)
    assert unanswered.status_code == 422 and "Câu 19: hãy chọn lần nhập đúng" in unanswered.text
    settled = await post_form(admin, settle_path, {"pick_official_polite": "2"}, page_path=settle_path)
    assert settled.status_code == 303

    stored = await paper_responses(campaign["id"])
    assert len(stored) == 1 and stored[0]["unit"] == copy["unit"]
    answers = stored[0]["answers"] if isinstance(stored[0]["answers"], dict) else json.loads(
        stored[0]["answers"])
    assert answers["official_polite"] == 5 and answers["official_listen"] == 4 and answers["gave_feedback"] == "co"
    assert (await PaperCopy.select(PaperCopy.status, PaperCopy.response).where(PaperCopy.id == copy["id"]).first()) \
        == {"status": "keyed", "response": stored[0]["id"]}
    assert {row["answers"] in ("{}", {}) for row in await PaperEntry.select().where(PaperEntry.copy == copy["id"])} \
        == {True}  # once stored, only the response keeps the answers (retention finds no second copy)
    assert (await campaign_figures(campaign))["responses"] == before + 1  # paper and web analysed together
    export = await analyst.get(f"/analyst/campaigns/{CAMPAIGN}/export/csv")
    rows = list(csv.DictReader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert [row["response_id"] for row in rows if row["response_mode"] == "paper"] == [str(stored[0]["id"])]
    assert {row["response_mode"] for row in rows} == {"paper", "web"}
    assert (await key(admin, serial, first)).status_code == 409  # a stored copy takes no further entry
    for client in (so01, admin):
        await client.aclose()


async def test_two_identical_entries_store_the_response_at_once(app, analyst):
    campaign, definition = await campaign_and_definition()
    _, (serial,) = await print_copies(analyst, 1)
    h01 = await signed_in_client(app, "admin")
    entry = keyed_copy(definition, rating="2")
    assert (await key(analyst, serial, entry)).status_code == 303
    done = await key(h01, serial, {**entry, "official_polite": " 02 "})  # the same code, typed differently
    assert done.status_code == 303 and "kh%E1%BB%9Bp" in done.headers["location"]  # "khớp": stored
    copy = await PaperCopy.select().where((PaperCopy.campaign == campaign["id"]) & (PaperCopy.serial == serial)).first()
    response = await Response.select(Response.channel).where(Response.id == copy["response"]).first()
    assert copy["status"] == "keyed" and response == {"channel": "paper"}
    await h01.aclose()


async def test_a_third_keying_settles_a_difference_by_majority(app, analyst):
    campaign, definition = await campaign_and_definition()
    _, (serial,) = await print_copies(analyst, 1)
    so01, admin = await signed_in_client(app, "so01"), await signed_in_client(app, "admin")
    entry = keyed_copy(definition)
    assert (await key(so01, serial, entry)).status_code == 303
    assert (await key(analyst, serial, {**entry, "result_complete": "2", "age_group": "3"})).status_code == 303
    settle_page = await analyst.get(f"{PAPER_PAGE}/copies/{serial}")
    assert 'data-item="result_complete"' in settle_page.text and 'data-item="age_group"' in settle_page.text
    third = await key(admin, serial, {**entry, "age_group": "3"})  # agrees with one entry on each question
    assert third.status_code == 303 and "kh%E1%BB%9Bp" in third.headers["location"]
    copy = await PaperCopy.select().where((PaperCopy.campaign == campaign["id"]) & (PaperCopy.serial == serial)).first()
    stored = await Response.select(Response.answers).where(Response.id == copy["response"]).first()
    answers = stored["answers"] if isinstance(stored["answers"], dict) else json.loads(stored["answers"])
    assert answers["result_complete"] == 4 and answers["age_group"] == definition.item("age_group").choices[2].value
    for client in (so01, admin):
        await client.aclose()


async def test_a_copy_answered_online_refuses_keying_and_a_keyed_copy_refuses_online(app, settings, analyst, client):
    campaign, definition = await campaign_and_definition()
    _, (online_serial, paper_serial) = await print_copies(analyst, 2)
    link = f"/p/{copy_token(settings.secret_key, campaign['id'], online_serial)}"
    form = await client.get(link)
    assert form.status_code == 200 and f"Phiếu số {online_serial:06d}" in form.text
    sent = await client.post(link, data=filled_form(definition))
    assert sent.status_code == 303 and sent.headers["location"].startswith(f"{link}/thanks")
    thanks = await client.get(sent.headers["location"])
    assert thanks.status_code == 200 and "Đã gửi — xin cảm ơn ông/bà!" in thanks.text
    copy = await PaperCopy.select().where((PaperCopy.campaign == campaign["id"])
                                          & (PaperCopy.serial == online_serial)).first()
    assert copy["status"] == "online"
    assert (await Response.select(Response.channel).where(Response.id == copy["response"]).first()) == \
        {"channel": "paper_qr"}
    assert (await client.get(link)).status_code == 410
    twice = await client.post(link, data=filled_form(definition))
    assert twice.status_code == 410 and "đã được trả lời trực tuyến" in twice.text
    refused = await analyst.get(f"{KEYING}?copy={online_serial}")
    assert refused.status_code == 409 and "đã được trả lời trực tuyến bằng mã QR" in refused.text
    posted = await key(analyst, online_serial, keyed_copy(definition))
    assert posted.status_code == 409 and await PaperEntry.count().where(PaperEntry.copy == copy["id"]) == 0

    assert (await key(analyst, paper_serial, keyed_copy(definition))).status_code == 303
    paper_link = f"/p/{copy_token(settings.secret_key, campaign['id'], paper_serial)}"
    closed = await client.post(paper_link, data=filled_form(definition))
    assert closed.status_code == 410 and "đang được nhập liệu" in closed.text
    assert (await client.get(paper_link + "x")).status_code == 404  # a forged link
    forged = f"/p/{campaign['id']}-{paper_serial + 1000}-{'0' * 20}"
    assert (await client.get(forged)).status_code == 404


async def test_keyed_answers_are_checked_like_web_answers_with_vietnamese_errors_per_question(app, analyst):
    campaign, definition = await campaign_and_definition()
    _, (serial,) = await print_copies(analyst, 1)
    wrong = {**keyed_copy(definition), "access_seats": "7", "gender": ""}
    page = await key(analyst, serial, wrong)
    assert page.status_code == 422
    assert "Câu 8: Mã 7 không có trong câu này (được nhập: 1–5; 9 = Không áp dụng / Không biết)." in page.text
    assert 'id="k-gender-error"' in page.text and 'aria-invalid="true"' in page.text
    copy = await PaperCopy.select().where((PaperCopy.campaign == campaign["id"]) & (PaperCopy.serial == serial)).first()
    assert copy["status"] == "printed" and await PaperEntry.count().where(PaperEntry.copy == copy["id"]) == 0
    unknown = await analyst.get(f"{KEYING}?copy=999999")
    assert unknown.status_code == 404 and "Không có phiếu số 999999" in unknown.text
    letters = await analyst.get(f"{KEYING}?copy=abc")
    assert letters.status_code == 422 and "Số phiếu là dãy số" in letters.text


@pytest.mark.parametrize("copies, message", [("0", "Số bản in phải là một số nguyên từ 1 đến 10.000."),
                                             ("10001", "Số bản in phải là"), ("mười", "Số bản in phải là")])
async def test_printing_refuses_a_bad_number_of_copies(app, analyst, copies, message):
    page = await post_form(analyst, f"{PAPER_PAGE}/print", {"unit": "SO01", "copies": copies}, page_path=PAPER_PAGE)
    assert page.status_code == 422 and message in page.text


async def test_a_closed_campaign_takes_no_more_entries(app, analyst):
    source, _ = await campaign_and_definition()
    closed = Campaign(code="PAPER-CLOSED", name="Đợt đã đóng", questionnaire=source["questionnaire"], status="closed",
                      starts_on=source["starts_on"], ends_on=source["ends_on"])
    await closed.save()
    unit = (await Response.select(Response.unit).where(Response.campaign == source["id"]).first())["unit"]
    await PaperCopy.insert(PaperCopy(campaign=closed.id, unit=unit, serial=1))
    page = await analyst.get("/staff/paper/PAPER-CLOSED?copy=1")
    assert page.status_code == 409 and "Đợt PAPER-CLOSED đã đóng: không nhập thêm phiếu." in page.text
    await PaperCopy.delete().where(PaperCopy.campaign == closed.id)
    await Campaign.delete().where(Campaign.id == closed.id)


async def test_printing_refuses_an_officials_campaign(app, analyst):
    code = await make_campaign("PAPER-OFFICIALS")
    path = f"/analyst/campaigns/{code}/paper"
    page = await post_form(analyst, f"{path}/print", {"unit": "SO01", "copies": "2"}, page_path=path)
    assert page.status_code == 422 and "Phiếu giấy chỉ dùng cho đợt khảo sát người dân" in page.text


async def test_survey_paper_print_numbers_copies_after_the_web_ones(app, settings, analyst, tmp_path):
    _, serials = await print_copies(analyst, 1)
    output = tmp_path / "copies.pdf"
    environment = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key}
    result = subprocess.run([str(SURVEY), "paper", "print", "--campaign", CAMPAIGN, "--unit", "H01", "--copies", "3",
                             "-o", str(output)], capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    numbers = [f"{serial:06d}" for serial in range(serials[-1] + 1, serials[-1] + 4)]
    assert f"copies {numbers[0]}–{numbers[-1]}" in result.stdout
    text = pdf_text(output.read_bytes())
    assert all(f"Phiếu số: {number}" in text for number in numbers)
    refused = subprocess.run([str(SURVEY), "paper", "print", "--campaign", CAMPAIGN, "--unit", "NOPE", "--copies", "1",
                              "-o", str(tmp_path / "none.pdf")], capture_output=True, text=True, env=environment,
                             timeout=120)
    assert refused.returncode == 1 and "Hãy chọn đơn vị phát phiếu" in refused.stderr
    assert not (tmp_path / "none.pdf").exists()


def test_the_print_job_pickles_for_the_staff_worker_process():
    """`survey serve` builds the PDF in the worker process: what goes there must pickle, even after the definition
    checked answers (its compiled conditions do not pickle, so the dict form is sent)."""
    import pickle

    from questionnaires import load_shipped
    from survey_app.paper.printing import PrintedCopy, paper_pdf_from_dict

    definition = load_shipped()["counter_rating"]
    definition.validate_answers({"reception": "1"})
    job = pickle.loads(pickle.dumps((definition.to_dict(), "Đợt", "Đơn vị", [PrintedCopy(7, "https://x/p/1-7-a")])))
    assert "Phiếu số: 000007" in pdf_text(paper_pdf_from_dict(*job))


async def test_a_keyed_dossier_code_is_stored_only_as_its_hash_and_rated_once(app, settings, analyst):
    from survey_app.public.services import dossier_hash

    path = "/analyst/campaigns/QUAY-2026/paper"
    await post_form(analyst, f"{path}/print", {"unit": "SO01", "copies": "2"}, page_path=path)
    campaign, definition = await campaign_and_definition("QUAY-2026")
    rows = await PaperCopy.select().where(PaperCopy.campaign == campaign["id"]).order_by(PaperCopy.serial)
    first, second = rows[-2], rows[-1]
    admin = await signed_in_client(app, "admin")
    entry = {**keyed_copy(definition), "dossier_code": "HS-2026-000123"}
    keying = "/staff/paper/QUAY-2026"
    for client in (analyst, admin):
        sent = await post_form(client, keying, {"_copy": str(first["serial"]), **entry},
                               page_path=f"{keying}?copy={first['serial']}")
        assert sent.status_code == 303
    stored = await PaperCopy.select(PaperCopy.response).where(PaperCopy.id == first["id"]).first()
    response = await Response.select().where(Response.id == stored["response"]).first()
    assert response["dossier_hash"] == dossier_hash(settings.secret_key, "HS-2026-000123")
    assert "HS-2026-000123" not in json.dumps(response, default=str)
    again = await post_form(analyst, keying, {"_copy": str(second["serial"]), **entry},
                            page_path=f"{keying}?copy={second['serial']}")
    assert again.status_code == 422 and "Hồ sơ này đã được đánh giá trong đợt khảo sát." in again.text
    assert await PaperEntry.count().where(PaperEntry.copy == second["id"]) == 0
    await admin.aclose()


async def test_a_keyed_paper_response_is_sent_to_the_campaigns_webhooks_once(app, analyst):
    from survey_app.core.webhook_tables import WebhookDelivery, WebhookSubscription

    campaign, definition = await campaign_and_definition()
    subscription = (await WebhookSubscription.insert(WebhookSubscription(
        campaign=campaign["id"], url="http://receiver.invalid/hook", secret="whsec_dGVzdA==",
        events=",response.stored,")).returning(WebhookSubscription.id))[0]["id"]
    try:
        _, (serial,) = await print_copies(analyst, 1)
        h01 = await signed_in_client(app, "admin")
        entry = keyed_copy(definition)
        await key(analyst, serial, entry)
        assert (await key(h01, serial, entry)).status_code == 303
        await h01.aclose()
        copy = await PaperCopy.select().where((PaperCopy.campaign == campaign["id"]) & (PaperCopy.serial == serial)).first()
        deliveries = await WebhookDelivery.select(WebhookDelivery.event_type, WebhookDelivery.subject).where(
            WebhookDelivery.subscription == subscription)
        assert deliveries == [{"event_type": "response.stored", "subject": str(copy["response"])}]
    finally:
        await WebhookSubscription.delete().where(WebhookSubscription.id == subscription)


def test_a_dates_limits_are_printed_in_words():
    from questionnaires import Item
    from survey_app.paper.printing import _limits

    born = Item(key="dob", type="date", label={"vi": "Ngày sinh"}, earliest="1900-01-01", latest="today")
    assert _limits(born) == "(từ 01/01/1900 đến hôm nay)"
    assert _limits(Item(key="d", type="date", label={"vi": "Ngày"}, latest="2024-12-31")) == "(đến 31/12/2024)"
