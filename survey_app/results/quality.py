"""The response-quality queue: analysis/quality.py's flags on a campaign, and the analyst's keep/exclude decisions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from analysis.quality import quality_flags
from survey_app.accounts import audit
from survey_app.campaigns.services import CampaignRefused
from survey_app.core.campaign_tables import DECISIONS, QualityReview
from survey_app.core.confirmations import Confirmation, with_reason
from survey_app.core.db import write_transaction
from survey_app.core.tables import Response

FLAG_NAMES = {"straight_lining": ("Trả lời một mức cho mọi câu", "straight-lining"),
              "speeding": ("Trả lời quá nhanh", "speeding"),
              "burst": ("Loạt phiếu giống nhau từ một quầy", "burst from one counter"),
              "outlier": ("Khác thường so với các phiếu khác", "outlier")}
_cache: dict = {}


async def _timing(campaign_id: int) -> pd.DataFrame:
    rows = await Response.select(Response.id, Response.started_at, Response.submitted_at,
                                 Response.counter.code.as_alias("counter_code")).where(Response.campaign == campaign_id)
    return pd.DataFrame(rows, columns=["id", "started_at", "submitted_at", "counter_code"]).set_index("id")


def flags_of(frame: pd.DataFrame, item_keys: list[str], timing: pd.DataFrame) -> pd.DataFrame:
    """quality_flags on the campaign's ratings; durations only when every response has a start time."""
    timing = timing.reindex(frame["response_id"].to_numpy())
    answers = frame[item_keys].set_axis(frame["response_id"].to_numpy())
    started = pd.to_datetime(timing["started_at"], utc=True)
    submitted = pd.to_datetime(timing["submitted_at"], utc=True)
    durations = (submitted - started).dt.total_seconds() if started.notna().all() else None
    counters = timing["counter_code"].fillna("(none)")
    flags = quality_flags(answers, durations=durations, counters=counters, submitted_at=submitted)
    return flags.assign(unit=frame["unit"].to_numpy(), counter=counters.to_numpy(), submitted_at=submitted.to_numpy(),
                        unit_answers=frame["unit"].map(frame["unit"].value_counts()).to_numpy())


async def flagged_responses(campaign: dict) -> pd.DataFrame:
    """Flagged responses of the campaign (index: response id), computed once per state of its responses."""
    from survey_app.results.dashboard import data_state
    from survey_app.results.frames import campaign_frame

    state = await data_state(campaign["id"], without_excluded=False)
    if state not in _cache:
        _, scoring, frame = await campaign_frame(campaign["code"])
        item_keys = [c for c in frame.columns if c not in ("response_id", "unit", "level", "domain", "weight")]
        flags = flags_of(frame, item_keys, await _timing(campaign["id"]))
        _cache.clear()  # one campaign at a time is plenty for a review queue
        _cache[state] = flags[flags["any"]]
    return _cache[state]


def flag_labels(row: pd.Series) -> list[str]:
    return [FLAG_NAMES[name][0] for name in FLAG_NAMES if name in row and bool(row[name])]


async def decisions(campaign_id: int) -> dict[int, dict]:
    rows = await QualityReview.select().where(QualityReview.campaign == campaign_id)
    return {row["response"]: row for row in rows}


async def queue(campaign: dict, minimum: int) -> list[dict]:
    """Flagged responses with their flags and the decision so far; undecided first. Officials' answers of a unit
    with fewer than `minimum` (in no figure, blanked in exports) are not listed either."""
    flags = await flagged_responses(campaign)
    if campaign["mode"] == "invitation":
        flags = flags[flags["unit_answers"] >= minimum]
    decided = await decisions(campaign["id"])
    rows = [{"response_id": int(response_id), "unit": row["unit"], "counter": row["counter"],
             "submitted_at": row["submitted_at"], "flags": flag_labels(row),
             "outlier_score": None if pd.isna(row.get("outlier_score", np.nan)) else float(row["outlier_score"]),
             "review": decided.get(int(response_id))} for response_id, row in flags.iterrows()]
    return sorted(rows, key=lambda row: (row["review"] is not None, row["response_id"]))


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
    response_id = int(response_text) if str(response_text).isdigit() else -1
    if not await Response.exists().where((Response.id == response_id) & (Response.campaign == campaign["id"])):
        raise CampaignRefused("Phiếu này không thuộc đợt khảo sát.", "response_id: no such response in this campaign")
    flags = await flagged_responses(campaign)
    names = flag_labels(flags.loc[response_id]) if response_id in flags.index else []
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

    response_id = int(response_text) if str(response_text).isdigit() else -1
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
    flags = await flagged_responses(campaign)
    return {"response": row, "flags": flag_labels(flags.loc[response_id]) if response_id in flags.index else [],
            "review": (await decisions(campaign["id"])).get(response_id),
            "answers": [{"question": item.label.get("vi", item.key), "answer": shown_answer(item, answers.get(item.key))}
                        for item in definition_of(stored).items if item.key in answers]}
