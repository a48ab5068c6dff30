"""The official's path: a typed code opens an invitation; drafts are saved per page; one final submission.

The browser holds only an HMAC-signed cookie naming the invitation (HttpOnly, SameSite=Lax). The draft is
keyed by the invitation, so the same code continues on another device. The final answers are stored in
`response` with what publication needs and nothing a join could use (docs/privacy.md): the unit, the unit's
weight (not the role's), the campaign's first day as the only time on both sides; no member, invitation, code,
stratum or submission time. The draft is deleted so that it is not readable afterwards (db.erase_deleted).
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
from survey_app.public.repeats import errors_of
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
        SampleMember.id, SampleMember.unit, SampleMember.draw, SampleMember.status, SampleMember.design_weight,
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
        if errors_of(section, errors):
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


def recorded_time(campaign: dict) -> dt.datetime:
    """The only time stored for an official's submission, on the invitation and on the response: the campaign's
    first day, 00:00 UTC.

    Any real time pairs the two: a week was still too fine, as a unit × week group of the responses joined to the
    invitations spent that week can hold one person."""
    first_day = campaign["starts_on"]
    return dt.datetime(first_day.year, first_day.month, first_day.day, tzinfo=dt.timezone.utc)


async def unit_weight(member: dict) -> float:
    """The mean design weight of the members drawn in the official's unit (reserves not called up left out).

    The member's own weight is its role's (the sampling stratum): stored with the answers, it would tell a
    unit's roles apart and single out the one respondent of a role."""
    rows = await SampleMember.select(SampleMember.design_weight).where(
        (SampleMember.draw == member["draw"]) & (SampleMember.unit == member["unit"])
        & (SampleMember.status != "reserve") & SampleMember.design_weight.is_not_null())
    weights = [row["design_weight"] for row in rows]
    return sum(weights) / len(weights) if weights else 1.0


# Answers that repeat what the sample holds about the member: the role is the member's stratum, so a stored
# role answer would single out a unit's one respondent of a role. Publication does not use it.
KNOWN_FROM_THE_SAMPLE = ("role",)


def stored_answers(answers: dict) -> dict:
    return {key: value for key, value in answers.items() if key not in KNOWN_FROM_THE_SAMPLE}


# PostgreSQL stamps every row version with the transaction that wrote it (xmin). Rewriting all of the unit's
# members and invitations in the transaction that stores a response leaves no version of this member's rows that
# shares its transaction, or its order, with the response alone.
TOUCH_UNIT_MEMBERS = 'UPDATE "sample_member" SET "status" = "status" WHERE "draw" = {} AND "unit" = {}'
TOUCH_UNIT_INVITATIONS = ('UPDATE "invitation" SET "used_at" = "used_at" WHERE "member" IN '
                          '(SELECT "id" FROM "sample_member" WHERE "draw" = {} AND "unit" = {})')


async def submit(context: OfficialContext, answers: dict) -> bool:
    """Store the answers once: spend the invitation, add an unlinked response, complete the member, drop the
    draft — all in one write transaction; then clear the deleted draft from the log. False when the invitation
    was spent meanwhile (nothing stored)."""
    recorded, answers = recorded_time(context.campaign), stored_answers(answers)
    weight = await unit_weight(context.member)
    async with write_transaction(Response._meta.db):
        spent = await Invitation.update({Invitation.used_at: recorded}).where(
            (Invitation.id == context.invitation["id"]) & Invitation.used_at.is_null()
        ).returning(Invitation.id)
        if not spent:
            return False
        await Response.insert(Response(
            campaign=context.campaign["id"], unit=context.unit["id"], questionnaire=context.questionnaire["id"],
            idempotency_key=uuid.uuid4().hex, answers_digest=answers_digest(answers),
            answers=json.dumps(answers, ensure_ascii=False), channel="invitation", submitted_at=recorded,
            weight=weight, stratum=None,
        ))
        await SampleMember.update({SampleMember.status: "completed"}).where(SampleMember.id == context.member["id"])
        await DraftAnswers.delete().where(DraftAnswers.invitation == context.invitation["id"])
        for statement in (TOUCH_UNIT_MEMBERS, TOUCH_UNIT_INVITATIONS):
            await SampleMember.raw(statement, context.member["draw"], context.member["unit"])
    await erase_deleted(Response._meta.db)  # the draft must not stay readable in SQLite's WAL
    return True
