"""Paper mode (issue #22): numbered copies printed per campaign, and the operators' keyed entries of them."""

from survey_app.core.db import sql_migration

ID = "2026-12-05T22-10-00_paper"
VERSION = "1.38.0"
DESCRIPTION = "paper questionnaires and keyed entries"

RESTRICT = "ON DELETE RESTRICT ON UPDATE CASCADE"
STATEMENTS = [
    f"""CREATE TABLE "paper_copy" ("id" {{pk}},
        "campaign" INTEGER NOT NULL REFERENCES "campaign" ("id") {RESTRICT},
        "unit" INTEGER NOT NULL REFERENCES "unit" ("id") {RESTRICT},
        "serial" INTEGER NOT NULL, "status" VARCHAR(8) NOT NULL DEFAULT 'printed',
        "printed_by" VARCHAR(64) NOT NULL DEFAULT '',
        "printed_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "response" INTEGER DEFAULT NULL REFERENCES "response" ("id") {RESTRICT})""",
    'CREATE UNIQUE INDEX "paper_copy_serial" ON "paper_copy" ("campaign", "serial")',
    f"""CREATE TABLE "paper_entry" ("id" {{pk}},
        "copy" INTEGER NOT NULL REFERENCES "paper_copy" ("id") {RESTRICT},
        "operator" VARCHAR(64) NOT NULL, "round" INTEGER NOT NULL, "answers" JSON NOT NULL DEFAULT '{{}}',
        "entered_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
    'CREATE UNIQUE INDEX "paper_entry_operator" ON "paper_entry" ("copy", "operator")',
    'CREATE UNIQUE INDEX "paper_entry_round" ON "paper_entry" ("copy", "round")',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
