"""Officials' invitations and reminders by e-mail, and a per-person message file for Zalo or SMS bulk tools.

The analyst brings the address file at each sending: the person ids of the frame the sample was drawn from, with
an e-mail address (or a phone number for the message file). The file is read in memory, matched to the sampled
members through the keyed staff reference, and dropped: no address is written to the database, a log, a temporary
file or the job engine's table (docs/integration.md, "Thư mời / Invitations").

Plain codes are never stored, so each message carries a fresh one-time code: its hash replaces the member's
(the draft stays with the invitation), and the code of an earlier slip, letter or file stops working. Only members
still expected to answer (invited or started, code not spent) get a message: a reminder never reaches someone who
has answered, and nothing here reads or links answers.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import logging
from dataclasses import dataclass, field

import email_validator

import sampling
from sampling.errors import SamplingError
from survey_app.core import jobs
from survey_app.core.db import write_transaction
from survey_app.core.sampling_tables import Invitation, InvitationSend, SampleMember, SendFailure
from survey_app.core.settings import Settings
from survey_app.core.tables import Campaign
from survey_app.core.wording import role_name
from survey_app.officials import draws, mailer
from survey_app.officials.slips import code_url
from sampling.codes import format_code

logger = logging.getLogger("survey_app.officials.invitations")

MAX_FILE_BYTES = 1_000_000  # below Litestar's 1 MiB spool size: an upload never rolls over to a temporary file
SUFFIXES = ("csv", "xlsx")
OPEN_STATUSES = ("invited", "started")
CHUNK = 20  # letters per connection and per progress update
NO_ADDRESS = "Không có địa chỉ e-mail trong tệp."
HEADERS = {  # each column of the address file: the headers provinces use for it (lowercase)
    "staff_id": ("staff_id", "mã cán bộ", "mã cb", "mã công chức", "số hiệu"),
    "email": ("email", "e-mail", "thư điện tử", "địa chỉ email", "địa chỉ e-mail"),
    "name": ("name", "họ tên", "họ và tên"),
    "contact": ("contact", "điện thoại", "số điện thoại", "zalo", "liên hệ"),
}


class InvitationRefused(Exception):
    """Nothing sent and nothing changed; each message (Vietnamese) says what and where."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


# ---- the address file -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    row: int  # spreadsheet row number, for problems
    staff_id: str
    staff_ref: str  # keyed hash of the staff id: how the sample knows the person
    email: str = ""
    name: str = ""
    contact: str = ""


@dataclass(frozen=True)
class AddressFile:
    people: list[Person]
    headers: dict[str, str]  # each known column → the file's header for it, for messages


def read_address_file(secret_key: str, filename: str, data: bytes) -> AddressFile:
    """The people of an address file (CSV or XLSX); InvitationRefused listing every bad row. Blocking: run it
    in a thread."""
    suffix = (filename or "").rpartition(".")[2].lower()
    if suffix not in SUFFIXES or "." not in (filename or ""):
        raise InvitationRefused(["Tệp địa chỉ: chỉ nhận .csv hoặc .xlsx."])
    if not data or len(data) > MAX_FILE_BYTES:
        raise InvitationRefused([f"Tệp địa chỉ: trống hoặc lớn quá {MAX_FILE_BYTES // 1000} KB."])
    try:
        table = sampling.read_table(io.BytesIO(data), file_format=suffix)
    except SamplingError as error:
        raise InvitationRefused([f"Tệp địa chỉ không đọc được: {problem.message_vi}"
                                 for problem in error.problems]) from None
    columns = found_columns([str(header) for header in table.columns])
    if "staff_id" not in columns:
        raise InvitationRefused(["Tệp địa chỉ cần cột mã cán bộ (tiêu đề staff_id hoặc “Mã cán bộ”), cùng mã với "
                                 "danh sách đã dùng để chọn mẫu."])
    return AddressFile(people_of(secret_key, table, columns), columns)


def found_columns(headers: list[str]) -> dict[str, str]:
    """Each known column → the file's header for it."""
    lowered = {header.strip().lower(): header for header in headers}
    return {name: next(lowered[known] for known in names if known in lowered)
            for name, names in HEADERS.items() if any(known in lowered for known in names)}


