"""The official's path: a typed code opens an invitation; drafts are saved per page; one final submission.

The browser holds only an HMAC-signed cookie naming the invitation (HttpOnly, SameSite=Lax). The draft is
keyed by the invitation, so the same code continues on another device. The final answers are stored in
`response` with the unit and the stratum label only — no member, invitation or code — and only the week of the
submission (its Monday) on both sides, so stored timestamps cannot pair an answer with a person.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass

import sampling
from survey_app.campaigns.catalog import definition_of
from survey_app.core.db import erase_deleted, write_transaction
from survey_app.officials.draws import code_key
from survey_app.public.services import answers_digest
from survey_app.core.sampling_tables import DraftAnswers, Invitation, SampleMember
from survey_app.core.tables import Campaign, Questionnaire, Response, Unit
from survey_app.core.vietnam_time import today_in_vietnam

COOKIE_NAME = "official_session"
COOKIE_MAX_AGE = 12 * 3600
ANSWERABLE = ("invited", "started")


class CodeRefused(Exception):
    """A typed code that opens nothing; carries a Vietnamese and an English message and an HTTP status."""

    def __init__(self, status: int, message_vi: str, message_en: str):
        super().__init__(message_en)
        self.status, self.message_vi, self.message_en = status, message_vi, message_en


NOT_FOUND = CodeRefused(403, "Mã không đúng. Vui lòng kiểm tra lại mã in trên phiếu mời.",
                        "This code is not valid. Please check the code printed on your invitation slip.")
USED = CodeRefused(410, "Mã này đã được dùng để gửi phiếu. Mỗi mã chỉ dùng được một lần.",
                   "This code has already been used to submit answers. Each code works only once.")
WITHDRAWN = CodeRefused(410, "Mã này không còn hiệu lực. Vui lòng liên hệ đơn vị tổ chức khảo sát.",
                        "This code is no longer valid. Please contact the survey team.")
CLOSED = CodeRefused(410, "Đợt khảo sát chưa mở hoặc đã kết thúc.", "The survey is not open.")


# ---- the signed cookie ------------------------------------------------------------------------------------

def _cookie_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"official-session:" + secret_key.encode()).digest()


def sign_session(secret_key: str, invitation_id: int, now: float | None = None) -> str:
    payload = f"{invitation_id}.{int((time.time() if now is None else now) + COOKIE_MAX_AGE)}"
    signature = hmac.new(_cookie_key(secret_key), payload.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{payload}.{signature}"


def read_session(secret_key: str, value: str | None, now: float | None = None) -> int | None:
    """The invitation id of a valid, unexpired cookie; None otherwise."""
    parts = (value or "").split(".")
    # ASCII digits only: "²".isdigit() holds but int("²") fails; compare_digest refuses non-ASCII text (a 500)
    if len(parts) != 3 or not all(part.isascii() for part in parts) or not (parts[0] + parts[1]).isdigit():
        return None
    expected = hmac.new(_cookie_key(secret_key), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected[:32], parts[2]) or int(parts[1]) < (time.time() if now is None else now):
        return None
    return int(parts[0])


# ---- opening an invitation ----------------------------------------------------------------------------------

@dataclass
class OfficialContext:
    invitation: dict
    member: dict
    campaign: dict
    questionnaire: dict
    unit: dict
    draft: dict  # answers as typed, by item key

    @property
    def definition(self):
        return definition_of(self.questionnaire)


def campaign_is_open(campaign: dict, today: dt.date) -> bool:
    return campaign["status"] == "open" and campaign["starts_on"] <= today <= campaign["ends_on"]


async def invitation_for_code(secret_key: str, text: str) -> dict:
    """The invitation behind a typed code, or CodeRefused saying why (typo, unknown, used, withdrawn)."""
    try:
        code = sampling.check_code(text)
    except sampling.SamplingError as error:
        problem = error.problems[0]
        raise CodeRefused(422, problem.message_vi, problem.message_en) from error
    invitation = await Invitation.select().where(
        Invitation.code_hash == sampling.hash_code(code_key(secret_key), code)).first()
    if invitation is None:
        raise NOT_FOUND
    return invitation


async def load_context(invitation_id: int) -> OfficialContext:
    """Everything a page needs; CodeRefused when the invitation is spent, withdrawn or its campaign closed."""
    invitation = await Invitation.select().where(Invitation.id == invitation_id).first()
    if invitation is None:
        raise NOT_FOUND
    if invitation["used_at"] is not None:
        raise USED
    member = await SampleMember.select(
        SampleMember.id, SampleMember.unit, SampleMember.stratum, SampleMember.status, SampleMember.design_weight,
        SampleMember.draw.campaign.as_alias("campaign"),
    ).where(SampleMember.id == invitation["member"]).first()
    if member["status"] not in ANSWERABLE:
        raise USED if member["status"] == "completed" else WITHDRAWN
    campaign = await Campaign.select().where(Campaign.id == member["campaign"]).first()
    if not campaign_is_open(campaign, today_in_vietnam()):
        raise CLOSED
    questionnaire = await Questionnaire.select().where(Questionnaire.id == campaign["questionnaire"]).first()
    unit = await Unit.select().where(Unit.id == member["unit"]).first()
    draft = await DraftAnswers.select(DraftAnswers.answers).where(DraftAnswers.invitation == invitation_id).first()
    return OfficialContext(invitation, member, campaign, questionnaire, unit, _json(draft["answers"]) if draft else {})


def _json(value) -> dict:
    return value if isinstance(value, dict) else json.loads(value or "{}")


async def start(context: OfficialContext) -> None:
    """First opening: the member becomes 'started' and gets an empty draft (kept across devices)."""
    async with write_transaction(DraftAnswers._meta.db):
        if context.member["status"] == "invited":
            await SampleMember.update({SampleMember.status: "started"}).where(
                (SampleMember.id == context.member["id"]) & (SampleMember.status == "invited"))
        if not await DraftAnswers.exists().where(DraftAnswers.invitation == context.invitation["id"]):
            await DraftAnswers.insert(DraftAnswers(invitation=context.invitation["id"], answers="{}"))


def first_open_section(context: OfficialContext) -> int:
    """Where to continue: the first section with a missing or invalid answer (0 for a new draft)."""
    if not context.draft:
        return 0
    _, errors = context.definition.validate_answers(context.draft)
    for index, section in enumerate(context.definition.sections):
        if any(item.key in errors for item in section.items):
            return index
    return len(context.definition.sections) - 1


# ---- saving pages and the final submission ------------------------------------------------------------------

async def save_draft(context: OfficialContext, page_values: dict) -> dict:
    """Merge one page's typed values into the draft and store it; returns the merged draft."""
    merged = {**context.draft, **page_values}
    async with write_transaction(DraftAnswers._meta.db):
        await DraftAnswers.update({
            DraftAnswers.answers: json.dumps(merged, ensure_ascii=False),
            DraftAnswers.updated_at: dt.datetime.now(dt.timezone.utc),
        }).where(DraftAnswers.invitation == context.invitation["id"])
    context.draft = merged
    return merged


