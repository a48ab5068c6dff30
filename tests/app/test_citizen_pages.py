"""The citizen's pages as issue #19 asks: one-tap scales, marked required questions, one error summary linking to
the questions, intro and privacy link, one form of address, compression, fingerprinted files, inline CSS by hash."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re

import brotli
import pytest
import pytest_asyncio

from questionnaires import load_shipped
from survey_app.core.static_assets import StaticAssets
from survey_app.core.tables import Unit
from survey_app.units import qr
from tests.app.helpers import app_client, counter_definition, filled_form, form_path, hidden_key, response_count

CONGESTION_WINDOW = 10 * 1460  # what the first round trip of a new TCP connection carries
ADDRESSING_YOU = re.compile(r"\bbạn\b", re.IGNORECASE)  # "bạn": the informal "you" the product does not use


@pytest_asyncio.fixture(scope="module")
async def client(app):
    """This module's own phone: its posts count against its own address, not the other modules' rate limit."""
    async with app_client(app, "198.51.100.19") as phone:
        yield phone


@pytest.fixture(scope="module")
def sipas_form(settings) -> str:
    return form_path(settings, "SO01-Q1", "SIPAS-2026")


def elements(html: str, tag: str) -> list[str]:
    return re.findall(rf"<{tag}\b[^>]*>", html)


async def test_a_rating_is_one_row_of_five_radios_with_both_ends_named_and_not_applicable(client, counter_form):
    html = (await client.get(counter_form)).text
    scale = re.search(r'<fieldset role="radiogroup" aria-required="true">\s*<legend>Việc tiếp nhận.*?</fieldset>',
                      html, re.S).group(0)
    row = re.search(r'<div class="scale">(.*?)</div>', scale, re.S).group(1)
    assert re.findall(r'type="radio" id="q-reception-\d" name="reception" value="(\w+)"', row) == list("12345")
    assert "1 = Rất không hài lòng" in scale and "5 = Rất hài lòng" in scale  # both ends, readable on screen
    assert '<span class="vh"> – Hài lòng</span>' in row  # and each point's name for a screen reader
    assert re.search(r'name="reception" value="na"> Không áp dụng / Không biết', scale)


async def test_required_questions_carry_aria_required_and_a_star_a_screen_reader_reads(client, counter_form):
    html = (await client.get(counter_form)).text
    assert 'aria-required="true"' in elements(html, "select")[0]
    assert html.count('<span class="req">*<span class="vh"> (bắt buộc)</span></span>') == 5  # domain and 4 ratings
    assert 'aria-hidden="true">*' not in html
    optional = re.search(r'<input id="q-dossier_code"[^>]*>', html).group(0)
    assert "aria-required" not in optional


async def test_missing_answers_get_one_alert_whose_entries_link_to_the_questions(client, counter_form):
    answers = filled_form(counter_definition())
    del answers["reception"], answers["domain"]
    response = await client.post(counter_form, data=answers)
    assert response.status_code == 422
    html = response.text
    assert html.count('role="alert"') == 1  # one announcement, not one per question
    summary = re.search(r'<div class="error-summary" id="error-summary" role="alert" tabindex="-1">(.*?)</div>',
                        html, re.S).group(1)
    links = re.findall(r'<a href="#([\w-]+)">([^<]+)</a>', summary)
    assert [target for target, _ in links] == ["q-domain", "q-reception-1"]
    assert links[1][1] == "Việc tiếp nhận và hướng dẫn hồ sơ: Vui lòng trả lời câu hỏi này."
    for target, _ in links:
        assert f'id="{target}"' in html
    assert 'aria-describedby="q-reception-error"' in html and 'id="q-reception-error"' in html


async def test_the_paged_form_shows_its_progress_and_every_form_its_intro_and_privacy_link(client, sipas_form,
                                                                                         counter_form):
    sipas = (await client.get(sipas_form)).text
    assert [f"Phần {n}/9" for n in range(1, 10)] == re.findall(r'<p class="progress">([^<]+)</p>', sipas)
    assert "Phiếu khảo sát không ghi tên." in sipas
    counter = (await client.get(counter_form)).text
    assert "Xin ông/bà dành 1 phút" in counter
    for html in (sipas, counter, (await client.get("/o")).text):
        assert '<a href="/privacy">Thông báo về bảo vệ dữ liệu cá nhân</a>' in html


async def test_a_section_whose_only_question_is_conditional_is_marked_for_the_script_to_hide(client, counter_form):
    html = (await client.get(counter_form)).text
    sections = re.findall(r"<section[^>]*>\s*<h2>([^<]+)</h2>", html)
    assert sections == ["Hồ sơ của ông/bà", "Mức độ hài lòng", "Góp ý"]
    assert re.search(r"<section data-conditional>\s*<h2>Góp ý</h2>", html)
    assert html.count("data-conditional") == 1


async def test_citizen_pages_say_ong_ba_never_ban(client, settings, counter_form):
    stored = await client.post(counter_form, data=filled_form(counter_definition()))
    thanks = await client.get(stored.headers["location"])
    pages = {"thanks": thanks.text, "privacy": (await client.get("/privacy")).text,
             "not found": (await client.get("/q/not-a-token")).text}
    assert "cảm ơn ông/bà" in pages["thanks"]
    for name, html in pages.items():
        assert not ADDRESSING_YOU.search(html), name
    assert not any(ADDRESSING_YOU.search(text) for text in [qr.TEXT["title"], *qr.TEXT["steps"]])


def test_the_poster_promises_as_many_questions_as_the_counter_form_requires():
    required = sum(1 for item in counter_definition().items if item.required)
    assert required == 5
    assert qr.TEXT["steps"][2] == f"Trả lời {required} câu hỏi trong 1 phút"
    assert f"answer {required} questions" in qr.TEXT["english"]


async def test_the_english_pages_are_english_with_the_units_english_name(client, settings):
    path = form_path(settings, "SO05-Q1", "QUAY-2026")
    await Unit.update({Unit.name_en: "Department of Justice"}).where(Unit.code == "SO05")
    try:
        form = (await client.get(path, params={"lang": "en"})).text
        stored = await client.post(path, data={**filled_form(counter_definition()), "_lang": "en"})
        thanks = (await client.get(stored.headers["location"])).text
    finally:
        await Unit.update({Unit.name_en: ""}).where(Unit.code == "SO05")
    assert "Department of Justice" in form and "Department of Justice" in thanks
    assert "<title>Sent</title>" in thanks and "Đã gửi" not in thanks


@pytest.mark.parametrize("encoding,decompress", [("br", brotli.decompress), ("gzip", gzip.decompress)])
async def test_pages_are_compressed_and_the_counter_form_fits_the_first_round_trip(client, counter_form, sipas_form,
                                                                                    encoding, decompress):
    for path in (counter_form, sipas_form):
        plain = await client.get(path, headers={"Accept-Encoding": "identity"})
        async with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as packed:
            wire = b"".join([chunk async for chunk in packed.aiter_raw()])
        assert packed.headers["content-encoding"] == encoding and "content-encoding" not in plain.headers
        assert len(wire) < len(plain.content) / 3
        # the same page, up to its one-use key
        assert hidden_key_free(decompress(wire)) == hidden_key_free(plain.content)
        if path == counter_form:  # HTML with its inline CSS and the response's headers
            assert len(wire) + len(str(packed.headers)) <= CONGESTION_WINDOW


def hidden_key_free(html: bytes) -> bytes:
    return re.sub(rb'name="_key" value="[0-9a-f]+"', b"", html)


async def test_the_inline_stylesheet_is_the_only_style_and_the_csp_allows_it_by_hash(client, counter_form):
    response = await client.get(counter_form)
    styles = re.findall(r"<style>(.*?)</style>", response.text, re.S)
    assert len(styles) == 1 and "rel=\"stylesheet\"" not in response.text
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    style_src = re.search(r"style-src ([^;]+)", response.headers["content-security-policy"]).group(1)
    assert style_src.split() == ["'self'", f"'sha256-{digest}'"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]


async def test_scripts_are_deferred_fingerprinted_and_cached_a_year(client, counter_form):
    html = (await client.get(counter_form)).text
    scripts = elements(html, "script")
    assert len(scripts) == 2 and all(" defer" in tag for tag in scripts)
    for address in re.findall(r'src="(/s/[^"]+)"', html):
        assert re.fullmatch(r"/s/[\w-]+\.[0-9a-f]{10}\.js", address)
        response = await client.get(address)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        stale = re.sub(r"\.[0-9a-f]{10}\.", ".0000000000.", address)
        assert (await client.get(stale)).status_code == 404


def test_a_changed_file_gets_a_new_address(tmp_path):
    (tmp_path / "app.css").write_text("body{color:#000}")
    before = StaticAssets.load(tmp_path).url("app.css")
    (tmp_path / "app.css").write_text("body{color:#111}")
    after = StaticAssets.load(tmp_path).url("app.css")
    assert before != after and before.startswith("/s/app.") and after.endswith(".css")


def shown_parts(html: str) -> list[str]:
    return re.findall(r'<section(?![^>]*hidden)[^>]*>\s*<p class="progress">([^<]+)</p>', html)


def first_section_answers() -> dict:
    items = load_shipped()["sipas_citizen"].sections[0].items
    return {item.key: item.choices[0].value for item in items if item.required}


async def test_without_javascript_the_paged_form_checks_each_section_and_shows_the_next(client, sipas_form):
    page = (await client.get(sipas_form)).text
    assert shown_parts(page) == ["Phần 1/9"]
    before = await response_count()
    start = {"_key": hidden_key(page), "_lang": "vi", "_part": "1"}
    empty = await client.post(sipas_form, data=start)
    assert empty.status_code == 422 and shown_parts(empty.text) == ["Phần 1/9"]
    assert len(re.findall(r'<li><a href="#q-', empty.text)) == 6  # section 1's required questions, not all 37
    following = await client.post(sipas_form, data={**start, **first_section_answers()})
    assert following.status_code == 200 and shown_parts(following.text) == ["Phần 2/9"]
    assert 'name="gender" value="nam" checked' in following.text  # section 1's answers ride along, hidden
    assert 'name="_part" value="2"' in following.text and 'id="error-summary"' not in following.text
    assert await response_count() == before