def people_of(secret_key: str, table, columns: dict[str, str]) -> list[Person]:
    people, problems, first_row = [], [], {}
    for row, record in zip(table.index, table.to_dict("records")):
        values = {name: str(record.get(header) or "").strip() for name, header in columns.items()}
        if not values["staff_id"]:
            if any(values.values()):
                problems.append(f"Dòng {row}, cột “{columns['staff_id']}”: thiếu mã cán bộ.")
            continue
        if values["staff_id"] in first_row:
            problems.append(f"Dòng {row}, cột “{columns['staff_id']}”: mã cán bộ {values['staff_id']} trùng với "
                            f"dòng {first_row[values['staff_id']]}.")
            continue
        first_row[values["staff_id"]] = row
        people.append(Person(int(row), values["staff_id"], draws.staff_ref(secret_key, values["staff_id"]),
                             values.get("email", ""), values.get("name", ""), values.get("contact", "")))
    if problems:
        raise InvitationRefused(problems)
    return people


def address_problem(person: Person, header: str) -> str | None:
    """Why a written address cannot be used, in Vietnamese with its row; None when it can (or is left empty)."""
    if not person.email:
        return None
    try:
        email_validator.validate_email(person.email, check_deliverability=False)
    except email_validator.EmailNotValidError:
        return f"Dòng {person.row}, cột “{header}”: địa chỉ e-mail không hợp lệ."
    return None


# ---- who gets a message ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipient:
    member_id: int
    invitation_id: int
    unit_name: str
    role: str
    started: bool
    person: Person


@dataclass
class Plan:
    campaign: dict
    recipients: list[Recipient] = field(default_factory=list)
    answered_or_left: int = 0  # rows of sampled people who answered, were replaced or left: no message
    not_sampled: int = 0  # rows of people not in the sample (the whole frame may be uploaded)
    missing: int = 0  # sampled people still expected to answer who have no row in the file

    def summary(self) -> str:
        return (f"{len(self.recipients)} người sẽ nhận; {self.answered_or_left} người trong tệp đã trả lời hoặc "
                f"không còn trong mẫu; {self.not_sampled} người trong tệp không thuộc mẫu; {self.missing} người "
                "trong mẫu chưa trả lời nhưng không có trong tệp.")


async def open_invitations(campaign_id: int) -> list[dict]:
    """Every invitation of the campaign with its member's status, reference, role and unit name."""
    return await Invitation.select(
        Invitation.id, Invitation.used_at, Invitation.member.as_alias("member_id"),
        Invitation.member.status.as_alias("status"), Invitation.member.staff_ref_hash.as_alias("staff_ref"),
        Invitation.member.role.as_alias("role"), Invitation.member.unit.name.as_alias("unit_name"),
    ).where(Invitation.member.draw.campaign == campaign_id)


async def plan(campaign_code: str, address_file: AddressFile, need_email: bool) -> Plan:
    """Match the file's people to the campaign's sample: who gets a message; InvitationRefused on a bad address
    of someone who would get one (every such row listed)."""
    try:
        campaign = await draws.campaign_by_code(campaign_code)
    except SamplingError as error:
        raise InvitationRefused([problem.message_vi for problem in error.problems]) from None
    invitations = {row["staff_ref"]: row for row in await open_invitations(campaign["id"])}
    if not invitations:
        raise InvitationRefused([f"Đợt khảo sát '{campaign_code}' chưa có mẫu cán bộ."])
    result, people = Plan(campaign), address_file.people
    for person in people:
        invitation = invitations.get(person.staff_ref)
        if invitation is None:
            result.not_sampled += 1
        elif invitation["status"] not in OPEN_STATUSES or invitation["used_at"] is not None:
            result.answered_or_left += 1
        else:
            result.recipients.append(Recipient(invitation["member_id"], invitation["id"], invitation["unit_name"],
                                               invitation["role"], invitation["status"] == "started", person))
    in_file = {person.staff_ref for person in people}
    result.missing = sum(1 for reference, row in invitations.items() if reference not in in_file
                         and row["status"] in OPEN_STATUSES and row["used_at"] is None)
    if not result.recipients:
        raise InvitationRefused(["Không có ai trong tệp cần nhận tin: " + result.summary()])
    if need_email and "email" not in address_file.headers:
        raise InvitationRefused(["Tệp địa chỉ cần cột e-mail (tiêu đề email hoặc “Thư điện tử”) để gửi e-mail."])
    problems = [problem for recipient in result.recipients if need_email
                for problem in [address_problem(recipient.person, address_file.headers["email"])] if problem]
    if problems:
        raise InvitationRefused(problems)
    return result