def submission_week(now: dt.datetime | None = None) -> dt.datetime:
    """Monday 00:00 UTC of the ISO week (in Vietnam's calendar) of a submission: the only time recorded for it,
    on the invitation and on the response.

    A day was too fine: the day an invitation is spent, read against the draw's member list, and the day a
    response is stored could single people out in a unit where few answer each day. A week pools them."""
    local_day = today_in_vietnam(now)
    monday = local_day - dt.timedelta(days=local_day.weekday())
    return dt.datetime(monday.year, monday.month, monday.day, tzinfo=dt.timezone.utc)


async def submit(context: OfficialContext, answers: dict) -> bool:
    """Store the answers once: spend the invitation, add an unlinked response, complete the member, drop the
    draft — all in one write transaction. False when the invitation was spent meanwhile (nothing stored)."""
    week = submission_week()
    async with write_transaction(Response._meta.db):
        spent = await Invitation.update({Invitation.used_at: week}).where(
            (Invitation.id == context.invitation["id"]) & Invitation.used_at.is_null()
        ).returning(Invitation.id)
        if not spent:
            return False
        await Response.insert(Response(
            campaign=context.campaign["id"], unit=context.unit["id"], questionnaire=context.questionnaire["id"],
            idempotency_key=uuid.uuid4().hex, answers_digest=answers_digest(answers),
            answers=json.dumps(answers, ensure_ascii=False), channel="invitation", submitted_at=week,
            weight=context.member["design_weight"] or 1.0, stratum=context.member["stratum"],
        ))
        await SampleMember.update({SampleMember.status: "completed"}).where(SampleMember.id == context.member["id"])
        await DraftAnswers.delete().where(DraftAnswers.invitation == context.invitation["id"])
    await erase_deleted(Response._meta.db)  # the draft must not stay readable in SQLite's WAL
    return True
