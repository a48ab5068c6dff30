"""Large paper print runs (more than services.MAX_COPIES copies) as background jobs with a progress page.

Starting a run numbers all its copies at once (services.number_copies: the serials are stored, so no number is
ever printed twice, whatever happens to the job), then defers the task "paper.print" on the job engine (how a
job waits, is claimed and is given up: survey_app.core.progress_jobs). The task renders PART_COPIES copies at a
time into one PDF each, stored in print_job_part as it goes, so memory stays that of one part however long the run,
and the progress page ("Đang in: N / M phiếu") reads the count from the database on any server. When done, the
download is one ZIP of the parts (PDF files named by their numbers), streamed part by part. Only the analyst who
started a run sees it; runs older than KEEP_SECONDS are removed. An analyst runs one run at a time (a partial
unique index on print_job): a second start shows the running one and numbers nothing. A run given up shows as
stopped: its numbers stay used (never printed again); print a new run.
"""

from __future__ import annotations

import asyncio
import logging
import zipfile
from dataclasses import dataclass

from survey_app.core import jobs as engine
from survey_app.core import progress_jobs
from survey_app.core.paper_tables import PrintJob, PrintJobPart
from survey_app.paper import services
from survey_app.paper.printing import copy_label

PRINT_TASK = "paper.print"
PART_COPIES = 100  # copies per PDF part: ~10 s of rendering and ~1.5 MB for the five-page SIPAS form
KEEP_SECONDS = 24 * 3600
STOPPED = "Tiến trình in đã dừng; các số phiếu đã cấp không dùng lại. Hãy in một đợt mới."
FAILED = "Lỗi khi tạo tệp PDF; các số phiếu đã cấp không dùng lại. Hãy in một đợt mới."
JUST_ENDED = services.PaperRefused("Đợt in trước của bạn vừa kết thúc; hãy bấm in lại.",
                                   "your previous print run just ended; print again", 409)
logger = logging.getLogger("survey_app.paper")


@dataclass(kw_only=True)
class PrintJobState(progress_jobs.ProgressJob):
    campaign: str
    unit: str
    first_serial: int
    copies: int
    copies_done: int = 0

    @property
    def last_serial(self) -> int:
        return self.first_serial + self.copies - 1

    @property
    def download_name(self) -> str:
        return f"phieu-giay-{self.campaign}-{copy_label(self.first_serial)}-{copy_label(self.last_serial)}.zip"


JOBS = progress_jobs.JobTable(PrintJob, PrintJobState, ("campaign", "unit", "first_serial", "copies", "copies_done"),
                              progress="copies_done", stopped=STOPPED, keep_seconds=KEEP_SECONDS, parts=PrintJobPart)
find = JOBS.find  # the user's own run, or None


class _AnotherRunRuns(Exception):
    """Raised inside the numbering's transaction, which it undoes."""


async def start(campaign_code: str, unit_code: str, copies_text: str, user) -> tuple[PrintJobState, bool]:
    """Number the run's copies (refusals as services.PaperRefused, before anything is stored) and defer it; or, when
    the user's run still runs (or waits), that run and False, numbering nothing: each run numbers and renders up to
    services.MAX_RUN copies for minutes, so an analyst runs one at a time."""
    await JOBS.remove_old()
    await JOBS.give_up_dead()
    job = None

    async def store_run(campaign: dict, unit: dict, serials: list[int]) -> None:
        nonlocal job
        job = PrintJobState(id=progress_jobs.new_job_id(), user_id=user.id, campaign=campaign["code"],
                            unit=unit["code"], first_serial=serials[0], copies=len(serials))
        if not await JOBS.insert_unless_running(job):
            raise _AnotherRunRuns

    try:
        await services.number_copies(campaign_code, unit_code, copies_text, user.username, services.MAX_RUN,
                                     store_run)
    except _AnotherRunRuns:
        if running := await JOBS.first("state = 'running' AND user_id = {}", user.id):
            return running, False
        raise JUST_ENDED from None
    await engine.defer(PRINT_TASK, job_id=job.id)
    return job, True


@engine.task(PRINT_TASK)
async def render_run(job_id: str) -> None:
    """The engine's task: the delivery that claims the row renders the parts not yet stored, one after another."""
    job = await JOBS.claim(job_id)
    if job is None:
        return  # a second delivery, or a run removed or given up meanwhile
    try:
        campaign, questionnaire = await services.campaign_with_questionnaire(job.campaign)
        unit = await services.printable_unit(campaign, job.unit)
        for first in range(job.first_serial, job.last_serial + 1, PART_COPIES):
            serials = list(range(first, min(first + PART_COPIES, job.last_serial + 1)))
            pdf = await services.render(engine.settings(), campaign, questionnaire, unit, serials)
            await _store_part(job, serials, pdf)
        job.state = "done"
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("print run %s (%s, %s copies) failed", job.id, job.campaign, job.copies)
        job.state, job.error = "failed", FAILED
    await JOBS.save(job)


async def _store_part(job: PrintJobState, serials: list[int], pdf: bytes) -> None:
    await PrintJob.raw("INSERT INTO print_job_part (job_id, first_serial, last_serial, content) "
                       "VALUES ({}, {}, {}, {})", job.id, serials[0], serials[-1], pdf)
    job.copies_done += len(serials)
    await JOBS.save(job)


async def zipped_parts(job: PrintJobState):
    """The run's ZIP, streamed: one stored (already compressed) PDF per part, read from the database one at a time."""
    buffer = _Chunks()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        parts = await PrintJob.raw("SELECT first_serial, last_serial FROM print_job_part WHERE job_id = {} "
                                   "ORDER BY first_serial", job.id)
        for part in parts:
            rows = await PrintJob.raw("SELECT content FROM print_job_part WHERE job_id = {} AND first_serial = {}",
                                      job.id, part["first_serial"])
            name = f"phieu-giay-{job.campaign}-{copy_label(part['first_serial'])}-{copy_label(part['last_serial'])}.pdf"
            archive.writestr(name, bytes(rows[0]["content"]))
            yield buffer.take()
    yield buffer.take()


class _Chunks:
    """A write-only stream zipfile writes into (it needs no seeking then); take() hands over what was written."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.written = 0

    def write(self, data: bytes) -> int:
        self.pieces.append(bytes(data))
        self.written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.written

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        taken, self.pieces = b"".join(self.pieces), []
        return taken
