"""Units merged into (or split from) another on a date (from 1 July 2025 Vietnam runs two levels of local
government and many communes merged): trends map a predecessor's earlier figures onto its successor."""

from survey_app.core.db import sql_migration

ID = "2026-12-04T23-50-00_unit_change"
VERSION = "1.38.0"
DESCRIPTION = "unit merges and splits"

RESTRICT = "ON DELETE RESTRICT ON UPDATE CASCADE"
STATEMENTS = [
    f"""CREATE TABLE "unit_change" ("id" {{pk}},
        "predecessor" INTEGER NOT NULL REFERENCES "unit" ("id") {RESTRICT},
        "successor" INTEGER NOT NULL REFERENCES "unit" ("id") {RESTRICT},
        "kind" VARCHAR(8) NOT NULL, "effective_on" DATE NOT NULL,
        "recorded_by" VARCHAR(64) NOT NULL DEFAULT '')""",
    'CREATE INDEX "unit_change_successor" ON "unit_change" ("successor")',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
