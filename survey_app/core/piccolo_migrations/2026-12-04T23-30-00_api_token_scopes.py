"""API tokens get scopes, an expiry and a revocation time (issue #17).

Plain SQL that SQLite and PostgreSQL both run. Tokens issued before had no scope and acted with every right of
their user, so they are revoked here: an administrator issues scoped ones after the upgrade (docs/deploy.md).
"""

from survey_app.core.db import sql_migration

ID = "2026-12-04T23-30-00_api_token_scopes"
VERSION = "1.38.0"
DESCRIPTION = "API token scopes, expiry and revocation"

STATEMENTS = [
    """ALTER TABLE "api_token" ADD COLUMN "scopes" VARCHAR(255) NOT NULL DEFAULT ''""",
    'ALTER TABLE "api_token" ADD COLUMN "expires_at" TIMESTAMPTZ DEFAULT NULL',
    'ALTER TABLE "api_token" ADD COLUMN "revoked_at" TIMESTAMPTZ DEFAULT NULL',
    """UPDATE "api_token" SET "active" = false, "revoked_at" = current_timestamp WHERE "active" = true""",
    'CREATE INDEX "api_token_user" ON "api_token" ("user")',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
