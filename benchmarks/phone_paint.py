"""First paint of the citizen's forms in a real Chromium at 360×640 on slow-3G emulation (400 ms, 400 kbit/s).

Starts `survey demo` + `survey serve` on 127.0.0.1 with a fresh SQLite file, opens the counter form and the SIPAS
form (first visit, empty cache), and prints bytes on the wire per request, first contentful paint and load time
(median of --runs). Writes benchmarks/results/phone_paint.json.
Usage: PYTHONPATH=$PWD .venv/bin/python benchmarks/phone_paint.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "phone_paint.json"
SURVEY = Path(sys.executable).parent / "survey"
CHROMIUM = "/usr/bin/chromium"
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
FORMS = {"counter form": ("H01-Q1", "QUAY-2026"), "SIPAS form": ("H01-Q1", "SIPAS-2026")}
SECRET = "bench-paint"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'paint.db'}", "SECRET_KEY": SECRET}
    subprocess.run([str(SURVEY), "demo", "--no-serve"], env=env, check=True, capture_output=True, timeout=300)
    port = free_port()
    server = subprocess.Popen([str(SURVEY), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{base}/readyz", timeout=2)
            return server, base
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the server did not start")


def visit(browser, url: str) -> dict:
    """One first visit: a fresh context (empty cache), slow-3G set on the page before it loads."""
    context = browser.new_context(viewport={"width": 360, "height": 640})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    wire: dict[str, int] = {}
    cdp.on("Network.loadingFinished", lambda event: wire.__setitem__(event["requestId"], event["encodedDataLength"]))
    names: dict[str, str] = {}
    cdp.on("Network.requestWillBeSent",
           lambda event: names.__setitem__(event["requestId"], event["request"]["url"].split("?")[0].rsplit("/", 1)[-1]))
    page.goto(url, wait_until="load")
    timing = page.evaluate("""() => {
        const paint = performance.getEntriesByName('first-contentful-paint')[0];
        const nav = performance.getEntriesByType('navigation')[0];
        return {fcp_ms: paint ? paint.startTime : null, load_ms: nav.loadEventEnd};
    }""")
    context.close()
    requests = {names.get(request_id, request_id): size for request_id, size in wire.items()}
    return {**timing, "requests": requests}


def measure(runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from survey_app.core.settings import Settings
    from survey_app.core.tokens import form_url

    folder = Path(tempfile.mkdtemp())
    server, base = start_server(folder)
    keys = Settings.from_env({"SECRET_KEY": SECRET}).signing_keys
    results = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            for name, (counter, campaign) in FORMS.items():
                url = form_url(base, keys, counter, campaign)
                visit(browser, url)  # warm the server's form cache; not counted
                visits = [visit(browser, url) for _ in range(runs)]
                results[name] = {
                    "fcp_ms": statistics.median(v["fcp_ms"] for v in visits),
                    "load_ms": statistics.median(v["load_ms"] for v in visits),
                    "requests": visits[-1]["requests"],
                }
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    results = measure(parser.parse_args().runs)
    for name, result in results.items():
        print(f"{name}: FCP {result['fcp_ms']:.0f} ms, load {result['load_ms']:.0f} ms, "
              f"{sum(result['requests'].values())} B in {len(result['requests'])} requests")
        for request, size in result["requests"].items():
            print(f"    {request[:40]:40} {size:7} B")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
