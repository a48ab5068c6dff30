"""Helpers for the analyst workspace tests: signed-in clients, reading figures off a page, a past campaign."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import httpx

from survey_app.core.tables import AuditLog, Campaign, Response
from tests.app.helpers import sign_in


async def signed_in_client(app, username: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    assert (await sign_in(client, username)).status_code == 303
    return client


def shown_percent(value: float) -> str:
    """How a page writes an index: one decimal, decimal comma, then ' %'."""
    return f"{value:.1f}".replace(".", ",") + " %"


def shown_interval(low: float, high: float) -> str:
    return f"{low:.1f}".replace(".", ",") + " – " + f"{high:.1f}".replace(".", ",")


def shown_counts(html: str) -> set[int]:
    """The numbers of responses beside every figure of the page's campaign (after its confidence interval); the
    trend table, which shows other campaigns, is left aside."""
    this_campaign = re.sub(r'<table[^>]*id="(?:trend-table|manager-trend)".*?</table>', "", html, flags=re.S)
    return {int(n) for n in re.findall(r'<td class="num">[^<]*–[^<]*</td><td class="num">(\d+)</td>', this_campaign)}


def table_row(html: str, attribute: str, value: str) -> str:
    found = re.search(rf'<tr[^>]*{attribute}="{re.escape(value)}"[^>]*>(.*?)</tr>', html, re.S)
    assert found, f"no row with {attribute}={value!r}"
    return found.group(1)


async def last_audit(action: str) -> dict:
    """The newest audit entry of this action, before/after parsed (SQLite hands JSON back as text)."""
    entry = await AuditLog.select().where(AuditLog.action == action).order_by(AuditLog.id, ascending=False).first()
    for key in ("before", "after"):
        if isinstance(entry[key], str):
            entry[key] = json.loads(entry[key])
    return entry


async def copy_campaign(source_code: str, code: str, starts_on: dt.date, per_unit: dict[str, int]) -> int:
    """A campaign of the same questionnaire holding copies of some of the source's responses (per unit code)."""
    source = await Campaign.select().where(Campaign.code == source_code).first()
    campaign = Campaign(code=code, name=f"Đợt {code}", questionnaire=source["questionnaire"], status="closed",
                        starts_on=starts_on, ends_on=starts_on.replace(month=12, day=31))
    await campaign.save()
    copies = []
    for unit_code, count in per_unit.items():
        rows = await Response.select().where((Response.campaign == source["id"]) & (Response.unit.code == unit_code)) \
            .order_by(Response.id).limit(count)
        assert len(rows) == count, f"{unit_code} has only {len(rows)} responses in {source_code}"
        copies += [Response(campaign=campaign.id, unit=row["unit"], counter=row["counter"], domain=row["domain"],
                            questionnaire=row["questionnaire"], idempotency_key=uuid.uuid4().hex,
                            answers_digest=row["answers_digest"], channel="test",
                            answers=row["answers"] if isinstance(row["answers"], str) else json.dumps(row["answers"]))
                   for row in rows]
    if copies:
        await Response.insert(*copies)
    return campaign.id


async def delete_campaign(campaign_id: int) -> None:
    from survey_app.core.campaign_tables import CampaignTarget, CampaignUnit, QualityReview

    from survey_app.core.figure_tables import FigureCell, FigureState, QualityFlag, QualityFlagState

    for table in (QualityReview, CampaignTarget, CampaignUnit, Response, FigureCell, FigureState, QualityFlag,
                  QualityFlagState):
        await table.delete().where(table.campaign == campaign_id)
    await Campaign.delete().where(Campaign.id == campaign_id)


async def scored_officials_campaign(prefix: str) -> tuple[dict, list[str], int]:
    """A new open officials' (invitation) campaign: its row, the keys of its scored items, the demo province's id."""
    from survey_app.campaigns.catalog import definition_of
    from survey_app.core.tables import Questionnaire, Unit
    from tests.app.test_sample_cli import make_campaign

    code = await make_campaign(f"{prefix}-{uuid.uuid4().hex[:6]}")
    campaign = await Campaign.select().where(Campaign.code == code).first()
    questionnaire = await Questionnaire.select().where(Questionnaire.id == campaign["questionnaire"]).first()
    scoring = definition_of(questionnaire).scoring_dict()
    items = [item for factor in scoring["factors"] for criterion in factor["criteria"] for item in criterion["items"]]
    province = await Unit.select(Unit.id).where(Unit.code == "DEMO").first()
    return campaign, items, province["id"]


async def answer_and_close(campaign: dict, answers_by_unit: dict[int, list[dict]]) -> None:
    """Store each unit's answers as invitation responses, then close the campaign (published once closed)."""
    await Response.insert(*[Response(campaign=campaign["id"], unit=unit_id, questionnaire=campaign["questionnaire"],
                                     idempotency_key=uuid.uuid4().hex, answers_digest="d", channel="invitation",
                                     answers=json.dumps(answers))
                            for unit_id, unit_answers in answers_by_unit.items() for answers in unit_answers])
    await Campaign.update({Campaign.status: "closed"}).where(Campaign.id == campaign["id"])


async def officials_parent_and_child(parent_answers: int, child_answers: int) -> dict:
    """A closed officials' (invitation) campaign answered in two new communes under the demo province, the child
    below the parent (communes: no sampling quota counts them). Ratings alternate 4 and 2, so every index is 50 %."""
    from survey_app.core.tables import Unit

    campaign, items, province = await scored_officials_campaign("SUB")
    code = campaign["code"]
    parent = Unit(code=f"P-{code}", name=f"Xã cha {code}", level="xa", parent=province)
    await parent.save()
    child = Unit(code=f"C-{code}", name=f"Thôn con {code}", level="xa", parent=parent.id)
    await child.save()
    alternating = [{item: 4 if number % 2 else 2 for item in items}
                   for number in range(max(parent_answers, child_answers))]
    await answer_and_close(campaign, {parent.id: alternating[:parent_answers], child.id: alternating[:child_answers]})
    return {"campaign": code, "parent": parent.code, "child": child.code}


class LateResponse:
    """PostgreSQL: a copy of response `source` inserted on a connection of its own and committed only when asked,
    so that a response with a higher id can commit (and be read) first."""

    def __init__(self, database_url: str, source: int):
        self.database_url, self.source = database_url, source

    async def __aenter__(self) -> "LateResponse":
        import asyncpg

        self.connection = await asyncpg.connect(self.database_url)
        self.transaction = self.connection.transaction()
        await self.transaction.start()
        columns = [row["column_name"] for row in await self.connection.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'response' "
            "AND column_name NOT IN ('id', 'idempotency_key')")]
        names = ", ".join(f'"{name}"' for name in columns)
        self.id = await self.connection.fetchval(
            f"INSERT INTO response ({names}, idempotency_key) SELECT {names}, $2 FROM response WHERE id = $1 "
            "RETURNING id", self.source, uuid.uuid4().hex)
        return self

    async def commit(self) -> None:
        await self.transaction.commit()

    async def __aexit__(self, *_) -> None:
        await self.connection.close()
