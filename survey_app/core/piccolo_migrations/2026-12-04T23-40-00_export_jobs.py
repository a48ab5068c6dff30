"""Export jobs in the database (they were files under var/exports of one server): state, progress, the file.

A partial unique index allows one running job per user, campaign and format, whichever server starts it.
"""

from survey_app.core.db import sql_migration

ID = "2026-12-04T23-40-00_export_jobs"
VERSION = "1.38.0"
DESCRIPTION = "export jobs shared by every worker and server"

STATEMENTS = [
    """CREATE TABLE "export_job" ("id" {pk}, "job_id" VARCHAR(32) NOT NULL UNIQUE,
        "campaign" VARCHAR(64) NOT NULL, "export_format" VARCHAR(8) NOT NULL, "user_id" INTEGER NOT NULL,
        "rows_total" INTEGER NOT NULL DEFAULT 0, "rows_done" INTEGER NOT NULL DEFAULT 0,
        "state" VARCHAR(8) NOT NULL DEFAULT 'running', "error" TEXT NOT NULL DEFAULT '', "content" BYTEA DEFAULT NULL,
        "updated_at" DOUBLE PRECISION NOT NULL DEFAULT 0, "created_at" DOUBLE PRECISION NOT NULL DEFAULT 0)""",
    """CREATE UNIQUE INDEX "export_job_one_running" ON "export_job" ("user_id", "campaign", "export_format")
        WHERE "state" = 'running'""",
    'CREATE INDEX "export_job_created_at" ON "export_job" ("created_at")',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
