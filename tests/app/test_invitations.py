"""Issue #21 part C: officials' invitations and reminders by e-mail (a real SMTP server on loopback), the message
file for Zalo or SMS, failures listed per person, and no address left anywhere (database, log, temporary files)."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import email
import io
import logging
import re
import subprocess
import tempfile
import time
from email.policy import default as default_policy
from pathlib import Path

import httpx
import openpyxl
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller

from questionnaires import load_shipped
from survey_app.core.sampling_tables import InvitationSend, SampleMember, SendFailure
from survey_app.core.settings import SmtpSettings
from survey_app.core.tables import Campaign, Response
from survey_app.officials import draws, invitations, mailer
from tests.app.analyst_helpers import signed_in_client
from tests.app.helpers import csrf_token, draw_officials, page_form, started_app
from tests.app.test_dockerfile import free_port

CAMPAIGN = "PAR-THU-MOI"
UNITS = ("SO03", "SO04")
DOMAIN = "noi-vu.example.vn"
SECTIONS = load_shipped()["par_index_so"].sections
LINK = re.compile(r"Trả lời tại: (\S+)")


def address_of(staff_id: str) -> str:
    return f"{staff_id.lower().replace('_', '.')}@{DOMAIN}"


FRAME_IDS = [f"{unit}-{role}-{number}" for unit in UNITS for role in ("lanh_dao_phong", "cong_chuc")
             for number in range(4)]
ADDRESSES = [address_of(staff_id) for staff_id in FRAME_IDS]


class Mailbox:
    """aiosmtpd handler: keeps every message; refuses the recipients in `refused` with 550 naming them."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refused: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [message for message in self.messages if message["To"] == address]


@pytest.fixture(scope="module")
def mailbox():
    box = Mailbox()
    box.port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    yield box
    controller.stop()


@pytest_asyncio.fixture(scope="module")
async def sample(app, settings, tmp_path_factory):
    """Two units × two roles, four officials each in the frame, two drawn per role and unit (8 members)."""
    stored = await draw_officials(settings, tmp_path_factory.mktemp("frame"), CAMPAIGN, "Khảo sát PAR INDEX sở",
                                  UNITS, 4, ["lanh_dao_phong=2", "cong_chuc=2"], seed=21,
                                  starts_on=dt.date.today() - dt.timedelta(days=1))
    return stored.slips.to_dict("records")


@pytest_asyncio.fixture(scope="module")
async def mail_app(app, settings, mailbox, sample):
    """The app with a mail server configured (security none: aiosmtpd on loopback)."""
    smtp = SmtpSettings(host="127.0.0.1", port=mailbox.port, security="none", sender="Sở Nội vụ <khaosat@snv.example.gov.vn>")
    async with started_app(app, dataclasses.replace(settings, smtp=smtp)) as other:
        yield other


@pytest_asyncio.fixture(scope="module")
async def analyst_client(mail_app):
    client = await signed_in_client(mail_app, "analyst")
    yield client
    await client.aclose()


