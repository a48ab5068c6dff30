"""Stored figures: per campaign × unit × domain the sums an index and its SE need (analysis/aggregates.py), and per
campaign how far they are folded. Plain SQL that SQLite and PostgreSQL both run; then every campaign's existing
responses are folded in (the backfill), so the first page after the upgrade reads sums, not answers.
"""

from survey_app.core.db import sql_migration

ID = "2026-12-04T23-30-00_figure_cells"
VERSION = "1.38.0"
DESCRIPTION = "figure cells and states, backfilled from existing responses"

STATEMENTS = [
    """CREATE TABLE "figure_cell" ("id" {pk}, "campaign" INTEGER NOT NULL, "unit" INTEGER NOT NULL,
        "domain" INTEGER NOT NULL DEFAULT 0, "responses" INTEGER NOT NULL DEFAULT 0, "sums" TEXT NOT NULL DEFAULT '')""",
    'CREATE UNIQUE INDEX "figure_cell_campaign_unit_domain" ON "figure_cell" ("campaign", "unit", "domain")',
    """CREATE TABLE "figure_state" ("id" {pk}, "campaign" INTEGER NOT NULL UNIQUE,
        "through_response" INTEGER NOT NULL DEFAULT 0, "responses_seen" INTEGER NOT NULL DEFAULT 0,
        "excluded" TEXT NOT NULL DEFAULT '[]',
        "item_hash" VARCHAR(64) NOT NULL DEFAULT '',
        "updated_at" TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
]


async def forwards():
    from survey_app.results.figures import refresh_every_campaign

    manager = sql_migration(ID, DESCRIPTION, STATEMENTS)
    manager.add_raw(refresh_every_campaign)
    return manager
