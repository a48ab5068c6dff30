"""A dossier import on SQLite is stored in small transactions marked `held_by` and released at the end, so that
citizens' posts are not held up behind one long write; readers skip held rows (survey_app.dossiers.services)."""

from survey_app.core.db import sql_migration

ID = "2026-12-06T01-50-00_dossier_held_by"
VERSION = "1.38.0"
DESCRIPTION = "dossiers of an import still being stored are held"

STATEMENTS = [
    'ALTER TABLE "dossier" ADD COLUMN "held_by" VARCHAR(32) DEFAULT NULL',
    'CREATE INDEX "dossier_held_by" ON "dossier" ("held_by") WHERE "held_by" IS NOT NULL',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
