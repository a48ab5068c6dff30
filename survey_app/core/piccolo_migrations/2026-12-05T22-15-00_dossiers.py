"""The dossier feed (issue #21): the procedure catalogue and completed dossiers with one-time rating links.

A dossier is rated at most once: `rated_at` is set by a conditional update in the rating's transaction, and the
unique `response` column ties the rating to its dossier (unit, domain and procedure).
"""

from survey_app.core.db import sql_migration

ID = "2026-12-05T22-15-00_dossiers"
VERSION = "1.38.0"
DESCRIPTION = "procedures and completed dossiers from the one-stop system"

RESTRICT = "ON DELETE RESTRICT ON UPDATE CASCADE"
STATEMENTS = [
    f"""CREATE TABLE "procedure" ("id" {{pk}}, "code" VARCHAR(64) NOT NULL UNIQUE, "name" VARCHAR(500) NOT NULL,
        "domain" INTEGER NOT NULL REFERENCES "domain" ("id") {RESTRICT})""",
    f"""CREATE TABLE "dossier" ("id" {{pk}}, "code_hash" VARCHAR(64) NOT NULL UNIQUE,
        "link_id" VARCHAR(32) NOT NULL UNIQUE,
        "unit" INTEGER NOT NULL REFERENCES "unit" ("id") {RESTRICT},
        "domain" INTEGER NOT NULL REFERENCES "domain" ("id") {RESTRICT},
        "procedure" INTEGER NOT NULL REFERENCES "procedure" ("id") {RESTRICT},
        "channel" VARCHAR(16) NOT NULL, "received_on" DATE NOT NULL, "due_on" DATE DEFAULT NULL,
        "returned_on" DATE NOT NULL, "source" VARCHAR(16) NOT NULL DEFAULT 'api',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "rated_at" TIMESTAMPTZ DEFAULT NULL,
        "response" INTEGER DEFAULT NULL UNIQUE REFERENCES "response" ("id") {RESTRICT})""",
    'CREATE INDEX "dossier_returned_on" ON "dossier" ("returned_on")',
    'CREATE INDEX "dossier_unit" ON "dossier" ("unit")',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
