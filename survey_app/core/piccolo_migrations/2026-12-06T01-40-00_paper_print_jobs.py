"""Large paper print runs as background jobs: the run (its numbered copies, progress, state) and its PDF parts."""

from survey_app.core.db import sql_migration

ID = "2026-12-06T01-40-00_paper_print_jobs"
VERSION = "1.38.0"
DESCRIPTION = "paper print runs built in the background"

STATEMENTS = [
    """CREATE TABLE "print_job" ("id" {pk}, "job_id" VARCHAR(32) NOT NULL UNIQUE, "campaign" VARCHAR(64) NOT NULL,
        "unit" VARCHAR(32) NOT NULL, "user_id" INTEGER NOT NULL, "first_serial" INTEGER NOT NULL,
        "copies" INTEGER NOT NULL, "copies_done" INTEGER NOT NULL DEFAULT 0,
        "state" VARCHAR(8) NOT NULL DEFAULT 'running', "error" TEXT NOT NULL DEFAULT '',
        "claimed" INTEGER NOT NULL DEFAULT 0, "created_at" DOUBLE PRECISION NOT NULL DEFAULT 0,
        "updated_at" DOUBLE PRECISION NOT NULL DEFAULT 0)""",
    'CREATE INDEX "print_job_created_at" ON "print_job" ("created_at")',
    """CREATE TABLE "print_job_part" ("id" {pk}, "job_id" VARCHAR(32) NOT NULL, "first_serial" INTEGER NOT NULL,
        "last_serial" INTEGER NOT NULL, "content" BYTEA DEFAULT NULL)""",
    'CREATE UNIQUE INDEX "print_job_part_run" ON "print_job_part" ("job_id", "first_serial")',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
