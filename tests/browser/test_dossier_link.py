"""A dossier's QR code from the feed, scanned (decoded by zxing-cpp) and opened in headless Chromium on a phone:
the citizen rates that dossier without typing its code, a second visit is refused, and axe-core finds no serious
or critical violation on either page. The server runs with its own database and BASE_URL, as deployed."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import os
import subprocess
import uuid

import httpx
import pytest
import zxingcpp
from PIL import Image

from tests.app.servers import reset_postgres_database
from tests.app.test_dockerfile import free_port, wait_ready
from tests.browser.test_citizen_forms import PHONE, serious
from tests.browser.test_phone_flow import SURVEY, browser  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def feed_server(app, database_url, tmp_path_factory):
    """`survey demo` into a database of its own, a "dossiers" token made by `survey token create`, then serve."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path_factory.mktemp('dossier-link') / 'live.db'}"
    else:
        url = f"{database_url}_dossier_link"
        asyncio.run(reset_postgres_database(url))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "dossier-link-test", "BASE_URL": base}
    subprocess.run([str(SURVEY), "demo", "--no-serve"], env=env, check=True, capture_output=True, timeout=300)
    token = subprocess.run([str(SURVEY), "token", "create", "analyst", "--name", "Cổng một cửa", "--scope",
                            "dossiers"], env=env, check=True, capture_output=True, text=True).stdout.strip()
    server = subprocess.Popen([str(SURVEY), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    assert wait_ready(f"{base}/readyz", server)
    yield base, {"Authorization": f"Bearer {token.splitlines()[-1]}"}
    server.terminate()
    server.wait(timeout=20)


def scanned_link(base: str, headers: dict) -> str:
    """Post one completed dossier, fetch its QR code for the result slip and decode it like a phone camera."""
    today = dt.date.today()
    dossier = {"code": f"000.00.31.H05-{uuid.uuid4().hex[:8]}", "procedure": "2.000815", "unit": "H05",
               "channel": "truc_tiep", "received_on": (today - dt.timedelta(days=3)).isoformat(),
               "returned_on": (today - dt.timedelta(days=1)).isoformat()}
    sent = httpx.post(f"{base}/api/v1/dossiers", json=dossier, headers=headers)
    assert sent.status_code == 201, sent.text
    png = httpx.get(base + sent.json()["dossiers"][0]["qr_png"], headers=headers)
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    return code.text


def test_a_citizen_rates_a_dossier_from_the_qr_on_its_result_slip(feed_server, browser):  # noqa: F811
    base, headers = feed_server
    link = scanned_link(base, headers)
    assert link.startswith(f"{base}/d/")
    page = browser.new_page(viewport=PHONE)
    page.goto(link)
    assert page.is_visible("text=Chứng thực bản sao từ bản chính") and page.is_visible("text=Huyện Cẩm Lệ")
    assert page.locator('[name="dossier_code"]').count() == 0 and page.locator('[name="domain"]').count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert serious(page) == []
    page.click("text=Gửi đánh giá")  # nothing chosen: one summary, the page again
    assert page.locator("#error-summary li").count() == 4
    for key in ("reception", "publicity", "timeliness", "attitude"):
        page.click(f'label[for="q-{key}-5"]')
    page.click("text=Gửi đánh giá")
    assert page.is_visible("text=Đã gửi — xin cảm ơn ông/bà!")
    assert serious(page) == []
    page.goto(link)  # the same slip scanned again
    assert page.is_visible("text=Hồ sơ này đã được đánh giá")
    assert serious(page) == []
    page.close()
