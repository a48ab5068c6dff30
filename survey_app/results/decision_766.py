"""The Decision 766 feed: per unit and period, the satisfaction group scored by the rule in its definition file
(analysis/definitions/decision_766.yaml), with the counts behind every figure and the rule in words.

Ratings count from every campaign whose questionnaire scores the definition's key (the counter form and the
dossier links alike), on the days asked in Vietnam's calendar, without the responses an analyst excluded.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from functools import lru_cache

from analysis import decision_766
from survey_app.campaigns.catalog import definition_of
from survey_app.campaigns.services import parse_date
from survey_app.core.db import fetch_tuples
from survey_app.core.tables import Campaign, Questionnaire, Unit
from survey_app.core.vietnam_time import VIETNAM_TIME, today_in_vietnam


class PeriodRefused(Exception):
    """A period that cannot be read; `message` says which parameter, in Vietnamese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Period:
    starts_on: dt.date
    ends_on: dt.date

    @classmethod
    def from_query(cls, starts: str | None, ends: str | None) -> "Period":
        """dd/mm/yyyy or yyyy-mm-dd; the default is this year in Vietnam up to today."""
        today = today_in_vietnam()
        starts_on = parse_date(starts) if starts else today.replace(month=1, day=1)
        ends_on = parse_date(ends) if ends else today
        if starts_on is None:
            raise PeriodRefused(f"Tham số from “{str(starts)[:20]}” không phải ngày (dd/mm/yyyy hoặc yyyy-mm-dd).")
        if ends_on is None:
            raise PeriodRefused(f"Tham số to “{str(ends)[:20]}” không phải ngày (dd/mm/yyyy hoặc yyyy-mm-dd).")
        if ends_on < starts_on:
            raise PeriodRefused("Ngày kết thúc (to) trước ngày bắt đầu (from).")
        return cls(starts_on, ends_on)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        start = dt.datetime.combine(self.starts_on, dt.time(), tzinfo=VIETNAM_TIME)
        return start, dt.datetime.combine(self.ends_on + dt.timedelta(days=1), dt.time(), tzinfo=VIETNAM_TIME)


@lru_cache(maxsize=1)
def definition() -> decision_766.Decision766:
    return decision_766.load_definition()


async def scored_campaign_ids(scoring_key: str) -> list[int]:
    questionnaires = await Questionnaire.select(Questionnaire.id, Questionnaire.definition)
    wanted = [row["id"] for row in questionnaires
              if (scoring := definition_of(row).scoring) is not None and scoring.key == scoring_key]
    if not wanted:
        return []
    return [row["id"] for row in await Campaign.select(Campaign.id).where(Campaign.questionnaire.is_in(wanted))]


async def answers_by_unit(campaign_ids: list[int], period: Period) -> dict[int, list]:
    """The stored answers (JSON text) per unit; plain SQL: a year of a province's ratings is a few hundred
    thousand rows, which Piccolo would turn into dicts on the event loop."""
    if not campaign_ids:
        return {}
    start, end = period.bounds()
    marks = ", ".join(f"${number}" for number in range(3, len(campaign_ids) + 3))
    rows = await fetch_tuples(
        'SELECT r."unit", r."answers" FROM "response" r WHERE r."submitted_at" >= $1 AND r."submitted_at" < $2 '
        f'AND r."campaign" IN ({marks}) AND NOT EXISTS (SELECT 1 FROM "quality_review" q WHERE q."response" = r."id" '
        "AND q.\"decision\" = 'exclude')", start, end, *campaign_ids)
    grouped: dict[int, list] = {}
    for unit, answers in rows:
        grouped.setdefault(unit, []).append(answers)
    return grouped


async def feed(period: Period, unit_code: str | None = None, visible_unit_ids: frozenset[int] | None = None) -> dict:
    """Every unit with ratings in the period (or the one asked for), scored; units a manager cannot see left out."""
    rule = definition()
    grouped = await answers_by_unit(await scored_campaign_ids(rule.questionnaire_scoring_key), period)
    query = Unit.select(Unit.id, Unit.code, Unit.name, Unit.level).order_by(Unit.code)
    if unit_code:
        query = query.where(Unit.code == unit_code)
    units = [unit for unit in await query if visible_unit_ids is None or unit["id"] in visible_unit_ids]
    if not unit_code:
        units = [unit for unit in units if unit["id"] in grouped]
    scored = await asyncio.to_thread(_score_units, rule, units, grouped)
    return {"decision": "766/QĐ-TTg", "group": rule.key, "title": rule.title, "rule": rule.rule,
            "period": {"from": period.starts_on.isoformat(), "to": period.ends_on.isoformat()}, "units": scored}


def _score_units(rule: decision_766.Decision766, units: list[dict], grouped: dict[int, list[dict]]) -> list[dict]:
    results = []
    for unit in units:
        answers = [json.loads(text) if isinstance(text, str) else text for text in grouped.get(unit["id"], [])]
        counts = decision_766.count_ratings(rule, answers)
        results.append({"unit": unit["code"], "unit_name": unit["name"], "level": unit["level"],
                        "responses": len(answers), **decision_766.score(rule, counts)})
    return results


CSV_HEADER = ["unit", "unit_name", "level", "from", "to", "responses", "component", "component_name",
              "valid_ratings", "satisfied_ratings", "satisfied_percent", "points", "max_points", "rule"]


def feed_csv(result: dict) -> bytes:
    """One line per unit and component, then one per unit for the group (component "total"); UTF-8 with BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    period, rule = result["period"], result["rule"]["vi"]
    for unit in result["units"]:
        head = [unit["unit"], unit["unit_name"], unit["level"], period["from"], period["to"], unit["responses"]]
        for component in unit["components"]:
            writer.writerow(head + [component["key"], component["label"]["vi"], component["valid_ratings"],
                                    component["satisfied_ratings"], _blank(component["satisfied_percent"]),
                                    _blank(component["points"]), component["max_points"], rule])
        writer.writerow(head + ["total", result["title"]["vi"], "", "", "", _blank(unit["points"]),
                                unit["max_points"], rule])
    return buffer.getvalue().encode("utf-8-sig")


def _blank(value) -> object:
    return "" if value is None else value
