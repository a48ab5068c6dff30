"""Tables of paper mode: the numbered copies printed for a campaign and the keyed entries of returned copies.

A copy is answered once, on paper (keyed twice, then stored as one response) or online through its QR code:
its `status` moves printed → online, or printed → keying → keyed, by conditional updates that only one writer
can win. References are strings (like sampling_tables.py) so this module never imports tables.py.
"""

from piccolo.columns import JSON, DoublePrecision, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

RESTRICT = {"on_delete": OnDelete.restrict}
COPY_STATUSES = ("printed", "online", "keying", "keyed")
PAPER_CHANNEL = "paper"  # Response.channel of a keyed paper copy: its mode is "paper", every other answer's "web"


class PaperCopy(Table, tablename="paper_copy"):
    """One printed copy: its serial within the campaign (unique) and the unit it was printed for."""

    campaign = ForeignKey("survey_app.core.tables.Campaign", null=False, **RESTRICT)
    unit = ForeignKey("survey_app.core.tables.Unit", null=False, **RESTRICT)
    serial = Integer()
    status = Varchar(length=8, default="printed", help_text="one of " + ", ".join(COPY_STATUSES))
    printed_by = Varchar(length=64, default="")
    printed_at = Timestamptz(default=TimestamptzNow())
    response = ForeignKey("survey_app.core.tables.Response", null=True, default=None, **RESTRICT)


class PaperEntry(Table, tablename="paper_entry"):
    """One operator's keying of a returned copy (answers checked as a web answer's, a dossier code only as its
    keyed hash). The same operator keys a copy at most once: a unique index on (copy, operator)."""

    copy = ForeignKey(PaperCopy, null=False, **RESTRICT)
    operator = Varchar(length=64)
    round = Integer(help_text="1 and 2: the double entry; 3: a third keying that settles differences")
    answers = JSON()
    entered_at = Timestamptz(default=TimestamptzNow())


class PrintJob(Table, tablename="print_job"):
    """A large print run built in the background (survey_app/paper/print_jobs.py): its copies are numbered when it
    starts (serials first_serial … first_serial + copies - 1), then rendered part by part into print_job_part. One
    running run per analyst: a partial unique index (migration 2026-12-06T02-13-00_print_job_one_running)."""

    job_id = Varchar(length=32, unique=True)
    campaign = Varchar(length=64)
    unit = Varchar(length=32)
    user_id = Integer()
    first_serial = Integer()
    copies = Integer()
    copies_done = Integer(default=0)
    state = Varchar(length=8, default="running")  # running, done or failed
    error = Text(default="")
    claimed = Integer(default=0)  # 1 once a delivery of the task renders it (a second delivery does nothing)
    created_at = DoublePrecision(default=0.0)
    updated_at = DoublePrecision(default=0.0)


class PrintJobPart(Table, tablename="print_job_part"):
    """One PDF of a print job (up to PART_COPIES copies); its `content` (bytes) is written and read by raw SQL."""

    job_id = Varchar(length=32)
    first_serial = Integer()
    last_serial = Integer()


PAPER_TABLES = (PaperCopy, PaperEntry, PrintJob, PrintJobPart)
