"""Initial schema: unit tree, counters, domains, questionnaires, campaigns, responses, users.

Written by hand as plain SQL that SQLite and PostgreSQL both run; only the primary-key type differs.
References restrict deletes: removing a unit or campaign must never remove answers.
"""

from survey_app.core.db import sql_migration

ID = "2026-11-23T11-20-00_initial"
VERSION = "1.38.0"
DESCRIPTION = "initial schema"

RESTRICT = "ON DELETE RESTRICT ON UPDATE CASCADE"

STATEMENTS = [
    f"""CREATE TABLE "unit" ("id" {{pk}}, "code" VARCHAR(32) UNIQUE NOT NULL, "name" VARCHAR(255) NOT NULL,
        "name_en" VARCHAR(255) NOT NULL DEFAULT '', "level" VARCHAR(16) NOT NULL,
        "parent" INTEGER REFERENCES "unit" ("id") {RESTRICT} DEFAULT NULL)""",
    'CREATE INDEX "unit_parent" ON "unit" ("parent")',
    f"""CREATE TABLE "counter" ("id" {{pk}}, "code" VARCHAR(32) UNIQUE NOT NULL,
        "unit" INTEGER NOT NULL REFERENCES "unit" ("id") {RESTRICT}, "name" VARCHAR(255) NOT NULL,
        "signing_key_id" VARCHAR(32) NOT NULL DEFAULT 'k1', "active" BOOLEAN NOT NULL DEFAULT true)""",
    """CREATE TABLE "domain" ("id" {pk}, "code" VARCHAR(32) UNIQUE NOT NULL, "name" VARCHAR(255) NOT NULL,
        "name_en" VARCHAR(255) NOT NULL DEFAULT '')""",
    """CREATE TABLE "questionnaire" ("id" {pk}, "key" VARCHAR(64) NOT NULL, "version" VARCHAR(32) NOT NULL,
        "content_hash" VARCHAR(64) NOT NULL, "title" VARCHAR(255) NOT NULL DEFAULT '',
        "definition" JSON NOT NULL DEFAULT '{{}}', "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
    'CREATE UNIQUE INDEX "questionnaire_key_version" ON "questionnaire" ("key", "version")',
    f"""CREATE TABLE "campaign" ("id" {{pk}}, "code" VARCHAR(32) UNIQUE NOT NULL, "name" VARCHAR(255) NOT NULL,
        "questionnaire" INTEGER NOT NULL REFERENCES "questionnaire" ("id") {RESTRICT},
        "starts_on" DATE NOT NULL, "ends_on" DATE NOT NULL, "mode" VARCHAR(16) NOT NULL DEFAULT 'open_qr',
        "status" VARCHAR(16) NOT NULL DEFAULT 'draft')""",
    f"""CREATE TABLE "response" ("id" {{pk}},
        "campaign" INTEGER NOT NULL REFERENCES "campaign" ("id") {RESTRICT},
        "unit" INTEGER NOT NULL REFERENCES "unit" ("id") {RESTRICT},
        "counter" INTEGER REFERENCES "counter" ("id") {RESTRICT} DEFAULT NULL,
        "domain" INTEGER REFERENCES "domain" ("id") {RESTRICT} DEFAULT NULL,
        "questionnaire" INTEGER NOT NULL REFERENCES "questionnaire" ("id") {RESTRICT},
        "idempotency_key" VARCHAR(64) UNIQUE NOT NULL, "answers_digest" VARCHAR(64) NOT NULL,
        "answers" JSON NOT NULL DEFAULT '{{}}', "channel" VARCHAR(16) NOT NULL DEFAULT 'qr',
        "started_at" TIMESTAMPTZ DEFAULT NULL, "submitted_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "dossier_hash" VARCHAR(64) DEFAULT NULL, "quality_flags" JSON NOT NULL DEFAULT '[]',
        "weight" FLOAT NOT NULL DEFAULT 1.0)""",
    'CREATE INDEX "response_campaign_unit" ON "response" ("campaign", "unit")',
    # One rating per dossier and campaign, enforced by the database itself.
    """CREATE UNIQUE INDEX "response_campaign_dossier" ON "response" ("campaign", "dossier_hash")
        WHERE "dossier_hash" IS NOT NULL""",
    f"""CREATE TABLE "app_user" ("id" {{pk}}, "username" VARCHAR(64) UNIQUE NOT NULL,
        "display_name" VARCHAR(255) NOT NULL DEFAULT '', "password_hash" TEXT NOT NULL DEFAULT '',
        "role" VARCHAR(16) NOT NULL, "unit" INTEGER REFERENCES "unit" ("id") {RESTRICT} DEFAULT NULL,
        "active" BOOLEAN NOT NULL DEFAULT true, "failed_logins" INTEGER NOT NULL DEFAULT 0,
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
