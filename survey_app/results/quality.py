"""The response-quality queue: the stored flags (quality_store.py) of a campaign, paged, and the analyst's keep/exclude
decisions."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from survey_app.accounts import audit
from survey_app.campaigns.services import CampaignRefused
from survey_app.core.campaign_tables import DECISIONS, QualityReview
from survey_app.core.confirmations import Confirmation, with_reason
from survey_app.core import db
from survey_app.core.db import write_transaction
from survey_app.core.tables import Response
from survey_app.results import quality_store
from survey_app.results.quality_store import RULE_BITS

FLAG_NAMES = {"straight_lining": ("Trả lời một mức cho mọi câu", "straight-lining"),
              "speeding": ("Trả lời quá nhanh", "speeding"),
              "burst": ("Loạt phiếu giống nhau từ một quầy", "burst from one counter"),
              "outlier": ("Khác thường so với các phiếu khác", "outlier")}
PAGE_SIZE = 100

QUEUE_SQL = """FROM quality_flag f JOIN unit u ON u.id = f.unit LEFT JOIN counter c ON c.id = f.counter
    LEFT JOIN quality_review r ON r.response = f.response WHERE f.campaign = $1 AND f.rules > 0{officials}"""
# officials' answers of a unit with fewer than SUPPRESS_BELOW are in no figure and blanked in exports: not listed
OFFICIALS_SQL = (" AND f.unit IN (SELECT unit FROM response WHERE campaign = $1 GROUP BY unit "
                 "HAVING COUNT(*) >= $2)")


def flag_labels(rules: int) -> list[str]:
    return [FLAG_NAMES[name][0] for name in FLAG_NAMES if rules & RULE_BITS[name]]


async def labels_of(response_id: int) -> list[str]:
    """One response's stored flags, in words (none yet: not flagged, or not yet computed)."""
    rows = await db.fetch_tuples("SELECT rules FROM quality_flag WHERE response = $1", response_id)
    return flag_labels(rows[0][0]) if rows else []


async def queue(campaign: dict, minimum: int, settings=None, page_text: str | None = None) -> dict:
    """One page (PAGE_SIZE) of the flagged responses with their flags and the decision so far, undecided first, read
    from the stored flags after starting to flag the new responses (waited for when they are few: quality_store);
    `progress` (flagged, of) while flagging goes on. `rows` None: too few responses for any flag."""
    await quality_store.keep_up(campaign, settings)
    officials = campaign["mode"] == "invitation"
    where = QUEUE_SQL.format(officials=OFFICIALS_SQL if officials else "")
    arguments = (campaign["id"], minimum) if officials else (campaign["id"],)
    [(total, reviewed)] = await db.fetch_tuples(f"SELECT COUNT(*), COUNT(r.id) {where}", *arguments)
    progress = None
    if quality_store.updating(campaign["id"]):
        flagged, percent = await quality_store.progress(campaign["id"])
        progress = {"flagged": flagged, "percent": percent}
    if await quality_store.at_least(campaign["id"], 0, 2) < 2:
        return {"rows": None, "progress": progress}
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(int(page_text), pages) if page_text and page_text.isdecimal() and int(page_text) > 0 else 1
    rows = await db.fetch_tuples(
        "SELECT f.response, u.code, COALESCE(c.code, '(none)'), f.at_us, f.rules, f.outlier_score, r.decision, "
        f"r.reviewed_by, r.reason {where} ORDER BY CASE WHEN r.id IS NULL THEN 0 ELSE 1 END, f.response "
        f"LIMIT {PAGE_SIZE} OFFSET {(page - 1) * PAGE_SIZE}", *arguments)
    return {"rows": [_queue_row(*row) for row in rows], "total": total, "reviewed": reviewed, "page": page,
            "pages": pages, "progress": progress}


def _queue_row(response_id, unit, counter, at_us, rules, score, decision, reviewed_by, reason) -> dict:
    return {"response_id": response_id, "unit": unit, "counter": counter,
            "submitted_at": dt.datetime.fromtimestamp(at_us / 1e6, dt.timezone.utc), "flags": flag_labels(rules),
            "outlier_score": score,
            "review": None if decision is None else {"decision": decision, "reviewed_by": reviewed_by,
                                                     "reason": reason}}


def exclusion_confirmation(campaign: dict, response_id: str) -> Confirmation:
    return Confirmation(
        title=f"Loại phiếu số {response_id[:12]}?",
        consequence="Phiếu không được tính vào chỉ số công bố, báo cáo và kết quả của đơn vị; câu trả lời vẫn được "
                    "lưu và có thể đổi lại thành “Giữ” khi đợt chưa đóng.",
        action=f"/analyst/campaigns/{campaign['code']}/quality", button="Loại phiếu",
        back=f"/analyst/campaigns/{campaign['code']}/quality#r{response_id[:12]}",
        hidden={"response_id": response_id[:12], "decision": "exclude"})


