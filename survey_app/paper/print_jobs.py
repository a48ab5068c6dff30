"""Large paper print runs (more than services.MAX_COPIES copies) as background jobs with a progress page.

Starting a run numbers all its copies at once (services.number_copies: the serials are stored, so no number is
ever printed twice, whatever happens to the job), then defers the task "paper.print" with the job's id on the
deployment's job engine (survey_app.core.jobs: procrastinate on PostgreSQL, SAQ on Redis, in-process on SQLite).
The task renders PART_COPIES copies at a time into one PDF each, stored in print_job_part as it goes, so memory
stays that of one part however long the run, and the progress page ("Đang in: N / M phiếu") reads the count from
the database on any server. When done, the download is one ZIP of the parts (PDF files named by their numbers),
streamed part by part. Only the analyst who started a run sees it; runs older than KEEP_SECONDS are removed.
A run whose worker died (no progress for STALE_SECONDS) shows as stopped: its numbers stay used (never printed
again), and the analyst prints a new run.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import zipfile
from dataclasses import dataclass

from survey_app.core import jobs as engine
from survey_app.core.paper_tables import PrintJob, PrintJobPart
from survey_app.paper import services
from survey_app.paper.printing import copy_label

PRINT_TASK = "paper.print"
PART_COPIES = 100  # copies per PDF part: ~10 s of rendering and ~1.5 MB for the five-page SIPAS form
KEEP_SECONDS = 24 * 3600
STALE_SECONDS = 300
JOB_ID_LENGTH = 22
STOPPED = "Tiến trình in đã dừng; các số phiếu đã cấp không dùng lại. Hãy in một đợt mới."
FAILED = "Lỗi khi tạo tệp PDF; các số phiếu đã cấp không dùng lại. Hãy in một đợt mới."
COLUMNS = "job_id, campaign, unit, user_id, first_serial, copies, copies_done, state, error, updated_at"
logger = logging.getLogger("survey_app.paper")


@dataclass
class PrintJobState:
    id: str
    campaign: str
    unit: str
    user_id: int
    first_serial: int
    copies: int
    copies_done: int = 0
    state: str = "running"  # running, done or failed
    error: str = ""

    @property
    def last_serial(self) -> int:
        return self.first_serial + self.copies - 1

    @property
    def download_name(self) -> str:
        return f"phieu-giay-{self.campaign}-{copy_label(self.first_serial)}-{copy_label(self.last_serial)}.zip"


def _job_of(row: dict) -> PrintJobState:
    job = PrintJobState(row["job_id"], row["campaign"], row["unit"], row["user_id"], row["first_serial"],
                        row["copies"], row["copies_done"], row["state"], row["error"])
    if job.state == "running" and time.time() - row["updated_at"] > STALE_SECONDS:
        job.state, job.error = "failed", STOPPED
    return job


async def start(campaign_code: str, unit_code: str, copies_text: str, user) -> PrintJobState:
    """Number the run's copies (refusals as services.PaperRefused, before anything is stored) and defer it."""
    await remove_old_jobs()
    numbered = await services.number_copies(campaign_code, unit_code, copies_text, user.username, services.MAX_RUN)
    now = time.time()
    job = PrintJobState(secrets.token_urlsafe(16), numbered.campaign["code"], numbered.unit["code"], user.id,
                        numbered.serials[0], len(numbered.serials))
    await PrintJob.insert(PrintJob(job_id=job.id, campaign=job.campaign, unit=job.unit, user_id=job.user_id,
                                   first_serial=job.first_serial, copies=job.copies, created_at=now, updated_at=now))
    await engine.defer(PRINT_TASK, job_id=job.id)
    return job


@engine.task(PRINT_TASK)
async def render_run(job_id: str) -> None:
    """The engine's task: the delivery that claims the row renders the parts not yet stored, one after another."""
    claimed = await PrintJob.raw(
        f"UPDATE print_job SET claimed = 1, updated_at = {{}} WHERE job_id = {{}} AND state = 'running' "
        f"AND claimed = 0 RETURNING {COLUMNS}", time.time(), job_id)
    if not claimed:
        return  # a second delivery, or a run removed meanwhile
    job = _job_of(claimed[0])
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
    await _save(job)


async def _store_part(job: PrintJobState, serials: list[int], pdf: bytes) -> None:
    await PrintJob.raw("INSERT INTO print_job_part (job_id, first_serial, last_serial, content) "
                       "VALUES ({}, {}, {}, {})", job.id, serials[0], serials[-1], pdf)
    job.copies_done += len(serials)
    await _save(job)


async def _save(job: PrintJobState) -> None:
    await PrintJob.update({PrintJob.copies_done: job.copies_done, PrintJob.state: job.state,
                           PrintJob.error: job.error, PrintJob.updated_at: time.time()}).where(
        PrintJob.job_id == job.id)


async def find(job_id: str, user_id: int) -> PrintJobState | None:
    """The user's own run, or None (another analyst's run is as unknown as one that never existed)."""
    await remove_old_jobs()
    if len(job_id) != JOB_ID_LENGTH:
        return None
    rows = await PrintJob.raw(f"SELECT {COLUMNS} FROM print_job WHERE job_id = {{}} AND user_id = {{}}",
                              job_id, user_id)
    return _job_of(rows[0]) if rows else None


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


async def remove_old_jobs(now: float | None = None) -> None:
    """Every run (and its parts) older than KEEP_SECONDS."""
    old = await PrintJob.select(PrintJob.job_id).where(PrintJob.created_at < (now or time.time()) - KEEP_SECONDS)
    if old:
        ids = [row["job_id"] for row in old]
        await PrintJobPart.delete().where(PrintJobPart.job_id.is_in(ids))
        await PrintJob.delete().where(PrintJob.job_id.is_in(ids))
