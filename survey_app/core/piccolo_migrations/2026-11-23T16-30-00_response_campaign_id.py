"""Exports read a campaign's responses in id order, 5 000 at a time (keyset pagination).

With only (campaign, unit) to go by, each page sorted every remaining response of the campaign again: a 1 M-row
export spent most of its time there. (campaign, id) hands the pages out in order.
"""

from survey_app.core.db import sql_migration

ID = "2026-11-23T16-30-00_response_campaign_id"
VERSION = "1.38.0"
DESCRIPTION = "index response (campaign, id) for exports"

STATEMENTS = ['CREATE INDEX "response_campaign_id" ON "response" ("campaign", "id")']


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
