"""Webhooks out (issue #21): subscriptions per campaign and the outbox of deliveries, written in the event's own
transaction and sent by the job worker (survey_app/webhooks)."""

from survey_app.core.db import sql_migration

ID = "2026-12-05T22-40-00_jobs_webhooks"
VERSION = "1.38.0"
DESCRIPTION = "webhook subscriptions and their delivery outbox"

STATEMENTS = [
    """CREATE TABLE "webhook_subscription" ("id" {pk},
        "campaign" INTEGER NOT NULL REFERENCES "campaign" ("id") ON DELETE CASCADE,
        "url" VARCHAR(2000) NOT NULL, "secret" VARCHAR(120) NOT NULL, "events" VARCHAR(200) NOT NULL,
        "active" BOOLEAN NOT NULL DEFAULT TRUE, "created_by" VARCHAR(64) NOT NULL DEFAULT '',
        "created_at" DOUBLE PRECISION NOT NULL DEFAULT 0)""",
    'CREATE INDEX "webhook_subscription_campaign" ON "webhook_subscription" ("campaign")',
    """CREATE TABLE "webhook_delivery" ("id" {pk}, "event_id" VARCHAR(64) NOT NULL,
        "subscription" INTEGER NOT NULL REFERENCES "webhook_subscription" ("id") ON DELETE CASCADE,
        "event_type" VARCHAR(32) NOT NULL, "subject" VARCHAR(64) NOT NULL, "payload" TEXT DEFAULT NULL,
        "status" VARCHAR(12) NOT NULL DEFAULT 'pending', "attempts" INTEGER NOT NULL DEFAULT 0,
        "last_status" INTEGER DEFAULT NULL, "last_error" TEXT NOT NULL DEFAULT '',
        "next_attempt_at" DOUBLE PRECISION NOT NULL DEFAULT 0, "locked_until" DOUBLE PRECISION NOT NULL DEFAULT 0,
        "created_at" DOUBLE PRECISION NOT NULL DEFAULT 0, "delivered_at" DOUBLE PRECISION DEFAULT NULL)""",
    # the worker's question: which pending deliveries are due
    """CREATE INDEX "webhook_delivery_due" ON "webhook_delivery" ("next_attempt_at") WHERE "status" = 'pending'""",
    'CREATE INDEX "webhook_delivery_subscription" ON "webhook_delivery" ("subscription", "id")',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
