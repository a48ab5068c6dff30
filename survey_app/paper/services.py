"""Paper mode's operations: print numbered copies, key returned copies twice, settle differences, answer online.

A copy becomes exactly one response, whichever way it is answered:
- printed → online: its QR code's one-time link stored a web answer (channel "paper_qr");
- printed → keying → keyed: two operators keyed it; identical entries (or a third keying's majority, or a
  supervisor's choice) become one response with channel "paper".
Each move is a conditional update of the copy's status inside the write transaction that stores the response, so
two doors racing for one copy cannot both win. Both kinds of response go to `response` like any other and are
folded into the figures and exports with the rest (the export's `response_mode` tells paper from web).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from piccolo.query.functions.aggregate import Max

from questionnaires.paper import answer_codes_of, item_numbers, keyed_to_raw
from survey_app.accounts import audit
from survey_app.campaigns.catalog import definition_of
from survey_app.core.campaign_tables import CampaignUnit
from survey_app.core import worker_process
from survey_app.core.db import write_transaction
from survey_app.core.paper_tables import PAPER_CHANNEL, PaperCopy, PaperEntry
from survey_app.core.tables import Campaign, Domain, Questionnaire, Response, Unit
from survey_app.paper.printing import PrintedCopy, copy_label, paper_pdf_from_dict
from survey_app.public.services import STORED_JSON, answers_digest, dossier_hash
from survey_app.webhooks import outbox

ONLINE_CHANNEL = "paper_qr"  # a paper copy answered online through its QR code
MAX_COPIES = 200  # printed while the page waits: about 20 s of PDF for a five-page SIPAS copy (benchmarks/paper.py)
MAX_RUN = 10_000  # a larger run is a background job (survey_app/paper/print_jobs.py); the CLI has no limit
TOKEN_PATTERN = re.compile(r"(\d{1,9})-(\d{1,9})-([0-9a-f]{20})")


class PaperRefused(Exception):
    """What cannot be done, in Vietnamese and English; `status` is the HTTP status a page answers with."""

    def __init__(self, message_vi: str, message_en: str, status: int = 409):
        super().__init__(message_en)
        self.message_vi, self.message_en, self.status = message_vi, message_en, status


# ---- the copy's one-time online link -------------------------------------------------------------------------

def _token_mac(secret_key: str, campaign_id: int, serial: int) -> str:
    message = f"paper-copy:{campaign_id}:{serial}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:20]


def copy_token(secret_key: str, campaign_id: int, serial: int) -> str:
    """The copy's online link token: its campaign and number, signed (80 bits) so no other copy can be guessed.
    Nothing secret is stored: the copy row says whether the link is still unused."""
    return f"{campaign_id}-{serial}-{_token_mac(secret_key, campaign_id, serial)}"


def read_token(secret_key: str, token: str) -> tuple[int, int] | None:
    """(campaign id, serial) of a genuine token, else None."""
    found = TOKEN_PATTERN.fullmatch(token or "")
    if not found:
        return None
    campaign_id, serial = int(found.group(1)), int(found.group(2))
    return (campaign_id, serial) if hmac.compare_digest(found.group(3), _token_mac(secret_key, campaign_id,
                                                                                   serial)) else None


def online_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/p/{token}"


# ---- printing ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PrintRun:
    pdf: bytes
    first: int
    last: int


async def campaign_with_questionnaire(code: str) -> tuple[dict, dict]:
    campaign = await Campaign.select().where(Campaign.code == code).first()
    if campaign is None:
        raise PaperRefused(f"Không có đợt khảo sát với mã {code[:32]!r}.", f"no campaign with code {code[:32]!r}", 404)
    questionnaire = await Questionnaire.select().where(Questionnaire.id == campaign["questionnaire"]).first()
    return campaign, questionnaire


def refuse_repeats(definition) -> None:
    """Paper copies and keyed entry have one answer per question: a repeat (one block per member) is refused
    rather than printed with its members' answers impossible to key."""
    if definition.repeats:
        names = ", ".join(section.title.get("vi", section.key) for section in definition.repeats)
        raise PaperRefused(f"Phiếu hỏi có nhóm câu hỏi lặp theo từng thành viên ({names}); phiếu giấy và nhập liệu "
                           "chưa hỗ trợ nhóm lặp. Hãy dùng phiếu trực tuyến (mã QR) cho đợt này.",
                           "the questionnaire has a repeat group, which paper copies and keyed entry do not "
                           "support; use the online form", 422)


