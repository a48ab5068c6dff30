"""Sign-in and audit: lockout time and a session epoch on users, API tokens (hashes only), the audit log.

Plain SQL that SQLite and PostgreSQL both run. `session_epoch` grows on every password change so that the change
signs out every other session of that user.
"""

from survey_app.core.db import sql_migration

ID = "2026-11-23T14-00-00_auth"
VERSION = "1.38.0"
DESCRIPTION = "lockout, API tokens and the audit log"

RESTRICT = "ON DELETE RESTRICT ON UPDATE CASCADE"

STATEMENTS = [
    'ALTER TABLE "app_user" ADD COLUMN "locked_until" TIMESTAMPTZ DEFAULT NULL',
    'ALTER TABLE "app_user" ADD COLUMN "session_epoch" INTEGER NOT NULL DEFAULT 0',
    f"""CREATE TABLE "api_token" ("id" {{pk}},
        "user" INTEGER NOT NULL REFERENCES "app_user" ("id") {RESTRICT},
        "name" VARCHAR(255) NOT NULL DEFAULT '', "token_hash" VARCHAR(64) UNIQUE NOT NULL,
        "active" BOOLEAN NOT NULL DEFAULT true,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
    """CREATE TABLE "audit_log" ("id" {pk},
        "at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "username" VARCHAR(64) NOT NULL DEFAULT '', "action" VARCHAR(64) NOT NULL,
        "target" VARCHAR(255) NOT NULL DEFAULT '', "before" JSON DEFAULT NULL, "after" JSON DEFAULT NULL,
        "detail" TEXT NOT NULL DEFAULT '')""",
    'CREATE INDEX "audit_log_at" ON "audit_log" ("at")',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
