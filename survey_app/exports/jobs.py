"""Exports written to a file (XLSX, .sav, .dta) as jobs whose progress an analyst can watch.

A download link starts a job and waits a little (`QUICK_SECONDS`): a small campaign's file is sent at once; a large
one's answer is a page that refreshes itself with the rows written so far and, when the file is ready, a link to
it. A job's state, progress and finished file live in the database (table export_job), so every worker of every
server can show any job and send its file: behind a load balancer the page and the download may reach another
server than the one writing. The file is written in a temporary folder that is removed as soon as the file is in
the database (or the job failed): no file of answers stays on any server. Exports hold officials' answers: a job
is deleted once its file is downloaded, only the analyst who started it can see or fetch it, and jobs older than
`KEEP_SECONDS` are removed whenever one starts or a job's page or file is asked for. A second click while the
analyst's export of the same campaign and format runs shows that job rather than starting another, whichever
server each click reaches (a partial unique index allows one running job per analyst, campaign and format).
The writing is a task ("exports.write", given only the job's id) on the deployment's job engine
(survey_app.core.jobs: procrastinate on PostgreSQL, SAQ on Redis, in-process on SQLite), which any server's or
`survey worker`'s worker may run: it plans again from the row, and only the delivery that claims the row writes.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from survey_app.core import jobs as engine
from survey_app.core.export_tables import ExportJob
from survey_app.exports.service import SUFFIXES, ExportError, plan_for_format, write_export

QUICK_SECONDS = 2.0
KEEP_SECONDS = 3600
STALE_SECONDS = 300  # a running job saves its progress every HEARTBEAT_SECONDS; silence this long: its worker died
HEARTBEAT_SECONDS = 1.0
JOB_ID_LENGTH = 22
STOPPED = "Tiến trình xuất đã dừng; hãy xuất lại / the export stopped; start it again"
POLL_SECONDS = 0.1
WRITE_TASK = "exports.write"
logger = logging.getLogger("survey_app.exports")
COLUMNS = "job_id, campaign, export_format, user_id, rows_total, rows_done, state, error, updated_at"


@dataclass
class Job:
    id: str
    campaign: str
    format: str
    user_id: int
    rows_total: int
    rows_done: int = 0
    state: str = "running"  # running, done or failed
    error: str = ""

    @property
    def download_name(self) -> str:
        return f"{self.campaign}{SUFFIXES[self.format]}"

    async def save(self) -> None:
        await ExportJob.update({ExportJob.rows_done: self.rows_done, ExportJob.state: self.state,
                                ExportJob.error: self.error, ExportJob.updated_at: time.time()}).where(
            ExportJob.job_id == self.id)


def _job_of(row: dict) -> Job:
    job = Job(row["job_id"], row["campaign"], row["export_format"], row["user_id"], row["rows_total"],
              row["rows_done"], row["state"], row["error"])
    if job.state == "running" and time.time() - row["updated_at"] > STALE_SECONDS:
        job.state, job.error = "failed", STOPPED
    return job


async def start(campaign_code: str, export_format: str, user_id: int, minimum: int) -> tuple[Job, bool]:
    """Plan the export (an unknown or empty campaign is refused here, before any job exists) and defer its writing;
    or, when the user's export of this campaign and format is still running, that job and False."""
    plan = await plan_for_format(campaign_code, export_format, minimum)
    await remove_old_jobs()
    await _give_up_dead_jobs()
    job = Job(secrets.token_urlsafe(16), campaign_code, export_format, user_id, plan.response_count)
    if not await _insert_unless_running(job, minimum):
        if running := await _running_job(campaign_code, export_format, user_id):
            return running, False
        if not await _insert_unless_running(job, minimum):  # the running one ended in between; a 2nd conflict is odd
            raise ExportError("Một bản xuất khác đang chạy; hãy thử lại / another export is running; try again")
    await engine.defer(WRITE_TASK, job_id=job.id)
    return job, True


async def _insert_unless_running(job: Job, minimum: int) -> bool:
    """Insert the job; False when this user's job for the campaign and format is already running (anywhere)."""
    now = time.time()
    inserted = await ExportJob.raw(
        f"INSERT INTO export_job ({COLUMNS}, created_at, suppress_below) VALUES ({{}}, {{}}, {{}}, {{}}, {{}}, 0, "
        "'running', '', {}, {}, {}) ON CONFLICT DO NOTHING RETURNING id",
        job.id, job.campaign, job.format, job.user_id, job.rows_total, now, now, minimum)
    return bool(inserted)