def parse_copies(text: str, maximum: int | None = MAX_RUN) -> int:
    """A number of copies from 1 to `maximum` (None: no upper limit, as the command line prints any count)."""
    text = str(text or "").strip()
    if not text.isascii() or not text.isdecimal() or not 1 <= int(text) <= (maximum or int(text)):
        if maximum is None:
            raise PaperRefused("Số bản in phải là một số nguyên từ 1 trở lên.", "copies: a whole number from 1", 422)
        raise PaperRefused(f"Số bản in phải là một số nguyên từ 1 đến {maximum:,}.".replace(",", "."),
                           f"copies: a whole number from 1 to {maximum:,}", 422)
    return int(text)


async def printable_unit(campaign: dict, unit_code: str) -> dict:
    """The unit the copies are printed for: it exists and takes part in the campaign."""
    unit = await Unit.select().where(Unit.code == str(unit_code or "").strip()[:32]).first()
    if unit is None:
        raise PaperRefused("Hãy chọn đơn vị phát phiếu (mã đơn vị không có).", "unit: no unit with this code", 422)
    listed = await CampaignUnit.select(CampaignUnit.unit).where(CampaignUnit.campaign == campaign["id"])
    if listed and unit["id"] not in {row["unit"] for row in listed}:
        raise PaperRefused(f"Đơn vị {unit['code']} không tham gia đợt khảo sát này.",
                           f"unit {unit['code']} does not take part in this campaign", 422)
    return unit


StoreWith = Callable[[dict, dict, list], Awaitable[None]]  # (campaign, unit, serials), inside the numbering


@dataclass(frozen=True)
class Numbered:
    """Copies numbered for a unit (their serials stored): what a print run renders."""

    campaign: dict
    questionnaire: dict
    unit: dict
    serials: list


async def print_copies(settings, campaign_code: str, unit_code: str, copies_text: str, username: str,
                       maximum: int | None = MAX_COPIES) -> PrintRun:
    """Number `copies` new copies (the serials are stored, so the same number is never printed twice) and build
    their PDF in the staff pages' worker process (a hundred milliseconds a copy: never on the event loop, nor
    holding the interpreter lock that citizens' form posts need)."""
    numbered = await number_copies(campaign_code, unit_code, copies_text, username, maximum)
    pdf = await render(settings, numbered.campaign, numbered.questionnaire, numbered.unit, numbered.serials)
    return PrintRun(pdf, numbered.serials[0], numbered.serials[-1])


async def render(settings, campaign: dict, questionnaire: dict, unit: dict, serials: list) -> bytes:
    """The PDF of these copies, each with its one-time online link, built in the staff pages' worker process."""
    printed = [PrintedCopy(serial, online_url(settings.base_url, copy_token(settings.secret_key, campaign["id"],
                                                                            serial))) for serial in serials]
    return await worker_process.run(paper_pdf_from_dict, definition_of(questionnaire).to_dict(), campaign["name"],
                                    unit["name"], printed)


async def number_copies(campaign_code: str, unit_code: str, copies_text: str, username: str,
                        maximum: int | None, store_with: StoreWith | None = None) -> Numbered:
    """Check the campaign, the unit and the count, then store the next serials for them (and whatever `store_with`
    stores in the same transaction: when it raises, nothing is numbered)."""
    campaign, questionnaire = await campaign_with_questionnaire(campaign_code)
    if campaign["mode"] != "open_qr":
        raise PaperRefused("Phiếu giấy chỉ dùng cho đợt khảo sát người dân (không dùng cho khảo sát cán bộ theo "
                           "thư mời, vì phiếu của cán bộ phải gắn với mẫu đã chọn).",
                           "paper copies are for citizens' (open QR) campaigns only", 422)
    if campaign["status"] == "closed":
        raise PaperRefused("Đợt khảo sát đã đóng: không in thêm phiếu.", "the campaign is closed", 409)
    refuse_repeats(definition_of(questionnaire))
    count = parse_copies(copies_text, maximum)
    unit = await printable_unit(campaign, unit_code)
    return Numbered(campaign, questionnaire, unit, await _number_copies(campaign, unit, count, username, store_with))


