"""The one-time rating link of a dossier: the citizen rates that very dossier without typing its code.

The link reads `/d/<link id>.<signature>`: the link id is random and stored with the dossier, the signature is
an HMAC with the server's key, so neither a guess nor the stored row alone opens a rating page. The rating goes to
the open counter-rating campaign (a questionnaire that asks for a dossier code) covering the dossier's unit, with
the unit, domain and procedure of the dossier; a second rating is refused by a conditional update in the same
transaction as the insert (and by the campaign's unique dossier hash, shared with the counter form's typed code).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from enum import Enum

from litestar.exceptions import NotFoundException

from survey_app.campaigns.catalog import definition_of
from survey_app.core import db
from survey_app.core.campaign_tables import CampaignUnit
from survey_app.core.dossier_tables import Dossier
from survey_app.core.tables import Campaign, Response
from survey_app.core.vietnam_time import today_in_vietnam
from survey_app.dossiers.services import UNIQUE_VIOLATIONS
from survey_app.public.services import STORED_JSON, answers_digest, columns_as, split_joined
from survey_app.webhooks import outbox

SIGNATURE_BYTES = 12
LINK_NOT_FOUND = "Không tìm thấy hồ sơ của đường dẫn này. Vui lòng quét lại mã QR in trên phiếu trả kết quả."
HIDDEN_TYPES = ("domain", "dossier_code")  # they come from the dossier itself


class RatingOutcome(Enum):
    STORED = "stored"
    REPLAYED = "replayed"  # the same submission again (a retry after a lost answer)
    ALREADY_RATED = "already_rated"


def _signature(secret_key: str, link_id: str) -> str:
    digest = hmac.new(secret_key.encode(), f"dossier-link:{link_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).decode().rstrip("=")


def link_token(secret_key: str, link_id: str) -> str:
    return f"{link_id}.{_signature(secret_key, link_id)}"


def rating_url(base_url: str, secret_key: str, link_id: str) -> str:
    return f"{base_url.rstrip('/')}/d/{link_token(secret_key, link_id)}"


def link_id_of(secret_key: str, token: str) -> str:
    """The link id of a well-signed token; NotFoundException (a Vietnamese page) otherwise."""
    link_id, _, signature = token.rpartition(".")
    if not link_id or not hmac.compare_digest(_signature(secret_key, link_id).encode(), signature.encode()):
        raise NotFoundException(LINK_NOT_FOUND)
    return link_id


@dataclass(frozen=True)
class RatingContext:
    """A dossier (with its unit, domain and procedure names) and the campaign its rating goes to (or None)."""

    dossier: dict
    campaign: dict | None
    questionnaire: dict | None
    token: str

    @property
    def path(self) -> str:
        return f"/d/{self.token}"

    @property
    def definition(self):
        return definition_of(self.questionnaire)

    @property
    def visible_sections(self) -> list:
        """The form's sections without the domain and dossier-code questions (the dossier answers them)."""
        sections = []
        for section in self.definition.sections:
            items = [item for item in section.items if item.type not in HIDDEN_TYPES]
            if items:
                sections.append((section, items))
        return sections

    @property
    def rated(self) -> bool:
        return self.dossier["rated_at"] is not None


DOSSIER_SQL = (
    'SELECT d.id, d.code_hash, d.unit, d.domain, d."procedure", d.received_on, d.returned_on, d.rated_at, '
    "d.response, u.name AS unit_name, u.name_en AS unit_name_en, m.code AS domain_code, m.name AS domain_name, "
    "m.name_en AS domain_name_en, p.name AS procedure_name FROM dossier d JOIN unit u ON u.id = d.unit "
    'JOIN domain m ON m.id = d.domain JOIN "procedure" p ON p.id = d."procedure" WHERE d.link_id = {} AND d.held_by IS NULL')
