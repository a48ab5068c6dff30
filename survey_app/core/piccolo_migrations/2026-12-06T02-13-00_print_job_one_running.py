"""One running paper print run per analyst (as exports keep one per analyst, campaign and format): a partial unique
index, so that two clicks on two servers start one run. Older running runs of an analyst are given up first."""

from survey_app.core.db import sql_migration

ID = "2026-12-06T02-13-00_print_job_one_running"
VERSION = "1.38.0"
DESCRIPTION = "one running print run per analyst"

STATEMENTS = [
    """UPDATE "print_job" SET "state" = 'failed',
        "error" = 'Tiến trình in đã dừng; các số phiếu đã cấp không dùng lại. Hãy in một đợt mới.'
        WHERE "state" = 'running' AND "id" NOT IN (SELECT MAX("id") FROM "print_job" WHERE "state" = 'running'
        GROUP BY "user_id")""",
    'CREATE UNIQUE INDEX "print_job_one_running" ON "print_job" ("user_id") WHERE "state" = \'running\'',
]


async def forwards():
    return sql_migration(ID, DESCRIPTION, STATEMENTS)