def address_csv(rows: list[tuple]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([("staff_id", "email", "Họ tên", "Điện thoại"), *rows])
    return buffer.getvalue().encode("utf-8-sig")


def whole_frame() -> bytes:
    """The whole frame (sampled or not) with an address and a phone number for everyone."""
    return address_csv([(staff_id, address_of(staff_id), f"Cán bộ {staff_id}", f"09{index:08d}")
                        for index, staff_id in enumerate(FRAME_IDS)])


async def post_file(client, content: bytes, kind: str = "invitation", action: str = "email",
                    filename: str = "dia-chi.csv"):
    page = await client.get(f"/analyst/sampling/{CAMPAIGN}/invitations")
    return await client.post(f"/analyst/sampling/{CAMPAIGN}/invitations",
                             data={"_csrf_token": csrf_token(page.text), "kind": kind, "action": action},
                             files={"file": (filename, content, "text/csv")})


async def wait_for_sending(send_id: int) -> dict:
    await invitations.sending_engine().run_until_idle()
    row = await InvitationSend.select().where(InvitationSend.id == send_id).first()
    assert row["state"] == "done", row
    return row


def sent_id(response) -> int:
    assert response.status_code == 303, response.text[:800]
    return int(response.headers["location"].rpartition("=")[2])


async def answer_by_link(app, link: str) -> httpx.Response:
    """Follow an e-mailed link in a fresh browser, start with the filled-in code and answer every section."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as browser:
        opened = await browser.get(link.replace("http://127.0.0.1:8000", ""))
        assert opened.status_code == 200
        code = re.search(r'name="code"[^>]*value="([^"]+)"', opened.text).group(1)
        started = await browser.post("/o", data={"code": code, "_lang": "vi"})
        assert started.status_code == 303, started.text[:500]
        for index, section in enumerate(SECTIONS):
            last = index == len(SECTIONS) - 1
            answered = await browser.post(f"/o/{index}", data=page_form(section, "submit" if last else "next"))
            assert answered.status_code == 303, answered.text[:500]
        return answered


def sampled(sample: list[dict]) -> list[str]:
    return [slip["staff_id"] for slip in sample]


def as_text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, (bytes, memoryview)) else str(value)


async def all_text_in_database(settings) -> str:
    """Every text, varchar and JSON value of every table, as one string."""
    if settings.is_sqlite:
        tables = [row["name"] for row in await Campaign.raw(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        # SQLite keeps any value in any column: every column of every table, blobs too (an export's file)
        columns = {table: [(row["name"], '"{}"') for row in
                           await Campaign.raw(f'PRAGMA table_info("{table}")')] for table in tables}
    else:
        rows = await Campaign.raw(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = "
            "'public' AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea')")
        columns = {}
        for row in rows:
            reading = """encode("{}", 'escape')""" if row["data_type"] == "bytea" else '"{}"::text'
            columns.setdefault(row["table_name"], []).append((row["column_name"], reading))
    parts = []
    for table, names in columns.items():
        for name, reading in names:
            values = await Campaign.raw(f'SELECT {reading.format(name)} AS value FROM "{table}"')
            parts += [as_text(value["value"]) for value in values if value["value"] is not None]
    return "\n".join(parts)


# ---- the e-mail path, end to end ----------------------------------------------------------------------------------

async def test_invitations_and_reminders_arrive_with_working_links_and_no_address_is_kept(
        mail_app, analyst_client, mailbox, sample, settings, caplog):
    caplog.set_level(logging.DEBUG)
    began = time.time()
    members = sampled(sample)
    refused_address = address_of(members[-1])
    mailbox.refused.add(refused_address)
    before = len(mailbox.messages)

    send_id = sent_id(await post_file(analyst_client, whole_frame()))
    sending = await wait_for_sending(send_id)
    assert (sending["planned"], sending["sent"], sending["failed"]) == (8, 7, 1)
    letters = mailbox.messages[before:]
    assert sorted(message["To"] for message in letters) == sorted(address_of(m) for m in members[:-1])
    unsampled = set(FRAME_IDS) - set(members)
    assert not any(mailbox.to(address_of(staff_id)) for staff_id in unsampled)
    first = mailbox.to(address_of(members[0]))[0]
    body = first.get_content()
    assert first["Subject"].startswith("Thư mời tham gia khảo sát") and "Kính gửi ông/bà" in body
    assert "Khảo sát PAR INDEX sở" in body and "You were chosen at random" in body

    # The refusal is listed per person (unit, role, staff reference), the server's words kept, the address not.
    page = await analyst_client.get(f"/analyst/sampling/{CAMPAIGN}/invitations")
    assert page.status_code == 200 and f'id="failures-{send_id}"' in page.text
    refused_ref = draws.staff_ref(settings.secret_key, members[-1])[:draws.REF_PREFIX]
    failures = await SendFailure.select(SendFailure.reason, SendFailure.member.staff_ref_hash.as_alias("ref")).where(
        SendFailure.send == send_id)
    assert [failure["ref"][:draws.REF_PREFIX] for failure in failures] == [refused_ref]
    assert "550" in failures[0]["reason"] and "Recipient address rejected" in failures[0]["reason"]
    assert refused_ref in page.text and "550" in page.text and DOMAIN not in page.text
    assert "8 người sẽ nhận; 0 người trong tệp đã trả lời hoặc không còn trong mẫu; 8 người trong tệp không thuộc " \
           "mẫu; 0 người trong mẫu chưa trả lời nhưng không có trong tệp." in page.text

    # The link in the letter opens the questionnaire; answered, the response is stored.
    link = LINK.search(body).group(1)
    assert link.startswith(f"{settings.base_url}/o?code=")
    responses_before = await Response.count().where(Response.channel == "invitation")
    assert (await answer_by_link(mail_app, link)).headers["location"] == "/o/sent?lang=vi"
    assert await Response.count().where(Response.channel == "invitation") == responses_before + 1

    # The printed slip's code of a mailed person no longer works; the refused person's slip still does.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=mail_app), base_url="http://testserver") as other:
        slip_of = {slip["staff_id"]: slip["code"] for slip in sample}
        assert (await other.post("/o", data={"code": slip_of[members[1]]})).status_code == 403
        assert (await other.post("/o", data={"code": slip_of[members[-1]]})).status_code == 303

    # Reminders go only to those who have not answered (the refused one is refused again).
    mailbox.refused.clear()
    before = len(mailbox.messages)
    reminder = await wait_for_sending(sent_id(await post_file(analyst_client, whole_frame(), kind="reminder")))
    reminders = mailbox.messages[before:]
    assert reminder["planned"] == 7 and reminder["sent"] == 7 and len(reminders) == 7
    assert address_of(members[0]) not in {message["To"] for message in reminders}
    started_letter = mailbox.to(address_of(members[-1]))[-1]
    assert started_letter["Subject"].startswith("Nhắc:") and "chưa gửi phiếu" in started_letter.get_content()
    second_link = LINK.search(mailbox.to(address_of(members[1]))[-1].get_content()).group(1)
    assert (await answer_by_link(mail_app, second_link)).headers["location"] == "/o/sent?lang=vi"

    # No address anywhere: not in any table, not in the log, not in a temporary file written meanwhile.
    stored = (await all_text_in_database(settings)).lower()
    assert DOMAIN not in stored and not any(address in stored for address in ADDRESSES)
    ours = [record.getMessage() for record in caplog.records if not record.name.startswith("mail.log")]
    assert ours and DOMAIN not in "\n".join(ours).lower()  # (mail.log is the test's own SMTP server)
    assert not written_since(began, DOMAIN.encode())
    if settings.is_sqlite:
        database = Path(settings.database_url.removeprefix("sqlite:///"))
        for path in (database, database.with_name(database.name + "-wal")):
            assert not path.exists() or not files_containing(DOMAIN.encode(), [path])
    assert not invitations.WAITING  # the recipients left memory with their job


def written_since(began: float, needle: bytes) -> list[Path]:
    """Files under the temporary folder changed since `began` that contain `needle`."""
    changed = []
    for path in Path(tempfile.gettempdir()).rglob("*"):
        try:
            if path.is_file() and path.stat().st_mtime >= began and path.stat().st_size < 20_000_000:
                changed.append(path)
        except OSError:
            continue
    return files_containing(needle, changed)


def files_containing(needle: bytes, paths: list[Path]) -> list[Path]:
    """The files among `paths` holding `needle`, read by another process (grep): opening and closing a live SQLite
    database in this process would drop the POSIX locks its connections hold (sqlite.org/howtocorrupt.html, 2.2),
    and the suite's database, with its WAL, is among the temporary files."""
    found = []
    for start in range(0, len(paths), 500):  # a bounded command line
        grep = subprocess.run(["grep", "-laF", "--no-messages", "--", needle.decode(),
                               *map(str, paths[start:start + 500])], capture_output=True, text=True)
        found += [Path(line) for line in grep.stdout.splitlines()]
    return found


# ---- the message file -----------------------------------------------------------------------------------------

async def test_message_file_for_zalo_or_sms_has_a_working_link_per_person(mail_app, analyst_client, sample):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Mã cán bộ", "Họ và tên", "Số điện thoại"])
    for index, staff_id in enumerate(FRAME_IDS):
        sheet.append([staff_id, f"Cán bộ {staff_id}", f"09{index:08d}"])
    content = io.BytesIO()
    workbook.save(content)
    downloaded = await post_file(analyst_client, content.getvalue(), action="file", filename="danh-sach.xlsx")
    assert downloaded.status_code == 200, downloaded.text[:800]
    assert downloaded.headers["content-type"].startswith("text/csv")
    assert "attachment" in downloaded.headers["content-disposition"]
    assert downloaded.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    rows = list(csv.DictReader(io.StringIO(downloaded.content.decode("utf-8-sig"))))
    open_members = await SampleMember.count().where(
        (SampleMember.draw.campaign.code == CAMPAIGN) & SampleMember.status.is_in(["invited", "started"]))
    assert len(rows) == open_members > 0
    assert set(rows[0]) == set(invitations.FILE_COLUMNS)
    row = rows[0]
    assert row["staff_id"] in sampled(sample) and row["contact"].startswith("09") and row["name"].startswith("Cán bộ")
    assert row["link"] in row["message"] and row["code"] in row["message"] and "Kính mời ông/bà" in row["message"]
    assert (await answer_by_link(mail_app, row["link"])).headers["location"] == "/o/sent?lang=vi"


# ---- bad input ------------------------------------------------------------------------------------------------

async def test_bad_rows_are_reported_by_row_and_nothing_is_sent(analyst_client, mailbox, sample):
    members = sampled(sample)
    before, sendings = len(mailbox.messages), await InvitationSend.count()
    duplicate = await post_file(analyst_client, address_csv([
        (members[2], address_of(members[2]), "", ""), ("", "", "Không mã", ""),
        (members[2], address_of(members[2]), "", ""),
    ]))
    assert duplicate.status_code == 422
    assert "Dòng 3, cột “staff_id”: thiếu mã cán bộ." in duplicate.text
    assert f"Dòng 4, cột “staff_id”: mã cán bộ {members[2]} trùng với dòng 2." in duplicate.text
    bad_address = await post_file(analyst_client, address_csv([
        (members[3], "khong-phai-email", "", ""), ("NGOAI-MAU-1", "cung-sai", "", "")]))
    assert bad_address.status_code == 422
    assert "Dòng 2, cột “email”: địa chỉ e-mail không hợp lệ." in bad_address.text
    assert "Dòng 3" not in bad_address.text  # not in the sample: its address does not matter
    no_email_column = await post_file(analyst_client, address_csv([(members[3], "", "", "")]).replace(
        b"email", b"ghi_chu"))
    assert no_email_column.status_code == 422 and "cần cột e-mail" in no_email_column.text
    other_header = await post_file(analyst_client, "Mã cán bộ,Thư điện tử\n{},sai-dia-chi\n".format(members[3]).encode())
    assert other_header.status_code == 422 and "Dòng 2, cột “Thư điện tử”: địa chỉ e-mail không hợp lệ." in other_header.text
    too_big = await post_file(analyst_client, b"staff_id,email\n" + b"x" * 1_100_000)
    assert too_big.status_code == 413 and "Tệp quá lớn" in too_big.text
    nobody = await post_file(analyst_client, address_csv([("NGOAI-MAU-2", f"x@{DOMAIN}", "", "")]))
    assert nobody.status_code == 422 and "Không có ai trong tệp cần nhận tin: 0 người sẽ nhận" in nobody.text
    no_id_column = await post_file(analyst_client, b"email\nabc@" + DOMAIN.encode() + b"\n")
    assert no_id_column.status_code == 422 and "cần cột mã cán bộ" in no_id_column.text
    wrong_type = await post_file(analyst_client, b"%PDF-1.4", filename="dia-chi.pdf")
    assert wrong_type.status_code == 422 and "chỉ nhận .csv hoặc .xlsx" in wrong_type.text
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == CAMPAIGN).first()
    running = await InvitationSend.insert(InvitationSend(campaign=campaign["id"], kind="invitation", state="sending"))
    while_running = await post_file(analyst_client, whole_frame())
    await InvitationSend.update({InvitationSend.state: "done"}).where(InvitationSend.id == running[0]["id"])
    assert while_running.status_code == 422 and "đang chạy" in while_running.text
    sendings += 1
    assert len(mailbox.messages) == before and await InvitationSend.count() == sendings


