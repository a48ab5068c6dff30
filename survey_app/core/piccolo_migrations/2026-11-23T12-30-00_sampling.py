"""Officials' sample: draws, members and reserves, invitation codes (hashes only), draft answers.

Written by hand as plain SQL that SQLite and PostgreSQL both run, like the initial migration. References
restrict deletes. `response.stratum` (nullable) keeps the stratum label of an invited answer, never the member.
"""

from survey_app.core.db import sql_migration

ID = "2026-11-23T12-30-00_sampling"
VERSION = "1.38.0"
DESCRIPTION = "sampling of officials and invitation codes"

RESTRICT = "ON DELETE RESTRICT ON UPDATE CASCADE"

STATEMENTS = [
    f"""CREATE TABLE "sample_draw" ("id" {{pk}},
        "campaign" INTEGER NOT NULL REFERENCES "campaign" ("id") {RESTRICT},
        "seed" BIGINT NOT NULL, "design" JSON NOT NULL DEFAULT '{{}}',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
    'CREATE INDEX "sample_draw_campaign" ON "sample_draw" ("campaign")',
    f"""CREATE TABLE "sample_member" ("id" {{pk}},
        "draw" INTEGER NOT NULL REFERENCES "sample_draw" ("id") {RESTRICT},
        "unit" INTEGER NOT NULL REFERENCES "unit" ("id") {RESTRICT},
        "stratum" VARCHAR(255) NOT NULL, "role" VARCHAR(255) NOT NULL, "staff_ref_hash" VARCHAR(64) NOT NULL,
        "inclusion_probability" FLOAT DEFAULT NULL, "design_weight" FLOAT DEFAULT NULL,
        "reserve_rank" INTEGER DEFAULT NULL, "status" VARCHAR(16) NOT NULL DEFAULT 'invited',
        "replaced_by" INTEGER REFERENCES "sample_member" ("id") {RESTRICT} DEFAULT NULL,
        "reason" TEXT NOT NULL DEFAULT '')""",
    'CREATE UNIQUE INDEX "sample_member_draw_staff" ON "sample_member" ("draw", "staff_ref_hash")',
    'CREATE INDEX "sample_member_draw_status" ON "sample_member" ("draw", "status")',
    f"""CREATE TABLE "invitation" ("id" {{pk}},
        "member" INTEGER UNIQUE NOT NULL REFERENCES "sample_member" ("id") {RESTRICT},
        "code_hash" VARCHAR(64) UNIQUE NOT NULL, "used_at" TIMESTAMPTZ DEFAULT NULL)""",
    f"""CREATE TABLE "draft_answers" ("id" {{pk}},
        "invitation" INTEGER UNIQUE NOT NULL REFERENCES "invitation" ("id") {RESTRICT},
        "answers" JSON NOT NULL DEFAULT '{{}}',
        "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
    'ALTER TABLE "response" ADD COLUMN "stratum" VARCHAR(255) DEFAULT NULL',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
