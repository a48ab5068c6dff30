"""A fingerprint of the server's SECRET_KEY, so a command run with another key refuses instead of printing
invitation codes or posters the server will not accept."""

from survey_app.core.db import sql_migration

ID = "2026-12-04T23-40-00_server_key"
VERSION = "1.38.0"
DESCRIPTION = "server key fingerprint"

STATEMENTS = ['CREATE TABLE "server_key" ("id" {pk}, "fingerprint" VARCHAR(64) NOT NULL)']


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
