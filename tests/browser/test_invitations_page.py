"""Real headless Chromium on the invitations page of a real `survey serve` with a mail server (aiosmtpd on
loopback): a bad file is refused row by row, then invitations go out, a refused recipient is listed, and the
e-mailed link opens the official's code page. axe-core finds no serious or critical problem on any state of the
page, at 360 px and 1280 px."""

from __future__ import annotations

import csv
import re
import time

import pytest_asyncio

from survey_app.campaigns.demo import OFFICIALS_CAMPAIGN, load_officials_demo, officials_frame
from survey_app.core import db
from survey_app.core.settings import Settings
from tests.app.servers import SECRET, Server, demo_database
from tests.app.test_invitations import mailbox  # noqa: F401 (module fixture)
from tests.browser.test_accessibility import checked, problems_on, signed_in_page
from tests.browser.test_phone_flow import browser  # noqa: F401 (module fixture)

DOMAIN = "so01.example.vn"


@pytest_asyncio.fixture(scope="module")
async def server(app, database_url, tmp_path_factory, mailbox):  # noqa: F811
    """A demo province with the officials' sample drawn, served with SMTP_* pointing at the mailbox."""
    folder = tmp_path_factory.mktemp("invitations")
    url = await demo_database(folder, database_url, "invitations_page")
    try:
        await db.run_connected(Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": SECRET}),
                               lambda: load_officials_demo(SECRET))
    finally:
        db.bind(app.state.engine)
    (folder / "var").mkdir()  # staff sessions are kept in var/sessions (the store makes only the last folder)
    running = Server(url, folder, SMTP_HOST="127.0.0.1", SMTP_PORT=str(mailbox.port), SMTP_SECURITY="none",
                     SMTP_FROM="Sở Nội vụ <khaosat@snv.example.gov.vn>").start()
    yield running
    running.stop()


def address_file(folder) -> tuple[str, list[str]]:
    """The demo frame's first department (18 officials, 9 of them drawn) with an address for each."""
    frame = officials_frame(folder / "frame.csv", seed=2026)
    with frame.open(encoding="utf-8") as handle:
        people = [row for row in csv.DictReader(handle) if row["unit"] == "SO01"]
    path = folder / "dia-chi.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Mã cán bộ", "Họ tên", "email"])
        writer.writerows([(row["staff_id"], row["name"], f"{row['staff_id'].lower()}@{DOMAIN}") for row in people])
    return str(path), [f"{row['staff_id'].lower()}@{DOMAIN}" for row in people]


def bad_file(folder) -> str:
    path = folder / "sai.csv"
    path.write_text("Mã cán bộ,email\nCB-SO01-cong_chuc-00,a@b.vn\nCB-SO01-cong_chuc-00,a@b.vn\n", encoding="utf-8")
    return str(path)


def test_the_invitations_page_sends_lists_failures_and_passes_axe(server, browser, mailbox, tmp_path):  # noqa: F811
    path, addresses = address_file(tmp_path)
    heads = {address for address in addresses if "lanh_dao_phong" in address}
    mailbox.refused.update(heads)  # the 5 heads of division drawn in SO01 (of 8) are refused
    page = signed_in_page(browser, server.base_url, "analyst")
    page.goto(f"{server.base_url}/analyst/sampling/{OFFICIALS_CAMPAIGN}")
    page.click("#invitations-link")
    invitations_url = page.url
    found = checked(page, invitations_url, "invitations page")

    page.set_input_files("#file", bad_file(tmp_path))
    page.click('button[value="email"]')
    assert "trùng với dòng 2" in page.text_content("#invitation-problems")
    found += problems_on(page, "invitations page with problems")

    page.set_input_files("#file", path)
    page.click('button[value="email"]')
    page.wait_for_selector("#sending-started")
    deadline = time.time() + 60
    while "đã gửi xong" not in page.text_content("#sendings") and time.time() < deadline:
        time.sleep(0.5)
        page.reload()
    row = page.text_content("#sendings tbody tr")
    assert "đã gửi xong" in row, row
    assert page.locator(".failures tbody tr").count() == 5 and "550" in page.text_content(".failures")
    assert DOMAIN not in page.content()
    found += checked(page, invitations_url, "invitations page after a sending")

    letters = [message for message in mailbox.messages if message["To"].endswith(DOMAIN)]
    assert len(letters) == 4 and not heads & {message["To"] for message in letters}  # the 4 civil servants drawn
    link = re.search(r"Trả lời tại: (\S+)", letters[0].get_content()).group(1)
    page.goto(server.base_url + link[link.index("/o?"):])
    assert page.input_value("#code") != ""
    page.context.close()
    assert found == []
    assert DOMAIN not in server.log()  # the server's own log (requests, jobs, audit) names no address
