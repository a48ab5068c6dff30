"""Retention: after RETENTION_DAYS, raw answers that could point to a person are dropped.

For responses of closed campaigns submitted before the limit, free-text answers and the dossier hash go; ratings
and choices stay, so indices still compute. Officials' unfinished drafts older than the limit are deleted. The
run is one write transaction with one audit entry that records counts and ids, never the dropped text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass

from survey_app.accounts import audit
from survey_app.core import db
from survey_app.campaigns.catalog import definition_of
from survey_app.core.sampling_tables import DraftAnswers
from survey_app.core.dossier_tables import Dossier
from survey_app.core.tables import Campaign, Questionnaire, Response

FREE_TEXT_TYPES = ("text",)  # item types whose answers are typed by the respondent


@dataclass
class RetentionReport:
    cutoff: str  # dd/mm/yyyy
    responses_anonymised: int = 0
    text_answers_dropped: int = 0
    dossier_hashes_dropped: int = 0
    drafts_deleted: int = 0
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would be" if self.dry_run else "were"
        return [f"cutoff {self.cutoff}: responses of closed campaigns submitted before it, drafts untouched since",
                f"{self.responses_anonymised} responses {verb} anonymised ({self.text_answers_dropped} free-text "
                f"answers, {self.dossier_hashes_dropped} dossier hashes)",
                f"{self.drafts_deleted} officials' drafts {verb} deleted"]


def cutoff_for(days: int, now: dt.datetime | None = None) -> dt.datetime:
    return (now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=days)


def as_dict(value) -> dict:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


async def kept_keys_by_questionnaire() -> dict[int, set[str]]:
    """Per questionnaire version, the answer keys retention keeps: every item that is not free text."""
    kept = {}
    for row in await Questionnaire.select(Questionnaire.id, Questionnaire.definition):
        kept[row["id"]] = {item.key for item in definition_of(row).items if item.type not in FREE_TEXT_TYPES}
    return kept


async def expired_responses(cutoff: dt.datetime) -> list[dict]:
    closed = [row["id"] for row in await Campaign.select(Campaign.id).where(Campaign.status == "closed")]
    if not closed:
        return []
    return await Response.select(Response.id, Response.questionnaire, Response.answers, Response.dossier_hash).where(
        Response.campaign.is_in(closed) & (Response.submitted_at < cutoff)).order_by(Response.id)


def anonymised(row: dict, kept_keys: set[str]) -> tuple[dict, int] | None:
    """The answers without free text and the number dropped; None when nothing needs to change."""
    answers = as_dict(row["answers"])
    kept = {key: value for key, value in answers.items() if key in kept_keys}
    if len(kept) == len(answers) and row["dossier_hash"] is None:
        return None
    return kept, len(answers) - len(kept)


async def apply_retention(days: int, actor: str = "cli", dry_run: bool = False,
                          now: dt.datetime | None = None) -> RetentionReport:
    cutoff = cutoff_for(days, now)
    report = RetentionReport(cutoff=cutoff.strftime("%d/%m/%Y"), dry_run=dry_run)
    async with db.write_transaction():
        kept_keys = await kept_keys_by_questionnaire()
        changed_ids = []
        for row in await expired_responses(cutoff):
            outcome = anonymised(row, kept_keys.get(row["questionnaire"], set()))
            if outcome is None:
                continue
            kept, dropped = outcome
            changed_ids.append(row["id"])
            report.responses_anonymised += 1
            report.text_answers_dropped += dropped
            report.dossier_hashes_dropped += row["dossier_hash"] is not None
            if not dry_run:
                await store_anonymised(row["id"], kept)
        old_drafts = DraftAnswers.updated_at < cutoff
        report.drafts_deleted = await DraftAnswers.count().where(old_drafts)
        if not dry_run and (changed_ids or report.drafts_deleted):
            await DraftAnswers.delete().where(old_drafts)
            await record_run(actor, days, report, changed_ids)
    if not dry_run:
        await db.erase_deleted()  # the dropped texts and drafts must not stay readable in SQLite's WAL
    return report


async def store_anonymised(response_id: int, kept: dict) -> None:
    # The digest of the full answers hashed the free text too (and a short text can be guessed from its hash).
    digest = hashlib.sha256(json.dumps(kept, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    await Response.update({Response.answers: json.dumps(kept, ensure_ascii=False), Response.dossier_hash: None,
                           Response.answers_digest: digest}).where(Response.id == response_id)
    # A rating made through a dossier's link: the dossier row (its keyed code hash, procedure and dates) no longer
    # points at the answers; its rated_at stays, so the link still refuses a second rating.
    await Dossier.update({Dossier.response: None}).where(Dossier.response == response_id)


async def record_run(actor: str, days: int, report: RetentionReport, changed_ids: list[int]) -> None:
    counts = {key: value for key, value in asdict(report).items() if key not in ("cutoff", "dry_run")}
    await audit.record(actor, "retention_applied", f"retention:{days}d",
                       before={"responses_with_free_text_or_dossier_hash": report.responses_anonymised,
                               "old_drafts": report.drafts_deleted},
                       after={**counts, "cutoff": report.cutoff},
                       detail="response ids: " + compact_ids(changed_ids))


def compact_ids(ids: list[int]) -> str:
    """1,2,3,7 → '1-3,7': the log names every response touched without growing without bound."""
    ranges: list[list[int]] = []
    for number in ids:
        if ranges and number == ranges[-1][1] + 1:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    return ",".join(str(start) if start == end else f"{start}-{end}" for start, end in ranges)
