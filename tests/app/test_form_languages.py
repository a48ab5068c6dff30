"""A questionnaire in three languages on the phone form: a switch names each language in its own language, the
questionnaire text is shown in the chosen one (marked with its lang), the page's own words stay Vietnamese, and the
server's messages are the form's constraint_message in that language, else Vietnamese."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import httpx
import pytest_asyncio

from questionnaires import Questionnaire, load_definition, load_shipped
from survey_app.campaigns.catalog import register
from survey_app.core.campaign_tables import CampaignUnit
from survey_app.core.tables import Campaign, Unit
from tests.app.helpers import draw_officials, form_path, hidden_key
from tests.questionnaires.test_languages import THREE_LANGUAGES



def four_languages():
    """THREE_LANGUAGES with Khmer too (each Khmer text is the French one, but for the age question's label), its
    rating section a table-list, with a dossier code."""
    text = re.sub(r"fr: ([^,}]+)}", r"fr: \1, km: \1}", THREE_LANGUAGES)
    text = text.replace("  - key: rating\n", "  - key: rating\n    appearance: table-list\n").replace(
        "      - key: fruit\n", "      - key: dossier\n        type: dossier_code\n"
        "        label: {vi: Mã hồ sơ, en: Dossier code, fr: Numéro du dossier, km: លេខ}\n      - key: fruit\n")
    text = text.replace("[vi, en, fr]", "[vi, en, fr, km]").replace("key: trilingual", "key: four_languages")
    return load_definition(text.replace("fr: Âge, km: Âge}", "fr: Âge, km: អាយុ}"))


@pytest_asyncio.fixture(scope="module")
async def languages_form(app, settings) -> str:
    """An open campaign on the four-language form at SO14 only (no other test rates there: a campaign without units
    would be the newest one that rates every unit's dossiers)."""
    today = dt.date.today()
    if not await Campaign.exists().where(Campaign.code == "LANGS-2026"):  # the browser test uses it too
        campaign = Campaign(code="LANGS-2026", name="Bốn ngôn ngữ", questionnaire=await register(four_languages()),
                            status="open", starts_on=today.replace(month=1, day=1),
                            ends_on=today.replace(month=12, day=31))
        await campaign.save()
        unit = await Unit.select(Unit.id).where(Unit.code == "SO14").first()
        await CampaignUnit(campaign=campaign.id, unit=unit["id"]).save()
    return form_path(settings, counter_code="SO14-Q1", campaign_code="LANGS-2026")


@pytest_asyncio.fixture(scope="module")
async def client(app):
    """A client of its own: the posts here do not spend the shared client's per-minute limit."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.122", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as own_client:
        yield own_client


async def test_the_switch_lists_the_form_languages_by_their_own_names(client, languages_form):
    page = (await client.get(languages_form)).text
    switch = re.search(r'<p class="lang">(.*?)</p>', page).group(1)
    assert re.findall(r'lang="([^"]+)">([^<]+)</a>', switch) == [("en", "English"), ("fr", "Français"),
                                                                  ("km", "ភាសាខ្មែរ")]
    assert f'href="{languages_form}?lang=fr"' in switch
    french = (await client.get(languages_form, params={"lang": "fr"})).text
    assert re.findall(r'lang="([^"]+)">([^<]+)</a>', re.search(r'<p class="lang">(.*?)</p>', french).group(1)) == [
        ("vi", "Tiếng Việt"), ("en", "English"), ("km", "ភាសាខ្មែរ")]


async def test_the_questionnaire_text_is_translated_and_the_page_words_stay_vietnamese(client, languages_form):
    page = (await client.get(languages_form, params={"lang": "fr"})).text
    assert '<html lang="vi">' in page and "Gửi đánh giá" in page  # the page's own words
    assert '<h1><span lang="fr">Enquête</span></h1>' in page
    assert '<span lang="fr">Âge</span>' in page and '<span lang="fr">Pomme</span>' in page
    # the standard scale has no French: its labels show the Vietnamese, and say so
    assert '<span lang="vi">Rất hài lòng</span>' not in page  # vi text on a vi page: no mark needed
    assert "Rất hài lòng" in page
    assert '<input type="hidden" name="_lang" value="fr">' in page
    assert '<section class="table-list" data-conditional hidden>' in page  # choices side by side (app.css)
    khmer = (await client.get(languages_form, params={"lang": "km"})).text
    assert '<span lang="km">អាយុ</span>' in khmer
    english = (await client.get(languages_form, params={"lang": "en"})).text
    assert '<html lang="en">' in english and "<h1>Survey</h1>" in english and "Submit" in english
    unknown = (await client.get(languages_form, params={"lang": "de"})).text
    assert '<html lang="vi">' in unknown and "<h1>Khảo sát</h1>" in unknown


async def test_server_messages_use_the_constraint_message_in_that_language_else_vietnamese(client, languages_form):
    page = (await client.get(languages_form, params={"lang": "fr"})).text
    sent = await client.post(languages_form, data={"_key": uuid.uuid4().hex, "_lang": "fr", "age": "12"})
    assert sent.status_code == 422
    assert "De 18 à 99" in sent.text and '<html lang="vi">' in sent.text
    missing = await client.post(languages_form, data={"_key": hidden_key(page), "_lang": "fr"})
    assert missing.status_code == 422 and "Vui lòng trả lời câu hỏi này." in missing.text
    stored = await client.post(languages_form, data={"_key": hidden_key(page), "_lang": "fr", "age": "30",
                                                     "fruit": "apple"})
    assert stored.status_code == 303 and stored.headers["location"].endswith("/thanks?lang=fr")
    rated = {"_lang": "fr", "age": "30", "fruit": "apple", "dossier": "HS-000123"}
    assert (await client.post(languages_form, data={**rated, "_key": uuid.uuid4().hex})).status_code == 303
    again = await client.post(languages_form, data={**rated, "_key": uuid.uuid4().hex})
    assert again.status_code == 409 and "Hồ sơ này đã được đánh giá trong đợt khảo sát." in again.text


def test_exports_and_paper_use_the_default_language_whatever_the_form_has():
    import io

    from pypdf import PdfReader

    from survey_app.exports.codebook import answer_columns
    from survey_app.paper.printing import PrintedCopy, paper_pdf

    columns = {column.variable.name: column.variable for column in answer_columns([four_languages()])}
    assert (columns["fruit"].label_vi, columns["fruit"].value_labels) == ("Quả", {1: "Táo", 2: "Lê"})
    assert (columns["fruit"].label_en, columns["fruit"].value_labels_en) == ("Fruit", {1: "Apple", 2: "Pear"})
    assert columns["service"].value_labels[5] == "Rất hài lòng"
    pdf = paper_pdf(four_languages(), "Đợt thử", "Sở Nội vụ", [PrintedCopy(1, "https://example.test/p/x")])
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Câu 1. Tuổi" in text and "Âge" not in text and "Pomme" not in text


def with_french(definition):
    """The definition with French added: each French text is 'FR ' and the Vietnamese one."""
    def add(texts):
        return {**texts, "fr": f"FR {texts['vi']}"} if isinstance(texts, dict) and "vi" in texts else texts

    def walk(value, name=""):
        if isinstance(value, dict):
            if name in ("title", "label", "hint", "description", "constraint_message") and "vi" in value:
                return add(value)
            return {key: walk(inner, key) for key, inner in value.items()}
        if isinstance(value, list):
            return [walk(inner, name) for inner in value]
        return value

    data = walk(definition.to_dict())
    return Questionnaire.from_dict({**data, "version": "fr-1", "languages": [*data["languages"], "fr"]})


async def test_an_official_switches_the_questionnaire_to_french(app, settings, tmp_path_factory):
    stored = await draw_officials(settings, tmp_path_factory.mktemp("frame"), "PAR-SO-LANGS", "Bốn ngôn ngữ",
                                  ("SO01",), 1, ["lanh_dao_phong=1", "cong_chuc=1"], seed=3,
                                  starts_on=dt.date.today() - dt.timedelta(days=1))
    french = with_french(load_shipped()["par_index_so"])
    await Campaign.update({Campaign.questionnaire: await register(french)}).where(Campaign.code == "PAR-SO-LANGS")
    transport = httpx.ASGITransport(app=app, client=("203.0.113.123", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as official:
        started = await official.post("/o", data={"code": stored.slips["code"].iloc[0], "_lang": "vi"})
        assert started.status_code == 303
        page = (await official.get("/o/0", params={"lang": "fr"})).text
    assert re.findall(r'<a href="/o/0\?lang=(\w+)" lang="\w+">([^<]+)</a>', page) == [("vi", "Tiếng Việt"),
                                                                                       ("en", "English")]
    assert f'<h1><span lang="fr">FR {french.title["vi"]}</span></h1>' in page
    assert '<html lang="vi">' in page and "Lưu và tiếp tục" in page
    assert '<input type="hidden" name="_lang" value="fr">' in page


async def test_a_paper_copy_answered_online_takes_the_form_languages(app, settings, client, languages_form):
    from survey_app.core.paper_tables import PaperCopy
    from survey_app.paper.services import copy_token

    campaign = await Campaign.select(Campaign.id).where(Campaign.code == "LANGS-2026").first()
    unit = await Unit.select(Unit.id).where(Unit.code == "SO14").first()
    await PaperCopy(campaign=campaign["id"], unit=unit["id"], serial=1, printed_by="test").save()
    link = f"/p/{copy_token(settings.secret_key, campaign['id'], 1)}"
    page = (await client.get(link, params={"lang": "km"})).text
    assert '<span lang="km">អាយុ</span>' in page and '<input type="hidden" name="_lang" value="km">' in page
    sent = await client.post(link, data={"_key": uuid.uuid4().hex, "_lang": "fr", "age": "12"})
    assert sent.status_code == 422 and "De 18 à 99" in sent.text and '<span lang="fr">Âge</span>' in sent.text
