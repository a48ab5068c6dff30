"""The analyst's reason for keeping or excluding a flagged response, shown in the quality queue."""

from survey_app.core.db import sql_migration

ID = "2026-12-04T23-30-00_review_reason"
VERSION = "1.38.0"
DESCRIPTION = "quality-review reason"

STATEMENTS = ["""ALTER TABLE "quality_review" ADD COLUMN "reason" TEXT NOT NULL DEFAULT ''"""]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
