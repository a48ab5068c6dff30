"""The export jobs' table: state, progress and the finished file, shared by every worker and server."""

from piccolo.columns import DoublePrecision, Integer, Text, Varchar
from piccolo.table import Table


class ExportJob(Table, tablename="export_job"):
    """One file export. The finished file is stored in `content` (written by raw SQL: bytes on both engines)
    until it is downloaded or KEEP_SECONDS pass. One running job per user, campaign and format: a partial unique
    index (migration 2026-12-04T23-40-00_export_jobs) makes a double click on two servers start one job."""

    job_id = Varchar(length=32, unique=True)
    campaign = Varchar(length=64)
    export_format = Varchar(length=8)
    user_id = Integer()
    rows_total = Integer(default=0)
    rows_done = Integer(default=0)
    state = Varchar(length=8, default="running")
    error = Text(default="")
    updated_at = DoublePrecision(default=0.0)  # time.time(): every engine compares it the same way
    created_at = DoublePrecision(default=0.0)
    suppress_below = Integer(default=0)  # the threshold the export was asked with: the task plans again from the row
    claimed = Integer(default=0)  # 1 once a delivery of the task writes it (a second delivery does nothing)


EXPORT_TABLES = (ExportJob,)
