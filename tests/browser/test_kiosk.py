"""Kiosk mode in a real headless Chromium: the counter's Wi-Fi drops, three people answer on the tablet, the screen
says "3 câu trả lời đang chờ gửi"; the network returns and each answer is stored exactly once (issue #19)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import pytest
from playwright.sync_api import expect

from survey_app.core import engines
from survey_app.core.settings import Settings
from survey_app.core.tokens import form_url
from tests.app.servers import SURVEY, reset_postgres_database
from tests.app.test_dockerfile import free_port, wait_ready
from tests.browser.test_citizen_forms import PHONE, serious
from tests.browser.test_phone_flow import answer_all, browser  # noqa: F401 (fixture)

SECRET = "kiosk-test"
PEOPLE = 3


@pytest.fixture(scope="module")
def kiosk_server(database_url, tmp_path_factory):
    """`survey demo` and `survey serve` on a database of their own (this server records its own key there)."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('kiosk') / 'kiosk.db'}"
    else:
        url = f"{database_url}_kiosk"
        asyncio.run(reset_postgres_database(url))
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "FORM_CACHE_SECONDS": "0"}
    subprocess.run([str(SURVEY), "demo", "--no-serve"], env=env, check=True, capture_output=True, timeout=300)
    port = free_port()
    server = subprocess.Popen([str(SURVEY), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"  # a secure context (loopback), as service workers need
    assert wait_ready(f"{base}/readyz", server)
    yield base, url
    server.terminate()
    server.wait(timeout=20)


def stored_keys(database_url: str) -> list[str]:
    query = "SELECT idempotency_key FROM response"
    if database_url.startswith("sqlite"):
        with sqlite3.connect(engines.sqlite_path(database_url)) as connection:
            return [row[0] for row in connection.execute(query)]

    async def fetch() -> list[str]:
        connection = await asyncpg.connect(database_url)
        try:
            return [row[0] for row in await connection.fetch(query)]
        finally:
            await connection.close()

    with ThreadPoolExecutor(1) as thread:  # Playwright's own event loop runs in this one
        return thread.submit(asyncio.run, fetch()).result()


QUEUED = """() => new Promise((resolve, reject) => {
  const request = indexedDB.open("kiosk", 1);
  request.onsuccess = () => {
    const read = request.result.transaction("answers").objectStore("answers").getAll();
    read.onsuccess = () => resolve(read.result);
  };
  request.onerror = () => reject(request.error);
})"""
CACHED = "() => caches.open('kiosk-v1').then(cache => cache.keys()).then(requests => requests.map(r => r.url))"
REPLAY = """record => fetch(record.url, {method: "POST", body: record.body,
  headers: {"Content-Type": "application/x-www-form-urlencoded"}}).then(response => response.url)"""


def kiosk_page(context, base: str):
    keys = Settings.from_env({"SECRET_KEY": SECRET}).signing_keys
    page = context.new_page()
    page.goto(form_url(base, keys, "H02-Q1", "QUAY-2026") + "?kiosk=1")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    deadline = time.monotonic() + 30
    while len([url for url in page.evaluate(CACHED) if "/s/" in url]) < 2:  # form.js and kiosk.js kept offline
        assert time.monotonic() < deadline, page.evaluate(CACHED)
        time.sleep(0.2)
    return page


def answer_offline(page, rating: str, check_accessibility: bool = False) -> None:
    answer_all(page, rating=rating)
    page.click("form button[type=submit]")
    page.wait_for_selector("#kiosk-thanks", state="visible")
    assert page.is_hidden("form")
    if check_accessibility:
        assert serious(page) == []  # the thank-you state
    page.click("text=Người tiếp theo")  # the page comes back from the service worker's cache
    page.wait_for_selector("form[data-kiosk]", state="visible")
    assert not page.is_checked(f'input[name="reception"][value="{rating}"]')  # a blank form for the next person


def test_kiosk_answers_wait_offline_and_are_stored_once_when_the_network_returns(kiosk_server, browser):  # noqa: F811
    base, database_url = kiosk_server
    context = browser.new_context(viewport=PHONE)
    page = kiosk_page(context, base)
    assert serious(page) == []
    stored_before = stored_keys(database_url)

    context.set_offline(True)
    page.reload()  # the Wi-Fi is gone: the form still opens
    page.wait_for_selector("form[data-kiosk]", state="visible")
    for person in range(PEOPLE):
        answer_offline(page, rating=str(person + 3), check_accessibility=person == 0)
    expect(page.locator("#kiosk-queue")).to_have_text("3 câu trả lời đang chờ gửi")
    assert serious(page) == []
    queued = page.evaluate(QUEUED)
    assert len({record["key"] for record in queued}) == PEOPLE  # one key per person, not the cached page's
    assert stored_keys(database_url) == stored_before

    context.set_offline(False)
    page.wait_for_function("() => document.getElementById('kiosk-queue').dataset.count === '0'", timeout=60000)
    assert page.is_hidden("#kiosk-queue")
    assert page.evaluate(QUEUED) == []  # each cleared as the server acknowledged it
    assert page.evaluate(REPLAY, queued[0]).endswith("/thanks?lang=vi&kiosk=1")  # a resend is acknowledged…
    new_keys = [key for key in stored_keys(database_url) if key not in stored_before]
    assert sorted(new_keys) == sorted(record["key"] for record in queued)  # …and every answer is stored once
    context.close()