async def _number_copies(campaign: dict, unit: dict, count: int, username: str,
                         store_with: StoreWith | None) -> list[int]:
    """The next `count` serials of the campaign, stored with the audit entry in one write transaction (the unique
    index on campaign and serial refuses a second server racing for the same numbers: it retries)."""
    for attempt in range(5):
        try:
            async with write_transaction(PaperCopy._meta.db):
                highest = await PaperCopy.select(Max(PaperCopy.serial, alias="highest")).where(
                    PaperCopy.campaign == campaign["id"]).first()
                first = ((highest or {}).get("highest") or 0) + 1
                serials = list(range(first, first + count))
                if store_with is not None:
                    await store_with(campaign, unit, serials)
                await PaperCopy.insert(*[PaperCopy(campaign=campaign["id"], unit=unit["id"], serial=serial,
                                                   printed_by=username) for serial in serials])
                await audit.record(username, "paper_print", campaign["code"],
                                   after={"unit": unit["code"], "first": serials[0], "last": serials[-1]})
            return serials
        except Exception as error:  # a unique violation on PostgreSQL: someone else took these numbers
            if attempt == 4 or "unique" not in str(error).lower():
                raise
    raise AssertionError("unreachable")


async def copy_counts(campaign: dict) -> dict[str, int]:
    """How many copies are in each status: printed (not back yet), online, keying, keyed."""
    counts = {status: 0 for status in ("printed", "online", "keying", "keyed")}
    for row in await PaperCopy.select(PaperCopy.status).where(PaperCopy.campaign == campaign["id"]):
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


# ---- keyed entry ------------------------------------------------------------------------------------------------

@dataclass
class KeyingResult:
    """What happened to one keyed entry: `errors` by item key (nothing stored), or the copy's state after it."""

    copy: dict
    errors: dict = field(default_factory=dict)
    round: int = 0
    outcome: str = ""  # "waiting" (first entry), "stored" (one response), "different" (to settle)


def parse_serial(text: str) -> int:
    digits = str(text or "").strip()
    if not digits.isascii() or not digits.isdecimal() or len(digits) > 9 or int(digits) < 1:
        raise PaperRefused("Số phiếu là dãy số in ở góc trên phiếu (ví dụ 000017).",
                           "copy number: the digits printed at the top of the copy", 422)
    return int(digits)


async def copy_for_keying(campaign: dict, serial_text: str, user) -> dict:
    """The copy an operator is about to key; refused when it was not printed, was answered online, is already
    stored, or this operator has keyed it already."""
    serial = parse_serial(serial_text)
    if campaign["status"] == "closed":  # its figures are final once published
        raise PaperRefused(f"Đợt {campaign['code']} đã đóng: không nhập thêm phiếu.",
                           f"campaign {campaign['code']} is closed: no more entries", 409)
    copy = await PaperCopy.select().where((PaperCopy.campaign == campaign["id"]) & (PaperCopy.serial == serial)).first()
    if copy is None or not user.sees(copy["unit"]):
        raise PaperRefused(f"Không có phiếu số {copy_label(serial)} trong đợt {campaign['code']}.",
                           f"no copy {serial} in campaign {campaign['code']}", 404)
    if copy["status"] == "online":
        raise PaperRefused(f"Phiếu số {copy_label(serial)} đã được trả lời trực tuyến bằng mã QR: không nhập phiếu "
                           "giấy này (mỗi phiếu chỉ tính một lần).",
                           f"copy {serial} was answered online: it cannot be keyed", 409)
    if copy["status"] == "keyed":
        raise PaperRefused(f"Phiếu số {copy_label(serial)} đã được nhập đủ và lưu.", f"copy {serial} is stored", 409)
    if await PaperEntry.exists().where((PaperEntry.copy == copy["id"]) & (PaperEntry.operator == user.username)):
        raise PaperRefused(f"Ông/bà đã nhập phiếu số {copy_label(serial)}; lần nhập kia phải do một người khác làm.",
                           f"you keyed copy {serial} already: the other entry must be someone else's", 409)
    if await PaperEntry.count().where(PaperEntry.copy == copy["id"]) >= 3:
        raise PaperRefused(f"Phiếu số {copy_label(serial)} đã nhập ba lần; chờ giám sát viên đối chiếu.",
                           f"copy {serial} was keyed three times: a supervisor settles it", 409)
    return copy