# ---- codes ------------------------------------------------------------------------------------------------------

async def issue_codes(secret_key: str, recipients: list[Recipient]) -> dict[int, str]:
    """A fresh code for each recipient whose code is unspent, its hash stored in place of the old one
    ({member id: new code}); one write transaction."""
    key = draws.code_key(secret_key)
    codes = {}
    async with write_transaction(Invitation._meta.db):
        for recipient in recipients:
            code = sampling.generate_code()
            changed = await Invitation.update({Invitation.code_hash: sampling.hash_code(key, code)}).where(
                (Invitation.id == recipient.invitation_id) & Invitation.used_at.is_null()
            ).returning(Invitation.id)
            if changed:
                codes[recipient.member_id] = code
    return codes


async def current_hashes(recipients: list[Recipient]) -> dict[int, str]:
    rows = await Invitation.select(Invitation.id, Invitation.code_hash).where(
        Invitation.id.is_in([recipient.invitation_id for recipient in recipients]))
    return {row["id"]: row["code_hash"] for row in rows}


async def put_back(old_hashes: dict[int, str]) -> None:
    """A letter that did not go leaves the member's earlier code working."""
    if not old_hashes:
        return
    async with write_transaction(Invitation._meta.db):
        for invitation_id, code_hash in old_hashes.items():
            await Invitation.update({Invitation.code_hash: code_hash}).where(
                (Invitation.id == invitation_id) & Invitation.used_at.is_null())


# ---- the words --------------------------------------------------------------------------------------------------

def day(value) -> str:
    return value.strftime("%d/%m/%Y")


def letter_text(kind: str, campaign: dict, recipient: Recipient, code: str, base_url: str) -> tuple[str, str]:
    """(subject, body) in Vietnamese with an English paragraph under it."""
    title, until, link = campaign["name"], day(campaign["ends_on"]), code_url(base_url, code)
    shown_code, entry = format_code(code), f"{base_url.rstrip('/')}/o"
    if kind == "reminder":
        subject = f"Nhắc: khảo sát “{title}”, hạn đến {until}"
        opening = (f"Ông/bà đã bắt đầu trả lời khảo sát “{title}” nhưng chưa gửi phiếu. Phần đã điền vẫn được giữ; "
                   "mở đường dẫn dưới đây để trả lời tiếp." if recipient.started else
                   f"Ông/bà chưa trả lời khảo sát “{title}”. Xin ông/bà dành ít phút trả lời trước hạn.")
    else:
        subject = f"Thư mời tham gia khảo sát “{title}”"
        opening = (f"Ông/bà là một trong những cán bộ, công chức của {recipient.unit_name} được chọn ngẫu nhiên "
                   f"tham gia khảo sát “{title}”.")
    body = "\n".join([
        "Kính gửi ông/bà,", "", opening, "",
        f"Trả lời tại: {link}", f"Hoặc mở {entry} và nhập mã: {shown_code}", "",
        f"Mã chỉ dùng một lần, đến hết ngày {until}; ông/bà có thể lưu và trả lời tiếp trên máy khác với cùng mã. "
        "Mã này thay cho mã trên phiếu mời hoặc thư trước (nếu có). Phiếu trả lời không ghi tên; kết quả chỉ công "
        "bố theo nhóm.", "", "Trân trọng cảm ơn ông/bà.", "", "---",
        f"You were chosen at random for the survey “{title}”. Answers are anonymous. Open {link} or go to {entry} "
        f"and type the code {shown_code} (one use only, until {until}); it replaces any code you received before.",
    ])
    return subject, body


