"""Upgrades: a database made by the first release's migration, with answers in it, migrated to head keeps every row
and the app reads it (on the suite's engine: SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import json
import sqlite3

import asyncpg
from piccolo.apps.migrations.commands.forwards import run_forwards

from survey_app.core import db, engines
from survey_app.results.services import unit_index
from survey_app.core.settings import Settings
from survey_app.core.tables import ApiToken, Response, User
from tests.app.helpers import counter_definition, filled_form
from tests.app.servers import reset_postgres_database

FIRST_RELEASE = "2026-11-23T11-20-00_initial"  # the schema the first release shipped
TOKENS_ARRIVED = "2026-11-23T14-00-00_auth"  # unscoped API tokens, revoked by a later migration
ANSWERS = 12


def first_release_rows(definition) -> list[str]:
    """A province, a counter, a questionnaire, an open campaign, a staff account and ANSWERS answers, as the
    first release's schema held them (plain SQL, no code of today's release)."""
    answers = [definition.validate_answers(filled_form(definition, rating=str(1 + n % 5)))[0] for n in range(ANSWERS)]
    quoted = json.dumps(definition.to_dict(), ensure_ascii=False).replace("'", "''")
    statements = [
        """INSERT INTO unit (id, code, name, level) VALUES (1, 'P', 'Tỉnh Thử', 'province'),
           (2, 'S1', 'Sở Tư pháp', 'so')""",
        "INSERT INTO unit (id, code, name, level, parent) VALUES (3, 'X1', 'Xã Một', 'xa', 2)",
        "INSERT INTO counter (id, code, unit, name) VALUES (1, 'S1-Q1', 2, 'Quầy 1')",
        f"""INSERT INTO questionnaire (id, key, version, content_hash, title, definition)
            VALUES (1, '{definition.key}', '{definition.version}', 'h', 'Đánh giá', '{quoted}')""",
        """INSERT INTO campaign (id, code, name, questionnaire, starts_on, ends_on, mode, status)
           VALUES (1, 'C1', 'Đợt một', 1, '2026-01-01', '2026-12-31', 'open_qr', 'open')""",
        "INSERT INTO app_user (id, username, role, password_hash) VALUES (1, 'cu', 'admin', 'x')",
    ]
    for n, answer in enumerate(answers):
        text = json.dumps(answer, ensure_ascii=False).replace("'", "''")
        statements.append(f"""INSERT INTO response (campaign, unit, counter, questionnaire, idempotency_key,
            answers_digest, answers, channel) VALUES (1, {2 if n % 2 else 3}, 1, 1, 'old-{n}', 'd{n}', '{text}', 'qr')""")
    return statements


async def execute(url: str, statements: list[str]) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(engines.sqlite_path(url)) as connection:
            for statement in statements:
                connection.execute(statement)
        return
    connection = await asyncpg.connect(url)
    try:
        for statement in statements:
            await connection.execute(statement)
        await connection.execute("SELECT setval('unit_id_seq', 10)")
    finally:
        await connection.close()


async def migrate_to(url: str, migration_id: str) -> None:
    async def forwards():
        result = await run_forwards(app_name=db.APP_NAME, migration_id=migration_id)
        assert result.success, result.message

    await db.run_connected(Settings.from_env({"DATABASE_URL": url}), forwards, migrate_first=False)


async def test_a_first_release_database_with_answers_migrates_to_head_intact(app, tmp_path, database_url):
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'first-release.db'}"
    else:
        url = f"{database_url}_upgrade"
        await reset_postgres_database(url)
    definition = counter_definition()
    try:
        await migrate_to(url, FIRST_RELEASE)
        await execute(url, first_release_rows(definition))
        await migrate_to(url, TOKENS_ARRIVED)
        await execute(url, ["INSERT INTO api_token (user, name, token_hash) VALUES (1, 'cũ', 'abc')"
                            .replace("(user,", '("user",')])
        applied = await db.run_connected(Settings.from_env({"DATABASE_URL": url}), db.migrate, migrate_first=False)
        assert applied and applied[-1] == db.migration_ids()[-1]

        async def read_back():
            rows = await Response.select(Response.idempotency_key, Response.answers, Response.unit,
                                         Response.stratum, Response.weight).order_by(Response.id)
            index = await unit_index("P", "C1", suppress_below=1)
            token = await ApiToken.select(ApiToken.active, ApiToken.revoked_at, ApiToken.scopes).first()
            user = await User.select(User.username, User.session_epoch, User.failed_logins).first()
            return rows, index, token, user

        rows, index, token, user = await db.run_connected(Settings.from_env({"DATABASE_URL": url}), read_back,
                                                          migrate_first=False)
    finally:
        db.bind(app.state.engine)  # the shared tables back to the suite's engine
    assert [row["idempotency_key"] for row in rows] == [f"old-{n}" for n in range(ANSWERS)]
    expected = [definition.validate_answers(filled_form(definition, rating=str(1 + n % 5)))[0] for n in range(ANSWERS)]
    assert [json.loads(row["answers"]) if isinstance(row["answers"], str) else row["answers"] for row in rows] == [
        json.loads(json.dumps(answer)) for answer in expected]
    assert {row["unit"] for row in rows} == {2, 3} and all(row["stratum"] is None for row in rows)
    assert all(row["weight"] == 1.0 for row in rows)
    assert index["index"] is not None and index["unit"]["name"] == "Tỉnh Thử"
    assert user == {"username": "cu", "session_epoch": 0, "failed_logins": 0}
    assert token["active"] is False and token["revoked_at"] is not None and token["scopes"] == ""