async def checked_entry(settings, campaign: dict, definition, keyed: dict) -> tuple[dict, dict]:
    """(answers as stored in an entry, errors by item key): the codes decoded, then the web form's checks; a
    dossier code is kept only as its keyed hash and must not have been rated in the campaign already."""
    raw, code_errors = keyed_to_raw(definition, keyed)
    answers, errors = definition.validate_answers(raw, lang="vi")
    errors = {**errors, **code_errors}
    for item in definition.items:
        if item.type == "dossier_code" and answers.get(item.key):
            answers[item.key] = dossier_hash(settings.secret_key, str(answers[item.key]))
            if await Response.exists().where((Response.campaign == campaign["id"])
                                             & (Response.dossier_hash == answers[item.key])):
                errors[item.key] = "Hồ sơ này đã được đánh giá trong đợt khảo sát."
    return answers, errors


async def key_entry(settings, campaign: dict, questionnaire: dict, copy: dict, user, keyed: dict) -> KeyingResult:
    """Store one operator's entry of a copy; when two (or three) entries agree, store the one response."""
    definition = definition_of(questionnaire)
    answers, errors = await checked_entry(settings, campaign, definition, keyed)
    if errors:
        return KeyingResult(copy, errors=errors)
    async with write_transaction(PaperEntry._meta.db):
        moved = await PaperCopy.update({PaperCopy.status: "keying"}).where(
            (PaperCopy.id == copy["id"]) & PaperCopy.status.is_in(["printed", "keying"])).returning(PaperCopy.id)
        if not moved:  # answered online (or stored) since the page was opened
            raise PaperRefused(f"Phiếu số {copy_label(copy['serial'])} vừa được trả lời trực tuyến hoặc đã lưu; "
                               "lần nhập này không được lưu.", "the copy was answered meanwhile", 409)
        entries = await _entries(copy["id"])
        if user.username in {entry["operator"] for entry in entries}:
            raise PaperRefused("Ông/bà đã nhập phiếu này; lần nhập kia phải do một người khác làm.",
                               "the same operator cannot key both entries", 409)
        round_number = len(entries) + 1
        await PaperEntry.insert(PaperEntry(copy=copy["id"], operator=user.username, round=round_number,
                                           answers=json.dumps(answers, ensure_ascii=False)))
        entries.append({"operator": user.username, "round": round_number, "answers": answers})
        outcome = "waiting"
        if len(entries) >= 2:
            agreed, differing = compare_entries([entry["answers"] for entry in entries])
            if not differing:
                await _store_paper_response(campaign, questionnaire, copy, definition, agreed)
                outcome = "stored"
            else:
                outcome = "different"
    return KeyingResult(copy, round=round_number, outcome=outcome)


async def _entries(copy_id: int) -> list[dict]:
    rows = await PaperEntry.select().where(PaperEntry.copy == copy_id).order_by(PaperEntry.round)
    return [{**row, "answers": row["answers"] if isinstance(row["answers"], dict) else json.loads(row["answers"])}
            for row in rows]


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def compare_entries(entries: list[dict]) -> tuple[dict, list[str]]:
    """(answers every entry, or a majority of three, agrees on; keys still differing). Two entries must agree
    exactly; with a third keying, the value two of them share wins."""
    agreed, differing = {}, []
    for key in sorted({key for answers in entries for key in answers}):
        values = [_canonical(answers.get(key)) for answers in entries]
        common = max(set(values), key=values.count)
        if values.count(common) == len(values) or (len(values) >= 3 and values.count(common) >= 2):
            if common != "null":
                agreed[key] = json.loads(common)
        else:
            differing.append(key)
    return agreed, differing


async def _store_paper_response(campaign: dict, questionnaire: dict, copy: dict, definition, answers: dict) -> None:
    """The copy's one response (inside the caller's write transaction); the copy becomes "keyed"."""
    response_id = await _insert_response(campaign, questionnaire, copy, definition, answers, PAPER_CHANNEL)
    await PaperCopy.update({PaperCopy.status: "keyed", PaperCopy.response: response_id}).where(
        PaperCopy.id == copy["id"])
    # The entries' copies of the answers have done their work: only the response keeps them (and retention, which
    # drops old free text from responses, then has no second copy to find). Who keyed which round stays.
    await PaperEntry.update({PaperEntry.answers: "{}"}).where(PaperEntry.copy == copy["id"])


