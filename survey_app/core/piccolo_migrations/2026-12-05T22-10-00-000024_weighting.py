"""A campaign's weighting plan and its versions (issue #24): every run kept with who, when, plan and inputs' hashes."""

from survey_app.core.db import sql_migration

ID = "2026-12-05T22-10-00-000024_weighting"
VERSION = "1.38.0"
DESCRIPTION = "weighting plans and weight versions"

STATEMENTS = [
    """CREATE TABLE "weight_plan" ("id" {pk}, "campaign" INTEGER NOT NULL UNIQUE, "plan" TEXT NOT NULL DEFAULT '{{}}',
        "population" TEXT NOT NULL DEFAULT '', "population_name" VARCHAR(255) NOT NULL DEFAULT '',
        "population_hash" VARCHAR(64) NOT NULL DEFAULT '', "updated_by" VARCHAR(64) NOT NULL DEFAULT '',
        "updated_at" DOUBLE PRECISION NOT NULL DEFAULT 0)""",
    """CREATE TABLE "weight_version" ("id" {pk}, "campaign" INTEGER NOT NULL, "number" INTEGER NOT NULL,
        "created_by" VARCHAR(64) NOT NULL DEFAULT '', "created_at" DOUBLE PRECISION NOT NULL DEFAULT 0,
        "plan" TEXT NOT NULL DEFAULT '{{}}', "input_hashes" TEXT NOT NULL DEFAULT '{{}}',
        "diagnostics" TEXT NOT NULL DEFAULT '[]', "weights" TEXT NOT NULL DEFAULT '[]',
        "state" VARCHAR(8) NOT NULL DEFAULT 'running', "progress" INTEGER NOT NULL DEFAULT 0,
        "error" TEXT NOT NULL DEFAULT '', "in_use" BOOLEAN NOT NULL DEFAULT FALSE)""",
    'CREATE UNIQUE INDEX "weight_version_number" ON "weight_version" ("campaign", "number")',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
