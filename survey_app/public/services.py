"""Finding the form behind a QR URL and storing one submission exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import logging
import unicodedata
from dataclasses import dataclass
from enum import Enum

import msgspec
from cachetools import TTLCache
from litestar.exceptions import HTTPException, NotFoundException

from survey_app.campaigns.catalog import definition_of
from survey_app.core.db import insert_once
from survey_app.core.logs import printable
from survey_app.core.tables import Campaign, Counter, Domain, Questionnaire, Response, Unit
from survey_app.core.tokens import CounterToken, TokenError, accepted_key_ids, verify
from survey_app.core.vietnam_time import today_in_vietnam
from survey_app.webhooks import outbox

logger = logging.getLogger("survey_app")

@dataclass(frozen=True)
class FormContext:
    """Everything a counter's form needs: campaign, counter, unit, questionnaire row and its definition."""

    campaign: dict
    counter: dict
    unit: dict
    questionnaire: dict
    token: str
    domain_ids: dict[str, int]  # procedure domain code → row id, so storing an answer needs no lookup

    @property
    def path(self) -> str:
        return f"/q/{self.token}"

    @property
    def definition(self):
        return definition_of(self.questionnaire)

    def is_closed(self, today: dt.date) -> bool:
        return self.campaign["status"] != "open" or not (
            self.campaign["starts_on"] <= today <= self.campaign["ends_on"]
        )


class StoreOutcome(Enum):
    STORED = "stored"
    REPLAYED = "replayed"  # the same submission arrived again (a retry): acknowledged, stored once
    CONFLICT = "conflict"  # the same idempotency key with other answers: refused, the first answers kept
    DOSSIER_ALREADY_RATED = "dossier_already_rated"


TOKEN_REFUSALS = {
    "malformed": (403, "Mã QR không hợp lệ. Vui lòng quét lại mã QR dán tại quầy."),
    "forged": (403, "Mã QR không hợp lệ hoặc đã bị sửa đổi. Vui lòng quét lại mã QR dán tại quầy."),
    "revoked": (403, "Mã QR này đã bị thu hồi. Vui lòng quét mã QR mới dán tại quầy."),
    "expired": (410, "Mã QR này đã hết hạn. Vui lòng quét mã QR mới dán tại quầy."),
}


class TokenRefused(HTTPException):
    """A forged, tampered, expired or revoked QR token: a Vietnamese page, nothing stored."""


def verify_token(settings, token: str) -> CounterToken:
    try:
        return verify(settings.signing_keys, token, today_in_vietnam())
    except TokenError as error:
        logger.warning("QR token refused (%s): %s", error.reason, printable(token, 80))
        status, message = TOKEN_REFUSALS[error.reason]
        raise TokenRefused(status_code=status, detail=message) from error


def form_cache(settings) -> TTLCache | None:
    """Forms by token for FORM_CACHE_SECONDS: a submission then needs no read at all (on SQLite each Piccolo read
    opens a connection and a thread). A closed campaign or counter is seen within that many seconds."""
    return TTLCache(maxsize=4096, ttl=settings.form_cache_seconds) if settings.form_cache_seconds > 0 else None


async def load_form_context(settings, token: str, cache: TTLCache | None = None) -> FormContext:
    """The form behind a QR token; the token (signature, expiry, revocation) is checked on every request."""
    counter_token = verify_token(settings, token)
    form = await cached_counter_form(counter_token, token, cache)
    # checked on every request against the counter row, which may be up to FORM_CACHE_SECONDS old after a rotation
    if counter_token.key_id not in accepted_key_ids(settings.signing_keys, form.counter["signing_key_id"]):
        logger.warning("QR token refused (rotated): %s", printable(token, 80))
        status, message = TOKEN_REFUSALS["revoked"]
        raise TokenRefused(status_code=status, detail=message)
    return form


async def cached_counter_form(counter_token: CounterToken, token: str, cache: TTLCache | None) -> FormContext:
    if cache is None:
        return await load_counter_form(counter_token.campaign_code, counter_token.counter_code, token)
    loading = cache.get(token)
    if loading is None:  # one lookup per token, however many requests arrive while it runs
        loading = cache[token] = asyncio.ensure_future(
            load_counter_form(counter_token.campaign_code, counter_token.counter_code, token))
    try:
        return await asyncio.shield(loading)  # a client that goes away must not cancel the others' lookup
    except Exception:
        cache.pop(token, None)  # an unknown counter or an unreachable database is not remembered
        raise


def columns_as(table, alias: str, prefix: str = "") -> str:
    return ", ".join(f'{alias}."{column._meta.db_column_name}" AS "{prefix}{column._meta.db_column_name}"'
                     for column in table._meta.columns)


# A row with the row its foreign key points to, whose columns are named "questionnaire.id", … (split_joined).
# Plain SQL: Piccolo spends ~1 ms building a joined select, as much as a read on SQLite.
CAMPAIGN_SQL = (f"SELECT {columns_as(Campaign, 'c')}, {columns_as(Questionnaire, 'q', 'questionnaire.')} "
                "FROM campaign c JOIN questionnaire q ON q.id = c.questionnaire "
                "WHERE c.code = {} AND c.mode = 'open_qr'")  # officials answer with an invitation code only
