"""Accounts are never locked (wrong passwords are counted and rate-limited): the `locked_until` column nothing set
is dropped (SQLite 3.35+ and PostgreSQL both have DROP COLUMN)."""

from survey_app.core.db import sql_migration

ID = "2026-12-06T01-41-00_drop_user_locked_until"
VERSION = "1.38.0"
DESCRIPTION = "drop the unused user.locked_until"

STATEMENTS = ['ALTER TABLE "app_user" DROP COLUMN "locked_until"']


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
