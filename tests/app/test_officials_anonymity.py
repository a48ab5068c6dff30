"""Issue #25: an analyst with the whole database finds no member ↔ response link.

Unit SO07 has 3 heads of division and 4 civil servants drawn; 1 head and 4 civil servants answer, in an order
that is not the draw's. The attack tries every join between a response and the member side (member, invitation):
each pair of columns with equal values, all of them at once, every order of the member side against the
responses' order (PostgreSQL's row versions included), the answers against the member's role; and it reads the
SQLite files for a deleted draft. (A response's stratum, unit × role, named the one head; its weight was the
head's role weight; 38 deleted drafts were readable in survey.db-wal.)
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest

from questionnaires import load_shipped
from survey_app.core import db, engines
from survey_app.campaigns.demo import valid_answers
from survey_app.officials import services
from survey_app.core.tables import Campaign
from tests.app.helpers import draw_officials

CAMPAIGN = "PAR-ANONYMITY"
UNIT = "SO07"
DRAFT_MARKER = "GHI-CHU-NHAP-7f3a9c"  # typed into a draft, not sent: must be nowhere once the answers are sent


def answers_of(number: int, role: str) -> dict:
    definition = load_shipped()["par_index_so"]
    raw = {item.key: str(1 + (number + position) % 5) for position, item in enumerate(definition.items)
           if item.type == "rating5"}
    raw.update(role=role, gender="nam", years_of_service="5_10")
    answers = valid_answers(definition, raw)
    assert answers is not None
    return answers


@pytest.fixture(scope="module")
async def answered(app, settings, tmp_path_factory) -> list[int]:
    """The member ids of those who answered, in the order they sent their answers (the test knows; no table)."""
    stored = await draw_officials(settings, tmp_path_factory.mktemp("frame"), CAMPAIGN, "Khảo sát ẩn danh",
                                  (UNIT,), 5, ["lanh_dao_phong=3", "cong_chuc=4"], seed=25,
                                  starts_on=dt.date.today() - dt.timedelta(days=3))
    slips = sorted(stored.slips.to_dict("records"), key=lambda slip: slip["code"])
    heads = [slip for slip in slips if slip["role"] == "lanh_dao_phong"]
    civil_servants = [slip for slip in slips if slip["role"] == "cong_chuc"]
    member_ids = []
    for number, slip in enumerate([civil_servants[2], heads[0], civil_servants[0], civil_servants[3], civil_servants[1]]):
        invitation = await services.invitation_for_code(settings.secret_key, slip["code"])
        context = await services.load_context(invitation["id"])
        await services.start(context)
        await services.save_draft(context, {"comment": f"{DRAFT_MARKER}-{number}"})
        context = await services.load_context(invitation["id"])
        assert await services.submit(context, answers_of(number, slip["role"]))
        member_ids.append(invitation["member"])
    return member_ids


async def member_side(campaign_id: int) -> list[dict]:
    rows = await Campaign.raw(
        'SELECT m."id" AS member_id, m."unit", m."stratum", m."role", m."design_weight", m."status", '
        'i."id" AS invitation_id, i."used_at" FROM "sample_member" m JOIN "sample_draw" d ON m."draw" = d."id" '
        'LEFT JOIN "invitation" i ON i."member" = m."id" WHERE d."campaign" = {}', campaign_id)
    return rows


async def response_side(campaign_id: int) -> list[dict]:
    rows = await Campaign.raw('SELECT "id" AS response_id, "unit", "stratum", "weight", "submitted_at", "answers" '
                              'FROM "response" WHERE "campaign" = {} ORDER BY "id"', campaign_id)
    for row in rows:
        answers = row.pop("answers")
        row["answered_role"] = (answers if isinstance(answers, dict) else json.loads(answers)).get("role")
    return rows


async def row_versions(table: str, key: str, campaign_id: int) -> dict:
    """PostgreSQL: the transaction id that wrote each row's current version (xmin)."""
    if table == "response":
        sql = 'SELECT "id", xmin::text AS version FROM "response" WHERE "campaign" = {}'
    else:
        sql = (f'SELECT t."{key}" AS "id", t.xmin::text AS version FROM "{table}" t JOIN "sample_member" m ON '
               f'm."id" = t."{"member" if table == "invitation" else "id"}" JOIN "sample_draw" d ON d."id" = m."draw" '
               'WHERE d."campaign" = {}')
    return {row["id"]: row["version"] for row in await Campaign.raw(sql, campaign_id)}


def comparable(left, right) -> bool:
    numbers = (int, float)
    return (isinstance(left, numbers) and isinstance(right, numbers)) or type(left) is type(right)


def linked(responses: list[dict], completed: list[dict], pairs: list[tuple[str, str]]) -> list[tuple]:
    """The responses that these column pairs, all together, tie to exactly one completed member."""
    found = []
    for response in responses:
        matches = [member for member in completed
                   if all(response[left] == member[right] for left, right in pairs
                          if response[left] is not None and member[right] is not None
                          and comparable(response[left], member[right]))]
        if len(matches) == 1:
            found.append((pairs, response["response_id"], matches[0]["member_id"]))
    return found