def short_text(kind: str, campaign: dict, code: str, base_url: str) -> str:
    """The message for Zalo or SMS: one paragraph with the link and the code."""
    lead = "Nhắc: ông/bà chưa gửi phiếu khảo sát" if kind == "reminder" else "Kính mời ông/bà trả lời khảo sát"
    return (f"{lead} “{campaign['name']}” (không ghi tên), hạn {day(campaign['ends_on'])}: "
            f"{code_url(base_url, code)} — mã {format_code(code)}, dùng một lần.")


# ---- the message file ---------------------------------------------------------------------------------------------

FILE_CHUNK = 100
FILE_COLUMNS = ["staff_id", "name", "contact", "unit", "role", "staff_ref", "code", "link", "message"]


async def message_file(settings: Settings, kind: str, planned: Plan) -> bytes:
    """CSV (UTF-8 with BOM, for Excel) with one row per recipient: a fresh code, its link and the text. The
    codes in it replace the earlier ones; the file is made in memory and handed over, never kept."""
    codes = {}
    for start in range(0, len(planned.recipients), FILE_CHUNK):  # short write transactions: citizens' answers go between
        codes |= await issue_codes(settings.secret_key, planned.recipients[start:start + FILE_CHUNK])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FILE_COLUMNS)
    for recipient in planned.recipients:
        code = codes.get(recipient.member_id)
        if code is None:  # answered in the meantime
            continue
        person = recipient.person
        writer.writerow([person.staff_id, person.name, person.contact, recipient.unit_name, role_name(recipient.role),
                         person.staff_ref[:draws.REF_PREFIX], format_code(code), code_url(settings.base_url, code),
                         short_text(kind, planned.campaign, code, settings.base_url)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# ---- sending by e-mail ----------------------------------------------------------------------------------------

# Why a runner of this process, on every deployment: the job engine may persist a job's arguments (procrastinate
# keeps them in procrastinate_jobs, SAQ in Redis), and the addresses must never be stored, so the job's arguments
# name the sending only, and its recipients wait in this process's memory (WAITING). A shared queue could hand
# the job to another process (`survey worker`, another server) that does not have them: the sending therefore runs
# on the engine's in-process runner here. A restart loses the recipients, and the sending shows as interrupted
# (the analyst uploads the file again), which is the price of keeping no address anywhere.
WAITING: dict[int, tuple[Settings, str, list[Recipient]]] = {}
SEND_TASK = "invitations.send"
_engine: jobs.InProcessEngine | None = None


def sending_engine() -> jobs.InProcessEngine:
    global _engine
    if _engine is None or _engine.closed:
        _engine = jobs.InProcessEngine()
    return _engine


async def stop_sendings() -> None:
    """At shutdown: sendings still running stop (and show as interrupted)."""
    global _engine
    if _engine is not None:
        await _engine.close()
    _engine = None


async def queue_sending(settings: Settings, kind: str, planned: Plan, username: str) -> int:
    """Record a sending (counts, no address), keep its recipients in memory and start its job; the sending's id.
    Refused while another sending of the campaign runs: both would give the same people codes, one of them dead."""
    if any(row["state"] in ("queued", "sending") for row in await sendings(planned.campaign["id"], limit=3)):
        raise InvitationRefused(["Một lượt gửi của đợt khảo sát này đang chạy; hãy chờ gửi xong rồi gửi tiếp."])
    inserted = await InvitationSend.insert(InvitationSend(
        campaign=planned.campaign["id"], kind=kind, planned=len(planned.recipients), created_by=username[:64],
        summary=planned.summary()))
    send_id = inserted[0]["id"]
    WAITING[send_id] = (settings, kind, planned.recipients)
    await sending_engine().defer(SEND_TASK, {"send_id": send_id}, None, 0)
    return send_id


@jobs.task(SEND_TASK)
async def deliver(send_id: int) -> None:
    """The job: send the letters of one sending, chunk by chunk, recording progress and failures."""
    waiting = WAITING.pop(send_id, None)
    sending = await InvitationSend.select().where(InvitationSend.id == send_id).first()
    if sending is None or sending["state"] in ("done", "interrupted"):
        return
    if waiting is None:
        await finish(send_id, "interrupted")
        logger.warning("invitation sending %s interrupted: its recipients were not in this process", send_id)
        return
    settings, kind, recipients = waiting
    campaign = await Campaign.select().where(Campaign.id == sending["campaign"]).first()
    await InvitationSend.update({InvitationSend.state: "sending",
                                 InvitationSend.updated_at: dt.datetime.now(dt.timezone.utc)}).where(
        InvitationSend.id == send_id)
    try:
        for start in range(0, len(recipients), CHUNK):
            await deliver_chunk(settings, send_id, kind, campaign, recipients[start:start + CHUNK])
    except BaseException:
        await asyncio.shield(finish(send_id, "interrupted"))
        raise
    await finish(send_id, "done")
    counts = await InvitationSend.select(InvitationSend.sent, InvitationSend.failed).where(
        InvitationSend.id == send_id).first()
    logger.info("invitation sending %s (%s): %s sent, %s failed", send_id, kind, counts["sent"], counts["failed"])


async def deliver_chunk(settings: Settings, send_id: int, kind: str, campaign: dict,
                        recipients: list[Recipient]) -> None:
    with_address = [recipient for recipient in recipients if recipient.person.email]
    failures = {recipient.member_id: NO_ADDRESS for recipient in recipients if not recipient.person.email}
    old_hashes = await current_hashes(with_address)
    codes = await issue_codes(settings.secret_key, with_address)
    letters = [mailer.Letter(recipient.member_id, recipient.person.email,
                             *letter_text(kind, campaign, recipient, codes[recipient.member_id], settings.base_url))
               for recipient in with_address if recipient.member_id in codes]
    outcomes = await asyncio.to_thread(mailer.send_letters, settings.smtp, letters) if letters else []
    failures |= {outcome.key: outcome.refused for outcome in outcomes if not outcome.accepted}
    by_member = {recipient.member_id: recipient.invitation_id for recipient in with_address}
    await put_back({by_member[key]: old_hashes[by_member[key]] for key in failures if key in by_member})
    await record_progress(send_id, sum(outcome.accepted for outcome in outcomes), failures)


async def record_progress(send_id: int, sent: int, failures: dict[int, str]) -> None:
    async with write_transaction(InvitationSend._meta.db):
        if failures:
            await SendFailure.insert(*[SendFailure(send=send_id, member=member_id, reason=reason)
                                       for member_id, reason in failures.items()])
        await InvitationSend.update({InvitationSend.sent: InvitationSend.sent + sent,
                                     InvitationSend.failed: InvitationSend.failed + len(failures),
                                     InvitationSend.updated_at: dt.datetime.now(dt.timezone.utc)}).where(
            InvitationSend.id == send_id)


async def finish(send_id: int, state: str) -> None:
    await InvitationSend.update({InvitationSend.state: state,
                                 InvitationSend.finished_at: dt.datetime.now(dt.timezone.utc)}).where(
        InvitationSend.id == send_id)


# ---- what the page shows --------------------------------------------------------------------------------------

STALE_AFTER = dt.timedelta(minutes=10)  # a chunk takes seconds: a sending silent this long died with its server


def shown_state(row: dict, now: dt.datetime) -> str:
    """The state to show: a sending whose server stopped (no progress for STALE_AFTER) is interrupted."""
    updated = row["updated_at"] if row["updated_at"].tzinfo else row["updated_at"].replace(tzinfo=dt.timezone.utc)
    if row["state"] in ("queued", "sending") and now - updated > STALE_AFTER:
        return "interrupted"
    return row["state"]


async def sendings(campaign_id: int, limit: int = 10) -> list[dict]:
    """The campaign's latest sendings, newest first, each with its failures (unit, role, reference, reason)."""
    rows = await InvitationSend.select().where(InvitationSend.campaign == campaign_id).order_by(
        InvitationSend.id, ascending=False).limit(limit)
    now = dt.datetime.now(dt.timezone.utc)
    for row in rows:
        row["state"] = shown_state(row, now)
        row["failures"] = await SendFailure.select(
            SendFailure.reason, SendFailure.member.role.as_alias("role"),
            SendFailure.member.unit.name.as_alias("unit_name"),
            SendFailure.member.staff_ref_hash.as_alias("staff_ref"),
        ).where(SendFailure.send == row["id"]).order_by(SendFailure.id)
        for failure in row["failures"]:
            failure["staff_ref"] = failure["staff_ref"][:draws.REF_PREFIX]
    return rows

