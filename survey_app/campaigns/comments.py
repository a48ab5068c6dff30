"""Free-text comments ("Vì sao ông/bà chưa hài lòng?", "Ý kiến khác…", officials' proposals): per unit, searchable,
exportable. Officials' comments follow the figures' privacy rule: a unit with fewer than SUPPRESS_BELOW answers
shows none, and no comment carries its time or response number (either could point at the person)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata

from survey_app.results.dashboard import excluded_ids
from survey_app.campaigns.catalog import definition_of
from survey_app.core.tables import Questionnaire, Response
from survey_app.core.wording import search_key

PAGE_SIZE = 50


def text_items(definition) -> dict[str, str]:
    """Item key → Vietnamese label of every free-text question of the questionnaire."""
    return {item.key: item.label.get("vi", item.key) for item in definition.items if item.type == "text"}


async def _responses(campaign: dict, unit_ids: list[int] | None) -> list[dict]:
    query = Response.select(Response.id, Response.answers, Response.submitted_at, Response.unit.code.as_alias("unit_code"),
                            Response.unit.name.as_alias("unit_name"), Response.questionnaire).where(
        Response.campaign == campaign["id"])
    if unit_ids is not None:
        query = query.where(Response.unit.is_in(unit_ids or [-1]))
    return await query.order_by(Response.id)


async def _labels_by_questionnaire(rows: list[dict]) -> dict[int, dict[str, str]]:
    ids = sorted({row["questionnaire"] for row in rows})
    stored = await Questionnaire.select(Questionnaire.id, Questionnaire.definition).where(
        Questionnaire.id.is_in(ids or [-1]))
    return {row["id"]: text_items(definition_of(row)) for row in stored}


def _answers(row: dict) -> dict:
    return json.loads(row["answers"]) if isinstance(row["answers"], str) else (row["answers"] or {})


def _suppressed_units(rows: list[dict], minimum: int) -> set[str]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["unit_code"]] = counts.get(row["unit_code"], 0) + 1
    return {code for code, count in counts.items() if count < minimum}


async def campaign_comments(campaign: dict, minimum: int, unit_ids: list[int] | None = None) -> dict:
    """Every comment of the campaign (within `unit_ids` when given), excluded responses left out like in the
    published figures; for officials' campaigns the units with too few answers are named, their comments not."""
    rows = await _responses(campaign, unit_ids)
    excluded = set(await excluded_ids(campaign["id"]))
    rows = [row for row in rows if row["id"] not in excluded]
    officials = campaign["mode"] == "invitation"
    hidden_units = _suppressed_units(rows, minimum) if officials else set()
    labels = await _labels_by_questionnaire(rows)
    comments = []
    for row in rows:
        if row["unit_code"] in hidden_units:
            continue
        for key, label in labels.get(row["questionnaire"], {}).items():
            text = unicodedata.normalize("NFC", str(_answers(row).get(key) or "")).strip()
            if text:
                comments.append({"unit_code": row["unit_code"], "unit_name": row["unit_name"], "question": label,
                                 "text": text, "response_id": None if officials else row["id"],
                                 "submitted_at": None if officials else row["submitted_at"]})
    if officials:  # in no stored order: the order of answers could tell who wrote what
        comments.sort(key=lambda comment: (comment["unit_code"], comment["question"], comment["text"]))
    return {"comments": comments, "hidden_units": sorted(hidden_units), "officials": officials}


def matching(comments: list[dict], search: str, unit_code: str = "") -> list[dict]:
    wanted = search_key(search.strip())
    return [comment for comment in comments
            if (not unit_code or comment["unit_code"] == unit_code)
            and (not wanted or wanted in search_key(comment["text"]))]


def page_of(comments: list[dict], page: int) -> dict:
    pages = max(1, -(-len(comments) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return {"shown": comments[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], "page": page, "pages": pages,
            "total": len(comments)}


def comments_csv(comments: list[dict]) -> bytes:
    """UTF-8 with a byte-order mark, so Excel opens the Vietnamese letters correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Mã đơn vị", "Đơn vị", "Câu hỏi", "Ý kiến"])
    for comment in comments:
        writer.writerow([comment["unit_code"], comment["unit_name"], comment["question"],
                         _spreadsheet_safe(comment["text"])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _spreadsheet_safe(text: str) -> str:
    """A comment starting with = + - @ would run as a formula in Excel: kept as text with a leading apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