COUNTER_SQL = (f"SELECT {columns_as(Counter, 'c')}, {columns_as(Unit, 'u', 'unit.')} "
               "FROM counter c JOIN unit u ON u.id = c.unit WHERE c.code = {} AND c.active")


async def load_counter_form(campaign_code: str, counter_code: str, token: str) -> FormContext:
    """Three reads side by side, not five in a row: on SQLite each read opens a connection in a new thread, and
    every post to this counter waits for the lookup."""
    campaigns, counters, domains = await asyncio.gather(
        Campaign.raw(CAMPAIGN_SQL, campaign_code), Counter.raw(COUNTER_SQL, counter_code),
        Domain.select(Domain.code, Domain.id))
    if not campaigns or not counters:
        raise NotFoundException("Không tìm thấy quầy hoặc đợt khảo sát này. Vui lòng kiểm tra lại mã QR.")
    campaign, questionnaire = split_joined(campaigns[0], "questionnaire")
    counter, unit = split_joined(counters[0], "unit")
    return FormContext(campaign=campaign, counter=counter, unit=unit, questionnaire=questionnaire, token=token,
                       domain_ids={row["code"]: row["id"] for row in domains})


def split_joined(row: dict, foreign_key: str) -> tuple[dict, dict]:
    """A row read with its foreign key's row ("unit.name", …) → (the row's own columns, the other row's)."""
    prefix = foreign_key + "."
    own = {name: value for name, value in row.items() if not name.startswith(prefix)}
    return own, {name.removeprefix(prefix): value for name, value in row.items() if name.startswith(prefix)}


async def domain_choices() -> list[dict]:
    return await Domain.select(Domain.code, Domain.name, Domain.name_en).order_by(Domain.name)


def dossier_hash(secret_key: str, code: str) -> str:
    """Keyed hash of a dossier code: recognises a second rating without storing the code."""
    normalised = unicodedata.normalize("NFC", code).strip().upper().replace(" ", "")
    return hmac.new(secret_key.encode(), normalised.encode(), hashlib.sha256).hexdigest()


# Built once: json.dumps with any option builds an encoder per call, as long as the encoding itself. The digest's
# text must stay byte for byte what it was (a retry is recognised by it, across upgrades).
DIGEST_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)
STORED_JSON = msgspec.json.Encoder()  # the stored answers: compact JSON, many times faster than json.dumps


def answers_digest(answers: dict) -> str:
    return hashlib.sha256(DIGEST_JSON.encode(answers).encode()).hexdigest()


def split_special_answers(form: FormContext, answers: dict, secret_key: str) -> tuple[dict, str | None, str | None]:
    """Take the dossier code out of the answers (only its hash is kept) and find the domain answer."""
    kept, dossier, domain_code = dict(answers), None, None
    for item in form.definition.items:
        if item.type == "dossier_code" and kept.get(item.key):
            dossier = dossier_hash(secret_key, str(kept.pop(item.key)))
        elif item.type == "domain" and kept.get(item.key):
            domain_code = str(kept[item.key])
    return kept, dossier, domain_code


async def store_response(form: FormContext, answers: dict, idempotency_key: str, secret_key: str) -> StoreOutcome:
    """Store a submission once; a retry with the same key and answers is acknowledged without a second row.

    ON CONFLICT DO NOTHING turns a duplicate key or dossier into "no row returned" instead of an error, so a
    SQLite batch of many answers is never spoilt by one retry; the earlier answers' digest is read in the same
    trip to tell a retry from a conflict.
    """
    kept, dossier, domain_code = split_special_answers(form, answers, secret_key)
    # Over what is stored (the dossier code only as its keyed hash): a plain hash of the raw code could be
    # reversed by trying every code, which would undo the keyed hash.
    digest = answers_digest({**kept, "_dossier_hash": dossier})
    row = {
        "campaign": form.campaign["id"], "unit": form.unit["id"], "counter": form.counter["id"],
        "domain": form.domain_ids.get(domain_code), "questionnaire": form.questionnaire["id"],
        "idempotency_key": idempotency_key, "answers_digest": digest, "answers": STORED_JSON.encode(kept).decode(),
        "dossier_hash": dossier, "submitted_at": dt.datetime.now(dt.timezone.utc),
    }
    stored, earlier_digest = await insert_once(Response, row, key="idempotency_key", wanted="answers_digest",
                                               follow_up=outbox.RESPONSE_FOLLOW_UP)  # webhooks: same transaction
    if stored:
        outbox.nudge()
        return StoreOutcome.STORED
    if earlier_digest is None:  # no row with this key: the dossier's unique constraint refused it
        return StoreOutcome.DOSSIER_ALREADY_RATED
    return StoreOutcome.REPLAYED if earlier_digest == digest else StoreOutcome.CONFLICT
