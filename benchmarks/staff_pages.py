"""Measure what issue #18 gave numbers for: staff pages' width and height at 360 px and 1280 px (the dashboard was
997 px wide on a phone, the counters list 5 216 px long), and the fontTools log lines written while a PDF is made (~300 a
report). Loads the demo into a temporary SQLite file, serves it on 127.0.0.1, drives headless Chromium.

Prints a table and writes benchmarks/results/staff_pages.json (gitignored). Not part of the test run.
Usage: .venv/bin/python benchmarks/staff_pages.py
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

SURVEY = Path(sys.executable).parent / "survey"
PAGES = {"analyst": ["/analyst/campaigns", "/analyst/campaigns/QUAY-2026", "/analyst/campaigns/QUAY-2026/dashboard",
                     "/analyst/campaigns/new", "/analyst/campaigns/QUAY-2026/quality"],
         "admin": ["/admin/counters", "/admin/users", "/admin/units", "/admin/domains"]}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def served_demo(folder: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'bench.db'}", "SECRET_KEY": "bench"}
    subprocess.run([str(SURVEY), "demo", "--no-serve"], env=env, check=True, capture_output=True, timeout=600)
    port = free_port()
    server = subprocess.Popen([str(SURVEY), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def page_sizes(base: str) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for username, paths in PAGES.items():
            page = browser.new_page(viewport={"width": 360, "height": 640})
            page.goto(f"{base}/login")
            page.fill('input[name="username"]', username)
            page.fill('input[name="password"]', "demo-sipas-2026")
            page.click("button[type=submit]")
            for path in paths:
                row = {"page": path}
                for viewport in (360, 1280):
                    page.set_viewport_size({"width": viewport, "height": 800})
                    page.goto(base + path)
                    row[f"width_at_{viewport}"], row[f"height_at_{viewport}"] = page.evaluate(
                        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
                rows.append(row)
            page.close()
        browser.close()
    return rows


def font_log_lines(quiet: bool) -> int:
    """Log records fontTools writes at INFO and below while a Vietnamese PDF with two fonts is made."""
    from survey_app.core.pdf import vietnamese_pdf

    records = []
    handler = logging.Handler()
    handler.emit = records.append
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("fontTools").setLevel(logging.WARNING if quiet else logging.NOTSET)
    try:
        document = vietnamese_pdf()
        document.add_page()
        for style in ("", "B"):
            document.set_font(style=style)
            document.multi_cell(0, 6, "Báo cáo kết quả khảo sát mức độ hài lòng — Sở Tư pháp, Xã An Hòa",
                                new_x="LMARGIN", new_y="NEXT")
        document.output(io.BytesIO())
    finally:
        root.removeHandler(handler)
        logging.getLogger("fontTools").setLevel(logging.WARNING)
    return sum(1 for record in records if record.name.startswith("fontTools"))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        server, base = served_demo(Path(folder))
        try:
            sizes = page_sizes(base)
        finally:
            server.terminate()
            server.wait(timeout=20)
    logs = {"fontTools_lines_default_logger": font_log_lines(quiet=False),
            "fontTools_lines_as_shipped": font_log_lines(quiet=True)}
    print(f"{'page':<42} {'width@360':>9} {'height@360':>10} {'width@1280':>10} {'height@1280':>11}")
    for row in sizes:
        print(f"{row['page']:<42} {row['width_at_360']:>9} {row['height_at_360']:>10} {row['width_at_1280']:>10} "
              f"{row['height_at_1280']:>11}")
    print(f"fontTools log lines per PDF: {logs['fontTools_lines_default_logger']} with the logger at its default, "
          f"{logs['fontTools_lines_as_shipped']} as shipped (survey_app/core/pdf.py)")
    out = Path(__file__).parent / "results" / "staff_pages.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"pages": sizes, **logs}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