async def test_without_a_mail_server_only_the_message_file_is_offered(analyst, sample):
    page = await analyst.get(f"/analyst/sampling/{CAMPAIGN}/invitations")
    assert page.status_code == 200 and "Chưa cấu hình máy chủ thư" in page.text
    assert re.search(r'value="email" class="small" disabled', page.text)
    refused = await post_file(analyst, whole_frame())
    assert refused.status_code == 422 and "SMTP_HOST" in refused.text


async def test_a_mail_server_that_cannot_be_reached_fails_every_letter_with_the_reason(settings, sample):
    unreachable = dataclasses.replace(settings, smtp=SmtpSettings(host="127.0.0.1", port=1, security="none",
                                                                  sender="khaosat@snv.example.gov.vn"))
    letters = [mailer.Letter(7, f"a@{DOMAIN}", "Chủ đề", "Nội dung"), mailer.Letter(8, f"b@{DOMAIN}", "x", "y")]
    outcomes = await asyncio.to_thread(mailer.send_letters, unreachable.smtp, letters)
    assert [outcome.key for outcome in outcomes] == [7, 8]
    assert all("Không gửi được qua máy chủ thư" in outcome.refused and DOMAIN not in outcome.refused
               for outcome in outcomes)


def test_a_server_answer_loses_every_address():
    text = mailer.without_addresses("550 5.1.1 <Bob.Nguyen@Example.VN>: unknown; also cc=x@y.vn", "bob.nguyen@example.vn")
    assert "@" not in text and "550 5.1.1" in text and "unknown" in text


