"""Stored quality flags: one row per response, computed in bounded batches as answers arrive
(survey_app/results/quality_store.py), and per campaign how far they are computed. Existing responses are flagged
the first time a campaign's queue is opened or the server starts (in batches, in the background), not here: a
migration that read a million answers would hold the upgrade for minutes.
"""

from survey_app.core.db import sql_migration

ID = "2026-12-05T22-10-00_quality_flags"
VERSION = "1.38.0"
DESCRIPTION = "quality flags per response and their state per campaign"

STATEMENTS = [
    """CREATE TABLE "quality_flag" ("id" {pk}, "campaign" INTEGER NOT NULL, "response" INTEGER NOT NULL UNIQUE,
        "unit" INTEGER NOT NULL, "counter" INTEGER NOT NULL DEFAULT 0, "at_us" BIGINT NOT NULL,
        "duration" DOUBLE PRECISION DEFAULT NULL, "pattern" BIGINT NOT NULL, "rules" SMALLINT NOT NULL DEFAULT 0,
        "outlier_score" DOUBLE PRECISION DEFAULT NULL)""",
    'CREATE INDEX "quality_flag_campaign_pattern" ON "quality_flag" ("campaign", "pattern", "at_us")',
    'CREATE INDEX "quality_flag_campaign_duration" ON "quality_flag" ("campaign", "duration")',
    'CREATE INDEX "quality_flag_campaign_rules" ON "quality_flag" ("campaign", "rules", "response")',
    """CREATE TABLE "quality_flag_state" ("id" {pk}, "campaign" INTEGER NOT NULL UNIQUE,
        "through_response" INTEGER NOT NULL DEFAULT 0, "responses_seen" INTEGER NOT NULL DEFAULT 0,
        "missing_durations" INTEGER NOT NULL DEFAULT 0, "speed_threshold" DOUBLE PRECISION DEFAULT NULL,
        "model_through" INTEGER NOT NULL DEFAULT 0, "bursts" TEXT NOT NULL DEFAULT '{}',
        "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
