"""Export jobs run on the job engine (survey_app.core.jobs): the task gets only the job's id and re-plans from the
row, so the row keeps the small-group threshold; `claimed` lets one delivery of the task write (at-least-once)."""

from survey_app.core.db import sql_migration

ID = "2026-12-05T23-50-00-000011_export_job_engine"
VERSION = "1.38.0"
DESCRIPTION = "export jobs keep their threshold and who claimed them"

STATEMENTS = [
    'ALTER TABLE "export_job" ADD COLUMN "suppress_below" INTEGER NOT NULL DEFAULT 0',
    'ALTER TABLE "export_job" ADD COLUMN "claimed" INTEGER NOT NULL DEFAULT 0',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