async def _give_up_dead_jobs() -> None:
    """A running job whose worker died (no progress for STALE_SECONDS) is failed, so it no longer holds the
    one-running-job place of its analyst, campaign and format."""
    await ExportJob.update({ExportJob.state: "failed", ExportJob.error: STOPPED}).where(
        (ExportJob.state == "running") & (ExportJob.updated_at < time.time() - STALE_SECONDS))


@engine.task(WRITE_TASK)
async def write(job_id: str) -> None:
    """The engine's task: the delivery that claims the running row plans again from it and writes the file."""
    claimed = await ExportJob.raw(
        f"UPDATE export_job SET claimed = 1, updated_at = {{}} WHERE job_id = {{}} AND state = 'running' "
        f"AND claimed = 0 RETURNING {COLUMNS}, suppress_below", time.time(), job_id)
    if not claimed:
        return  # a second delivery, or a job removed or given up meanwhile
    job = _job_of(claimed[0])
    try:
        plan = await plan_for_format(job.campaign, job.format, claimed[0]["suppress_below"])
    except ExportError as refused:  # the campaign changed since the click (emptied, or over the XLSX limit)
        job.state, job.error = "failed", str(refused)
        await job.save()
        return
    await _run(job, plan)


async def _run(job: Job, plan) -> None:
    def count(rows: int) -> None:
        job.rows_done += rows  # saved by the heartbeat: one write a second, however small the pages

    heartbeat = asyncio.create_task(_keep_alive(job))
    try:
        with tempfile.TemporaryDirectory(prefix="survey-export-") as folder:  # removed whatever happens
            output = Path(folder) / f"export{SUFFIXES[job.format]}"
            await write_export(plan, job.format, output, on_progress=count)
            await _store_file(job, await asyncio.to_thread(output.read_bytes))
        job.state = "done"
    except ExportError as refused:
        job.state, job.error = "failed", str(refused)
    except Exception:
        logger.exception("export job %s (%s, %s) failed", job.id, job.campaign, job.format)
        job.state, job.error = "failed", "Lỗi khi ghi tệp; hãy thử lại / the file could not be written; try again"
    finally:
        heartbeat.cancel()
    await job.save()


async def _store_file(job: Job, content: bytes) -> None:
    await ExportJob.raw("UPDATE export_job SET content = {} WHERE job_id = {}", content, job.id)


async def _keep_alive(job: Job) -> None:
    """Save the progress every HEARTBEAT_SECONDS: the page shows it, and after the last row pyreadstat or the XLSX
    writer may work for minutes with no rows to count, which must not read as a dead worker's silence."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        await job.save()


async def finished_soon(job: Job) -> Job | None:
    """The job as its row stands once it ended, when it ended within QUICK_SECONDS; else None (it goes on either
    way: the engine's worker, maybe on another server, writes it whether or not a page waits)."""
    deadline = time.monotonic() + QUICK_SECONDS
    while True:
        rows = await ExportJob.raw(f"SELECT {COLUMNS} FROM export_job WHERE job_id = {{}}", job.id)
        if rows and rows[0]["state"] != "running":
            return _job_of(rows[0])
        if not rows or time.monotonic() >= deadline:
            return None
        await asyncio.sleep(POLL_SECONDS)


async def find(job_id: str, user_id: int) -> Job | None:
    """The user's own job, or None (another analyst's job is as unknown as one that never existed). Old jobs are
    removed first, so a file nobody downloads goes after KEEP_SECONDS even if no one exports again."""
    await remove_old_jobs()
    if len(job_id) != JOB_ID_LENGTH:
        return None
    row = await ExportJob.raw(f"SELECT {COLUMNS} FROM export_job WHERE job_id = {{}} AND user_id = {{}}",
                              job_id, user_id)
    return _job_of(row[0]) if row else None


async def _running_job(campaign_code: str, export_format: str, user_id: int) -> Job | None:
    rows = await ExportJob.raw(
        f"SELECT {COLUMNS} FROM export_job WHERE user_id = {{}} AND campaign = {{}} AND export_format = {{}} "
        "AND state = 'running'", user_id, campaign_code, export_format)
    return _job_of(rows[0]) if rows else None


async def file_content(job: Job) -> bytes | None:
    rows = await ExportJob.raw("SELECT content FROM export_job WHERE job_id = {}", job.id)
    return bytes(rows[0]["content"]) if rows and rows[0]["content"] is not None else None


async def remove(job: Job) -> None:
    await ExportJob.delete().where(ExportJob.job_id == job.id)


async def remove_old_jobs(now: float | None = None) -> None:
    """Every job (and its file) older than KEEP_SECONDS."""
    await ExportJob.delete().where(ExportJob.created_at < (now or time.time()) - KEEP_SECONDS)