def test_smtp_settings_need_a_sender_and_a_known_security():
    from survey_app.core.settings import Settings

    with pytest.raises(ValueError, match="SMTP_FROM"):
        Settings.from_env({"SECRET_KEY": "k", "SMTP_HOST": "mail.example.vn"})
    with pytest.raises(ValueError, match="SMTP_SECURITY"):
        Settings.from_env({"SECRET_KEY": "k", "SMTP_SECURITY": "ssl"})
    smtp = Settings.from_env({"SECRET_KEY": "k", "SMTP_HOST": "mail.example.vn", "SMTP_FROM": "a@b.vn",
                              "SMTP_PASSWORD": "hidden"}).smtp
    assert smtp.enabled and smtp.port == 587 and smtp.security == "starttls" and "hidden" not in repr(smtp)


async def test_a_sending_whose_recipients_are_gone_shows_as_interrupted(sample):
    """After a restart the addresses (kept in memory only) are gone: the job stops, the page says to upload again."""
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == CAMPAIGN).first()
    inserted = await InvitationSend.insert(InvitationSend(campaign=campaign["id"], kind="invitation", planned=3))
    await invitations.deliver(send_id=inserted[0]["id"])
    row = await InvitationSend.select().where(InvitationSend.id == inserted[0]["id"]).first()
    assert row["state"] == "interrupted" and row["sent"] == 0
    silent = {"state": "sending", "updated_at": dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=11)}
    assert invitations.shown_state(silent, dt.datetime.now(dt.timezone.utc)) == "interrupted"
    assert invitations.shown_state({**silent, "state": "done"}, dt.datetime.now(dt.timezone.utc)) == "done"
