"""Kiosk mode's server side (issue #19): the service worker's address and headers, the kiosk page's extra parts
(absent from the citizen's phone page), and a queued answer sent again, or by page and worker at once, stored once."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest
import pytest_asyncio

from tests.app.helpers import app_client, counter_definition, filled_form, form_path, response_count

URL_ENCODED = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest_asyncio.fixture(scope="module")
async def client(app):
    """This module's own tablet: its posts count against its own address, not the other modules' rate limit."""
    async with app_client(app, "198.51.100.23") as tablet:
        yield tablet


@pytest.fixture(scope="module")
def counter_form(settings) -> str:
    return form_path(settings, "SO03-Q1")


async def test_the_service_worker_is_served_for_the_forms_scope(client):
    response = await client.get("/kiosk/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/q/"  # its scope lies outside /kiosk/
    assert response.headers["cache-control"] == "no-cache"  # a new release's worker is picked up at once
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert 'addEventListener("sync"' in response.text and 'indexedDB.open("kiosk"' in response.text


async def test_only_the_kiosk_page_carries_the_worker_and_the_waiting_count(client, counter_form):
    phone = (await client.get(counter_form)).text
    kiosk = (await client.get(counter_form, params={"kiosk": "1"})).text
    assert "kiosk" not in phone  # the citizen's own phone downloads nothing of it
    assert "/s/kiosk." in kiosk and 'id="kiosk-queue"' in kiosk
    assert 'data-template="{n} câu trả lời đang chờ gửi"' in kiosk and "Người tiếp theo" in kiosk
    assert f'data-kiosk-start="{counter_form}?kiosk=1&amp;lang=vi"' in kiosk
    english = (await client.get(counter_form, params={"kiosk": "1", "lang": "en"})).text
    assert 'data-template="{n} answers waiting to be sent"' in english and "Next person" in english
    assert f'href="{counter_form}?lang=vi&amp;kiosk=1"' in english  # the language switch stays in kiosk mode


async def test_the_kiosk_thanks_page_shows_the_waiting_count(client, counter_form):
    thanks = (await client.get(f"{counter_form}/thanks", params={"kiosk": "1"})).text
    assert 'id="kiosk-queue"' in thanks and "/s/kiosk." in thanks
    assert "kiosk-queue" not in (await client.get(f"{counter_form}/thanks")).text


async def test_a_queued_answer_sent_again_and_twice_at_once_is_stored_once(client, counter_form):
    """The tablet's page and its service worker may both send the queue after the network returns."""
    body = urlencode({**filled_form(counter_definition(), rating="4"), "_kiosk": "1"})  # as URLSearchParams sends it
    key = body.split("_key=")[1].split("&")[0]
    first = await client.post(counter_form, content=body, headers=URL_ENCODED)
    at_once = await asyncio.gather(*(client.post(counter_form, content=body, headers=URL_ENCODED) for _ in range(2)))
    for response in (first, *at_once):
        assert response.status_code == 303
        assert response.headers["location"] == f"{counter_form}/thanks?lang=vi&kiosk=1"  # what kiosk.js takes as stored
    assert await response_count(idempotency_key=key) == 1


async def test_answers_sent_at_once_by_page_and_worker_are_each_stored_once(client, counter_form):
    bodies = [urlencode({**filled_form(counter_definition(), rating=str(rating)), "_kiosk": "1"}) for rating in (2, 3, 5)]
    before = await response_count()
    sends = [client.post(counter_form, content=body, headers=URL_ENCODED) for body in bodies for _ in range(2)]
    assert {response.status_code for response in await asyncio.gather(*sends)} == {303}
    assert await response_count() == before + len(bodies)


async def test_staff_open_a_counters_kiosk_form_from_its_counter_list(analyst, counter_form):
    listing = (await analyst.get("/staff/units/SO03/counters")).text
    link = "/staff/units/SO03/counters/SO03-Q1/kiosk?campaign=QUAY-2026"
    assert f'href="{link}"' in listing and "Máy tính bảng" in listing
    opened = await analyst.get(link)
    assert opened.status_code == 303 and opened.headers["location"] == f"{counter_form}?kiosk=1"
    assert (await analyst.get("/staff/units/SO03/counters/SO03-Q1/kiosk?campaign=NO-SUCH")).status_code == 422
    assert (await analyst.get("/staff/units/SO01/counters/SO03-Q1/kiosk?campaign=QUAY-2026")).status_code == 404