async def decide(campaign: dict, response_text: str, decision: str, username: str, reason: str = "") -> None:
    """Store keep/exclude for one response of this campaign, with the audit entry in the same transaction."""
    if decision not in DECISIONS:
        raise CampaignRefused("Quyết định phải là giữ hoặc loại.", "decision must be keep or exclude")
    if campaign["mode"] == "invitation" and campaign["status"] == "closed":  # its figures are published
        raise CampaignRefused("Đợt khảo sát công chức đã đóng và kết quả đã công bố: không đổi quyết định giữ/loại "
                              "phiếu được nữa (hai kết quả khác nhau một phiếu sẽ để lộ phiếu đó).",
                              "a closed officials' campaign is published: its keep/exclude decisions are final")
    response_id = int(response_text) if str(response_text).isdecimal() else -1
    if not await Response.exists().where((Response.id == response_id) & (Response.campaign == campaign["id"])):
        raise CampaignRefused("Phiếu này không thuộc đợt khảo sát.", "response_id: no such response in this campaign")
    names = await labels_of(response_id)
    existing = await QualityReview.select().where(QualityReview.response == response_id).first()
    async with write_transaction():
        if existing:
            await QualityReview.update({QualityReview.decision: decision, QualityReview.reviewed_by: username,
                                        QualityReview.reason: reason,
                                        QualityReview.reviewed_at: pd.Timestamp.now(tz="UTC").to_pydatetime()}) \
                .where(QualityReview.id == existing["id"])
        else:
            await QualityReview.insert(QualityReview(campaign=campaign["id"], response=response_id, decision=decision,
                                                     flags=json.dumps(names, ensure_ascii=False), reviewed_by=username,
                                                     reason=reason))
        await audit.record(username, "quality_review", f"response {response_id}",
                           before={"decision": existing["decision"]} if existing else None,
                           after={"decision": decision, "campaign": campaign["code"]},
                           detail=with_reason(reason) if reason else "")


def shown_answer(item, value) -> str:
    """An answer as the person saw it: the choice's Vietnamese label, several joined, free text as typed."""
    labels = {choice.value: choice.label.get("vi", choice.value) for choice in item.choices}
    values = value if isinstance(value, list) else [value]
    return "; ".join(str(labels.get(str(one), one)) for one in values if one not in (None, ""))


async def response_detail(campaign: dict, response_text: str, minimum: int) -> dict | None:
    """One response of the campaign, question by question, with its flags and the decision so far; None when it is
    not in the campaign, or is an official's answer of a unit too small to show (SUPPRESS_BELOW)."""
    from survey_app.campaigns.catalog import definition_of
    from survey_app.core.tables import Questionnaire

    response_id = int(response_text) if str(response_text).isdecimal() else -1
    row = await Response.select(Response.id, Response.answers, Response.started_at, Response.submitted_at,
                                Response.channel, Response.unit, Response.unit.code.as_alias("unit_code"),
                                Response.unit.name.as_alias("unit_name"), Response.counter.name.as_alias("counter_name"),
                                Response.domain.name.as_alias("domain_name"), Response.questionnaire).where(
        (Response.id == response_id) & (Response.campaign == campaign["id"])).first()
    if row is None or (campaign["mode"] == "invitation" and await Response.count().where(
            (Response.campaign == campaign["id"]) & (Response.unit == row["unit"])) < minimum):
        return None
    stored = await Questionnaire.select(Questionnaire.definition).where(Questionnaire.id == row["questionnaire"]).first()
    answers = json.loads(row["answers"]) if isinstance(row["answers"], str) else (row["answers"] or {})
    definition = definition_of(stored)
    return {"response": row, "flags": await labels_of(response_id),
            "review": await QualityReview.select().where(QualityReview.response == response_id).first(),
            "answers": [{"question": item.label.get("vi", item.key), "answer": shown_answer(item, answers.get(item.key))}
                        for item in definition.items if item.key in answers] + member_rows(definition, answers)}


def member_rows(definition, answers: dict) -> list[dict]:
    """A repeat's answers, member by member: "Thành viên 2: Tuổi"."""
    return [{"question": f"Thành viên {number}: {item.label.get('vi', item.key)}",
             "answer": shown_answer(item, member.get(item.key))}
            for section in definition.repeats for number, member in enumerate(answers.get(section.key) or [], start=1)
            if isinstance(member, dict) for item in section.items if item.key in member]
