"""Analyst workspace: a campaign's units and quotas, its targets, and quality-review decisions on responses.

Plain SQL that SQLite and PostgreSQL both run. References restrict deletes, so no decision or quota can vanish with
its campaign or response.
"""

from survey_app.core.db import sql_migration

ID = "2026-11-23T15-10-00_dashboard"
VERSION = "1.38.0"
DESCRIPTION = "campaign units and targets, quality-review decisions"

RESTRICT = "ON DELETE RESTRICT ON UPDATE CASCADE"

STATEMENTS = [
    f"""CREATE TABLE "campaign_unit" ("id" {{pk}},
        "campaign" INTEGER NOT NULL REFERENCES "campaign" ("id") {RESTRICT},
        "unit" INTEGER NOT NULL REFERENCES "unit" ("id") {RESTRICT},
        "quota" INTEGER DEFAULT NULL)""",
    'CREATE UNIQUE INDEX "campaign_unit_campaign_unit" ON "campaign_unit" ("campaign", "unit")',
    f"""CREATE TABLE "campaign_target" ("id" {{pk}},
        "campaign" INTEGER NOT NULL REFERENCES "campaign" ("id") {RESTRICT},
        "subject" VARCHAR(96) NOT NULL, "comparison" VARCHAR(2) NOT NULL DEFAULT '>=',
        "value" DOUBLE PRECISION NOT NULL)""",
    'CREATE UNIQUE INDEX "campaign_target_campaign_subject" ON "campaign_target" ("campaign", "subject")',
    f"""CREATE TABLE "quality_review" ("id" {{pk}},
        "campaign" INTEGER NOT NULL REFERENCES "campaign" ("id") {RESTRICT},
        "response" INTEGER NOT NULL UNIQUE REFERENCES "response" ("id") {RESTRICT},
        "decision" VARCHAR(8) NOT NULL, "flags" JSON NOT NULL DEFAULT '[]',
        "reviewed_by" VARCHAR(64) NOT NULL DEFAULT '',
        "reviewed_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
    'CREATE INDEX "quality_review_campaign" ON "quality_review" ("campaign")',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
