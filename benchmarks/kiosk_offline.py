"""The kiosk tablet without network, in a real Chromium at 360×640 (issue #19).

Starts `survey demo` + `survey serve` on 127.0.0.1 with a fresh SQLite file, opens a counter's form in kiosk mode,
and measures: compressed bytes of the kiosk page and its scripts against the phone page; with the network cut, the
reload of the form (from the service worker's cache) and the time from "Gửi đánh giá" to the thank-you state; then
--queued more answers put in the tablet's queue, the network restored, and the time until every answer is stored
(each once, read from the database). Writes benchmarks/results/kiosk_offline.json.
Usage: PYTHONPATH=$PWD .venv/bin/python benchmarks/kiosk_offline.py [--people 5] [--queued 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.phone_paint import CHROMIUM, SURVEY, free_port  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "kiosk_offline.json"
SECRET = "bench-kiosk"
QUEUE = """records => new Promise((resolve, reject) => {
  const request = indexedDB.open("kiosk", 1);
  request.onsuccess = () => {
    const transaction = request.result.transaction("answers", "readwrite");
    records.forEach(record => transaction.objectStore("answers").put(record));
    transaction.oncomplete = () => resolve(records.length);
    transaction.onerror = () => reject(transaction.error);
  };
})"""
CACHED_FILES = "() => caches.open('kiosk-v1').then(c => c.keys()).then(k => k.filter(r => r.url.includes('/s/')).length)"


def start_server(folder: Path, rate_limit: str) -> tuple[subprocess.Popen, str, Path]:
    database = folder / "kiosk.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": SECRET,
           "RATE_LIMIT_PER_CLIENT": rate_limit}
    subprocess.run([str(SURVEY), "demo", "--no-serve"], env=env, check=True, capture_output=True, timeout=300)
    port = free_port()
    server = subprocess.Popen([str(SURVEY), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    import urllib.request

    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/readyz", timeout=2)
            return server, base, database
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the server did not start")


def stored_keys(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT idempotency_key FROM response")}


def wire_bytes(url: str) -> dict[str, int]:
    """Compressed bytes of the page and each script it loads (brotli, as Chromium asks), without headers."""
    import re

    import httpx

    with httpx.Client(headers={"Accept-Encoding": "br, gzip"}) as client:
        page = client.get(url)
        sizes = {"HTML": page.num_bytes_downloaded}
        for script in re.findall(r'<script src="([^"]+)"', page.text):
            response = client.get(httpx.URL(url).join(script))
            sizes[script.rsplit("/", 1)[-1]] = response.num_bytes_downloaded
    return sizes


def until(predicate, seconds: float) -> float:
    """Seconds until predicate() holds (polled every 50 ms)."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > seconds:
            raise SystemExit(f"timed out after {seconds} s")
        time.sleep(0.05)
    return time.monotonic() - start


def fill(page) -> None:
    for name in page.eval_on_selector_all(".scale input", "inputs => [...new Set(inputs.map(i => i.name))]"):
        page.check(f'input[name="{name}"][value="4"]')
    page.select_option("select", index=1)


def answer(page) -> float:
    """One person answers; seconds from the submit tap to the thank-you state."""
    fill(page)
    start = time.monotonic()
    page.click("form button[type=submit]")
    page.wait_for_selector("#kiosk-thanks", state="visible")
    return time.monotonic() - start


def measure(people: int, queued: int, rate_limit: str) -> dict:
    from playwright.sync_api import sync_playwright

    from survey_app.core.settings import Settings
    from survey_app.core.tokens import form_url

    folder = Path(tempfile.mkdtemp())
    server, base, database = start_server(folder, rate_limit)
    url = form_url(base, Settings.from_env({"SECRET_KEY": SECRET}).signing_keys, "H01-Q1", "QUAY-2026")
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            result = {"phone page": wire_bytes(url), "kiosk page": wire_bytes(url + "?kiosk=1")}
            context = browser.new_context(viewport={"width": 360, "height": 640})
            page = context.new_page()
            page.goto(url + "?kiosk=1")
            until(lambda: page.evaluate(CACHED_FILES) >= 3, 30)
            before = stored_keys(database)
            context.set_offline(True)
            start = time.monotonic()
            page.reload()
            page.wait_for_selector("form[data-kiosk]", state="visible")
            result["offline reload ms"] = round((time.monotonic() - start) * 1000)
            to_thanks = []
            for _ in range(people):
                to_thanks.append(answer(page))
                page.click("#kiosk-next")
                page.wait_for_selector("form[data-kiosk]", state="visible")
            result["submit → thank-you offline ms (median)"] = round(statistics.median(to_thanks) * 1000)
            fill(page)  # a complete answer, copied with other keys into the queue
            body = page.evaluate("() => new URLSearchParams(new FormData(document.querySelector('form'))).toString()")
            records = []
            for _ in range(queued):  # more answers of the same form, each with its own key
                key = uuid.uuid4().hex
                records.append({"key": key, "url": url, "body": f"_key={key}&" + body.split("&", 1)[1]})
            page.evaluate(QUEUE, records)
            waiting = people + queued
            assert stored_keys(database) == before, "an answer reached the server while offline"
            context.set_offline(False)
            drain = until(lambda: len(stored_keys(database) - before) >= waiting, 900)
            until(lambda: page.evaluate("() => document.getElementById('kiosk-queue').dataset.count") == "0", 60)
            stored = len(stored_keys(database) - before)
            result.update({"answers waiting": waiting, "stored after the network returned": stored,
                           "drain seconds": round(drain, 1), "answers a minute": round(waiting / drain * 60, 1),
                           "RATE_LIMIT_PER_CLIENT": rate_limit})
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5, help="answers given on the tablet while offline")
    parser.add_argument("--queued", type=int, default=20, help="further answers put in the queue directly")
    parser.add_argument("--rate-limit", default="20", help="RATE_LIMIT_PER_CLIENT of the server (default 20)")
    arguments = parser.parse_args()
    result = measure(arguments.people, arguments.queued, arguments.rate_limit)
    for page in ("phone page", "kiosk page"):
        parts = " · ".join(f"{name} {size:,}" for name, size in result[page].items())
        print(f"{page:12} {sum(result[page].values()):>7,} B compressed: {parts}")
    for name, value in result.items():
        if name not in ("phone page", "kiosk page"):
            print(f"{name:40} {value}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