CAMPAIGNS_SQL = (f"SELECT {columns_as(Campaign, 'c')}, q.id AS \"questionnaire.id\", "
                 "q.definition AS \"questionnaire.definition\" FROM campaign c "
                 "JOIN questionnaire q ON q.id = c.questionnaire WHERE c.mode = 'open_qr' AND c.status = 'open' "
                 "AND c.starts_on <= {} AND c.ends_on >= {} ORDER BY c.starts_on DESC, c.id DESC")


async def load_rating(secret_key: str, token: str) -> RatingContext:
    rows = await Dossier.raw(DOSSIER_SQL, link_id_of(secret_key, token))
    if not rows:
        raise NotFoundException(LINK_NOT_FOUND)
    dossier = rows[0]
    campaign, questionnaire = await campaign_for(dossier["unit"], today_in_vietnam())
    return RatingContext(dossier=dossier, campaign=campaign, questionnaire=questionnaire, token=token)


async def campaign_for(unit_id: int, today: dt.date) -> tuple[dict | None, dict | None]:
    """The newest open counter-rating campaign (its form asks for a dossier code) that covers this unit."""
    for row in await Campaign.raw(CAMPAIGNS_SQL, today, today):
        campaign, questionnaire = split_joined(row, "questionnaire")
        if not any(item.type == "dossier_code" for item in definition_of(questionnaire).items):
            continue
        units = {unit["unit"] for unit in await CampaignUnit.select(CampaignUnit.unit).where(
            CampaignUnit.campaign == campaign["id"])}
        if not units or unit_id in units:
            return campaign, questionnaire
    return None, None


def answers_with_dossier(context: RatingContext, values: dict) -> dict:
    """The posted values plus what the dossier answers: its domain; the dossier code stays out (its hash is kept)."""
    filled = dict(values)
    for item in context.definition.items:
        if item.type == "domain":
            filled[item.key] = context.dossier["domain_code"]
        elif item.type == "dossier_code":
            filled[item.key] = ""
    return filled


async def store_rating(context: RatingContext, answers: dict, idempotency_key: str) -> RatingOutcome:
    """Claim the dossier and store its rating in one transaction; a dossier already claimed stores nothing."""
    dossier = context.dossier
    digest = answers_digest({**answers, "_dossier_hash": dossier["code_hash"]})
    try:
        async with db.write_transaction():
            claimed = await Dossier.update({Dossier.rated_at: dt.datetime.now(dt.timezone.utc)}).where(
                (Dossier.id == dossier["id"]) & Dossier.rated_at.is_null()).returning(Dossier.id)
            if not claimed:
                return await _earlier_outcome(dossier["id"], idempotency_key, digest)
            stored = await Response.insert(Response(
                campaign=context.campaign["id"], unit=dossier["unit"], domain=dossier["domain"],
                questionnaire=context.questionnaire["id"], idempotency_key=idempotency_key, answers_digest=digest,
                answers=STORED_JSON.encode(answers).decode(), channel="link", dossier_hash=dossier["code_hash"],
                submitted_at=dt.datetime.now(dt.timezone.utc))).returning(Response.id)
            await Dossier.update({Dossier.response: stored[0]["id"]}).where(Dossier.id == dossier["id"])
            hooked = await outbox.record_response_event(stored[0]["id"], context.campaign["id"])  # same transaction
    except UNIQUE_VIOLATIONS:  # its code was typed at the counter in this campaign, or the key was used
        return RatingOutcome.ALREADY_RATED
    if hooked:
        outbox.nudge()
    return RatingOutcome.STORED


async def _earlier_outcome(dossier_id: int, idempotency_key: str, digest: str) -> RatingOutcome:
    """A retry of the very submission that rated this dossier is acknowledged; anything else is refused."""
    earlier = await Response.raw(
        "SELECT r.answers_digest, r.idempotency_key FROM response r JOIN dossier d ON d.response = r.id "
        "WHERE d.id = {}", dossier_id)
    if earlier and earlier[0]["idempotency_key"] == idempotency_key and earlier[0]["answers_digest"] == digest:
        return RatingOutcome.REPLAYED
    return RatingOutcome.ALREADY_RATED


def fresh_key() -> str:
    return uuid.uuid4().hex
