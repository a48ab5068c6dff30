"""Officials' invitations and reminders sent by e-mail: one row per sending (progress, counts) and one per message
that did not go (member, reason). No address is stored: the analyst's file is read for one sending only."""

from survey_app.core.db import sql_migration

ID = "2026-12-05T22-30-00-000005_invitation_sends"
VERSION = "1.38.0"
DESCRIPTION = "e-mailed invitations: sendings and failures, without addresses"

RESTRICT = "ON DELETE RESTRICT ON UPDATE CASCADE"
STATEMENTS = [
    f"""CREATE TABLE "invitation_send" ("id" {{pk}},
        "campaign" INTEGER NOT NULL REFERENCES "campaign" ("id") {RESTRICT},
        "kind" VARCHAR(16) NOT NULL, "state" VARCHAR(16) NOT NULL DEFAULT 'queued',
        "planned" INTEGER NOT NULL DEFAULT 0, "sent" INTEGER NOT NULL DEFAULT 0, "failed" INTEGER NOT NULL DEFAULT 0,
        "created_by" VARCHAR(64) NOT NULL DEFAULT '', "summary" TEXT NOT NULL DEFAULT '',
        "created_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
        "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp, "finished_at" TIMESTAMPTZ DEFAULT NULL)""",
    'CREATE INDEX "invitation_send_campaign" ON "invitation_send" ("campaign")',
    f"""CREATE TABLE "send_failure" ("id" {{pk}},
        "send" INTEGER NOT NULL REFERENCES "invitation_send" ("id") {RESTRICT},
        "member" INTEGER NOT NULL REFERENCES "sample_member" ("id") {RESTRICT},
        "reason" TEXT NOT NULL DEFAULT '')""",
    'CREATE INDEX "send_failure_send" ON "send_failure" ("send")',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