async def _insert_response(campaign: dict, questionnaire: dict, copy: dict, definition, answers: dict,
                           channel: str) -> int:
    """A response like the counter form's: the dossier code only as its hash (already hashed in `answers`), the
    domain answer linked to its row, no counter (a paper copy is handed out by a unit)."""
    kept, dossier, domain_code = dict(answers), None, None
    for item in definition.items:
        if item.type == "dossier_code" and kept.get(item.key):
            dossier = str(kept.pop(item.key))
        elif item.type == "domain" and kept.get(item.key):
            domain_code = str(kept[item.key])
    domain = await Domain.select(Domain.id).where(Domain.code == domain_code).first() if domain_code else None
    rows = await Response.insert(Response(
        campaign=campaign["id"], unit=copy["unit"], questionnaire=questionnaire["id"], domain=domain and domain["id"],
        idempotency_key=uuid.uuid4().hex, answers_digest=answers_digest({**kept, "_dossier_hash": dossier}),
        answers=STORED_JSON.encode(kept).decode(), dossier_hash=dossier, channel=channel,
        submitted_at=dt.datetime.now(dt.timezone.utc)))
    if await outbox.record_response_event(rows[0]["id"], campaign["id"]):  # response.stored, in the same transaction
        outbox.nudge()  # a relay that runs before the commit misses nothing: the sweep sends it within seconds
    return rows[0]["id"]


# ---- differences and the supervisor's decision -------------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    key: str
    number: int
    label: str
    shown: list[str]  # each entry's answer as the codes typed, in round order


async def differences(campaign: dict, questionnaire: dict, serial: int) -> tuple[dict, list[dict], list[Difference]]:
    """(copy, its entries, the questions on which they still differ) for the side-by-side page."""
    copy = await PaperCopy.select().where((PaperCopy.campaign == campaign["id"]) & (PaperCopy.serial == serial)).first()
    if copy is None:
        raise PaperRefused(f"Không có phiếu số {copy_label(serial)}.", f"no copy {serial}", 404)
    definition, entries = definition_of(questionnaire), await _entries(copy["id"])
    if copy["status"] != "keying" or len(entries) < 2:
        return copy, entries, []
    _, differing = compare_entries([entry["answers"] for entry in entries])
    numbers = item_numbers(definition)
    return copy, entries, [Difference(key, numbers.get(key, 0), definition.item(key).label.get("vi", key),
                                      [answer_codes_of(definition.item(key), entry["answers"].get(key))
                                       for entry in entries])
                           for key in differing if key in numbers]


async def copies_to_settle(campaign: dict) -> list[dict]:
    """Copies keyed twice (or three times) whose entries still differ: the supervisor's list."""
    rows = await PaperCopy.select().where((PaperCopy.campaign == campaign["id"]) & (PaperCopy.status == "keying"))
    waiting = []
    for copy in rows:
        entries = await _entries(copy["id"])
        if len(entries) >= 2 and compare_entries([entry["answers"] for entry in entries])[1]:
            waiting.append({**copy, "label": copy_label(copy["serial"]), "entries": len(entries)})
    return sorted(waiting, key=lambda copy: copy["serial"])


async def settle(campaign: dict, questionnaire: dict, serial: int, choices: dict, supervisor: str) -> None:
    """A supervisor (who keyed neither entry) picks, for each differing question, the entry read right; the
    agreed answers with these picks are checked again (conditions included) and stored as the one response."""
    copy, entries, differing = await differences(campaign, questionnaire, serial)
    if not differing:
        raise PaperRefused(f"Phiếu số {copy_label(serial)} không có khác biệt cần đối chiếu.",
                           "nothing to settle for this copy", 409)
    if supervisor in {entry["operator"] for entry in entries}:
        raise PaperRefused("Người đã nhập phiếu không tự đối chiếu phiếu đó; cần một giám sát viên khác.",
                           "an operator of this copy cannot settle it", 403)
    definition = definition_of(questionnaire)
    agreed, _ = compare_entries([entry["answers"] for entry in entries])
    problems = {}
    for difference in differing:
        picked = str(choices.get(difference.key, ""))
        if not picked.isdecimal() or not 1 <= int(picked) <= len(entries):
            problems[difference.key] = f"Câu {difference.number}: hãy chọn lần nhập đúng với phiếu giấy."
            continue
        value = entries[int(picked) - 1]["answers"].get(difference.key)
        if value is not None:
            agreed[difference.key] = value
    if problems:
        raise PaperRefused(" ".join(problems.values()), "choose an entry for every differing question", 422)
    visible = definition.visible_keys(agreed)
    final = {key: value for key, value in agreed.items() if key in visible}
    missing = [item for item in definition.items if item.required and item.key in visible and item.key not in final]
    if missing:
        raise PaperRefused("Sau khi chọn, câu bắt buộc còn trống: " + ", ".join(
            f"câu {item_numbers(definition)[item.key]}" for item in missing) + ".", "a required answer is missing", 422)
    async with write_transaction(PaperCopy._meta.db):
        moved = await PaperCopy.update({PaperCopy.status: "keying"}).where(
            (PaperCopy.id == copy["id"]) & (PaperCopy.status == "keying")).returning(PaperCopy.id)
        if not moved:
            raise PaperRefused("Phiếu này vừa được lưu.", "the copy was stored meanwhile", 409)
        await _store_paper_response(campaign, questionnaire, copy, definition, final)
        await audit.record(supervisor, "paper_settle", f"{campaign['code']}/{copy_label(serial)}",
                           after={"questions": [difference.key for difference in differing]})