async def test_no_join_of_the_database_links_a_member_to_a_response(answered, settings):
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == CAMPAIGN).first()
    members, responses = await member_side(campaign["id"]), await response_side(campaign["id"])
    if not settings.is_sqlite:
        versions = {"response": await row_versions("response", "id", campaign["id"]),
                    "member": await row_versions("sample_member", "id", campaign["id"]),
                    "invitation": await row_versions("invitation", "member", campaign["id"])}
        for response in responses:
            response["version"] = versions["response"][response["response_id"]]
        for member in members:
            member["version"] = versions["member"][member["member_id"]]
            member["invitation_version"] = versions["invitation"].get(member["member_id"])
    completed = [member for member in members if member["status"] == "completed"]
    assert len(responses) == len(completed) == 5
    assert sum(member["role"] == "lanh_dao_phong" for member in completed) == 1  # the one head who answered

    member_columns = [column for column in completed[0] if column != "status"]
    response_columns = list(responses[0])
    pairs = [(left, right) for left in response_columns for right in member_columns
             if any(response[left] == member[right] and response[left] is not None and comparable(response[left], member[right])
                    for response in responses for member in completed)]
    links = [link for pair in pairs for link in linked(responses, completed, [pair])]
    links += linked(responses, completed, pairs)
    assert links == [], f"joins that name a respondent: {links}"

    # Orders: no column of the member side puts the completed members in the order the responses were stored.
    for column in member_columns:
        values = [member[column] for member in completed]
        if None in values or len(set(map(str, values))) < len(values):
            continue  # ties (or gaps) give no order
        for descending in (False, True):
            ordered = [member["member_id"] for member in sorted(completed, key=lambda member: member[column],
                                                                reverse=descending)]
            assert ordered != answered, f"{column} orders the members as the responses were stored"


async def test_deleted_drafts_are_not_readable_in_the_sqlite_files(answered, settings):
    assert not await Campaign.raw("""SELECT 1 FROM "draft_answers" WHERE CAST("answers" AS TEXT) LIKE {}""",
                                  f"%{DRAFT_MARKER}%")
    if not settings.is_sqlite:
        return  # PostgreSQL shows a deleted row version to no query (it stays on disk until vacuum)
    path = engines.sqlite_path(settings.database_url)
    files = [str(file) for file in (path, path.with_name(path.name + "-wal")) if file.exists()]
    # Read by another process: closing a file of the database in this one would drop SQLite's POSIX locks on it
    content = subprocess.run(["cat", *files], capture_output=True, check=True).stdout
    assert DRAFT_MARKER.encode() not in content


async def test_the_one_head_of_division_is_not_in_any_stored_answer(answered):
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == CAMPAIGN).first()
    assert all(response["answered_role"] is None and response["stratum"] is None
               for response in await response_side(campaign["id"]))
    weights = {response["weight"] for response in await response_side(campaign["id"])}
    assert len(weights) == 1  # the unit's weight, not the roles'


async def test_the_migration_unlinks_officials_responses_stored_before(app, tmp_path):
    """Responses stored with a stratum, role weights, a role answer and a week lose them; the unit's mean weight
    (what publication used) stays."""
    import importlib
    import uuid

    from survey_app.app import create_app
    from survey_app.campaigns.demo import load_demo
    from survey_app.core.settings import Settings
    from survey_app.core.tables import Response, Unit

    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}", "SECRET_KEY": "k"})
    application = create_app(settings)
    try:
        async with application.lifespan():
            await db.migrate()
            await load_demo(per_unit=0)
            campaign = await Campaign.select().first()
            unit = await Unit.select(Unit.id).where(Unit.code == UNIT).first()
            week = dt.datetime(2026, 11, 16, tzinfo=dt.timezone.utc)
            await Response.insert(*[Response(
                campaign=campaign["id"], unit=unit["id"], questionnaire=campaign["questionnaire"],
                idempotency_key=uuid.uuid4().hex, answers_digest="d", channel="invitation", submitted_at=week,
                answers=json.dumps({"role": role, "reform_plan": 4}), weight=weight, stratum=f"unit={UNIT}, role={role}")
                for role, weight in (("lanh_dao_phong", 2.0), ("cong_chuc", 4.0), ("cong_chuc", 6.0))])
            migration = importlib.import_module("survey_app.core.piccolo_migrations.2026-12-04T23-10-00_officials_unlinked")
            await (await migration.forwards()).run()
            rows = await Response.select().where(Response.channel == "invitation")
    finally:
        db.bind(app.state.engine)  # give the shared tables back to the suite's engine
    first_day = dt.datetime.combine(campaign["starts_on"], dt.time(), dt.timezone.utc)
    assert [(row["stratum"], row["weight"], row["submitted_at"]) for row in rows] == [(None, 4.0, first_day)] * 3
    assert all(json.loads(row["answers"]) == {"reform_plan": 4} for row in rows)