# ---- answering a copy online --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OnlineCopy:
    copy: dict
    campaign: dict
    questionnaire: dict
    unit: dict


ONLINE_REFUSALS = {
    "online": ("Phiếu này đã được trả lời trực tuyến. Mỗi phiếu chỉ trả lời một lần. Cảm ơn ông/bà!",
               "This copy has already been answered online. Each copy is answered once. Thank you!"),
    "keying": ("Phiếu giấy này đã được nộp lại và đang được nhập liệu, nên không trả lời trực tuyến được nữa. "
               "Cảm ơn ông/bà!", "This paper copy has been handed in and is being keyed: it cannot be answered "
                                 "online. Thank you!"),
}
ONLINE_REFUSALS["keyed"] = ONLINE_REFUSALS["keying"]


async def online_copy(secret_key: str, token: str) -> OnlineCopy:
    """The copy behind a QR link, still unanswered; PaperRefused (404, 410) otherwise."""
    found = read_token(secret_key, token)
    copy = None if found is None else await PaperCopy.select().where(
        (PaperCopy.campaign == found[0]) & (PaperCopy.serial == found[1])).first()
    if copy is None:
        raise PaperRefused("Mã QR trên phiếu không hợp lệ. Vui lòng quét lại mã in trên phiếu.",
                           "This QR code is not valid. Please scan the code printed on your copy again.", 404)
    if copy["status"] in ONLINE_REFUSALS:
        raise PaperRefused(*ONLINE_REFUSALS[copy["status"]], status=410)
    campaign = await Campaign.select().where(Campaign.id == copy["campaign"]).first()
    questionnaire = await Questionnaire.select().where(Questionnaire.id == campaign["questionnaire"]).first()
    unit = await Unit.select().where(Unit.id == copy["unit"]).first()
    return OnlineCopy(copy, campaign, questionnaire, unit)


async def store_online(secret_key: str, found: OnlineCopy, answers: dict) -> str:
    """Store the online answers of a copy once: "stored", "dossier" (already rated) or the copy's new status
    ("online", "keying") when it was answered meanwhile."""
    definition = definition_of(found.questionnaire)
    hashed = dict(answers)
    for item in definition.items:
        if item.type == "dossier_code" and hashed.get(item.key):
            hashed[item.key] = dossier_hash(secret_key, str(hashed[item.key]))
            if await Response.exists().where((Response.campaign == found.campaign["id"])
                                             & (Response.dossier_hash == hashed[item.key])):
                return "dossier"
    async with write_transaction(PaperCopy._meta.db):
        moved = await PaperCopy.update({PaperCopy.status: "online"}).where(
            (PaperCopy.id == found.copy["id"]) & (PaperCopy.status == "printed")).returning(PaperCopy.id)
        if not moved:
            current = await PaperCopy.select(PaperCopy.status).where(PaperCopy.id == found.copy["id"]).first()
            return current["status"]
        response_id = await _insert_response(found.campaign, found.questionnaire, found.copy, definition, hashed,
                                             ONLINE_CHANNEL)
        await PaperCopy.update({PaperCopy.response: response_id}).where(PaperCopy.id == found.copy["id"])
    return "stored"
