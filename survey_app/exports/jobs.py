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
The writing is the task "exports.write" on the job engine, which plans again from the row; how a job waits, is
claimed and is given up when its worker died: survey_app.core.progress_jobs.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from survey_app.core import jobs as engine
from survey_app.core import progress_jobs
from survey_app.core.export_tables import ExportJob
from survey_app.exports.service import SUFFIXES, ExportError, plan_for_format, write_export

QUICK_SECONDS = 2.0
KEEP_SECONDS = 3600
HEARTBEAT_SECONDS = 1.0  # a running job saves its progress this often (well within progress_jobs.STALE_SECONDS)
STOPPED = "Tiến trình xuất đã dừng; hãy xuất lại / the export stopped; start it again"
POLL_SECONDS = 0.1
WRITE_TASK = "exports.write"
logger = logging.getLogger("survey_app.exports")


@dataclass(kw_only=True)
class Job(progress_jobs.ProgressJob):
    campaign: str
    format: str
    rows_total: int
    rows_done: int = 0
    suppress_below: int = 0  # the threshold the export was asked with: the task plans again with it

    @property
    def download_name(self) -> str:
        return f"{self.campaign}{SUFFIXES[self.format]}"


JOBS = progress_jobs.JobTable(ExportJob, Job, ("campaign", "export_format AS format", "rows_total", "rows_done",
                                              "suppress_below"),
                              progress="rows_done", stopped=STOPPED, keep_seconds=KEEP_SECONDS)
find = JOBS.find  # the user's own job, or None


async def start(campaign_code: str, export_format: str, user_id: int, minimum: int) -> tuple[Job, bool]:
    """Plan the export (an unknown or empty campaign is refused here, before any job exists) and defer its writing;
    or, when the user's export of this campaign and format is still running (or waiting), that job and False."""
    plan = await plan_for_format(campaign_code, export_format, minimum)
    await JOBS.remove_old()
    await JOBS.give_up_dead()
    job = Job(id=progress_jobs.new_job_id(), user_id=user_id, campaign=campaign_code, format=export_format,
              rows_total=plan.response_count, suppress_below=minimum)
    if not await JOBS.insert_unless_running(job):
        if running := await JOBS.first("state = 'running' AND user_id = {} AND campaign = {} AND export_format = {}",
                                       user_id, campaign_code, export_format):
            return running, False
        if not await JOBS.insert_unless_running(job):  # the running one ended in between; a 2nd conflict is odd
            raise ExportError("Một bản xuất khác đang chạy; hãy thử lại / another export is running; try again")
    await engine.defer(WRITE_TASK, job_id=job.id)
    return job, True


@engine.task(WRITE_TASK)
async def write(job_id: str) -> None:
    """The engine's task: the delivery that claims the running row plans again from it and writes the file."""
    job = await JOBS.claim(job_id)
    if job is None:
        return  # a second delivery, or a job removed or given up meanwhile
    try:
        plan = await plan_for_format(job.campaign, job.format, job.suppress_below)
    except ExportError as refused:  # the campaign changed since the click (emptied, or over the XLSX limit)
        job.state, job.error = "failed", str(refused)
        await JOBS.save(job)
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
    await JOBS.save(job)


async def _store_file(job: Job, content: bytes) -> None:
    await ExportJob.raw("UPDATE export_job SET content = {} WHERE job_id = {}", content, job.id)


async def _keep_alive(job: Job) -> None:
    """Save the progress every HEARTBEAT_SECONDS: the page shows it, and after the last row pyreadstat or the XLSX
    writer may work for minutes with no rows to count, which must not read as a dead worker's silence."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        await JOBS.save(job)


async def finished_soon(job: Job) -> Job | None:
    """The job as its row stands once it ended, when it ended within QUICK_SECONDS; else None (it goes on either
    way: the engine's worker, maybe on another server, writes it whether or not a page waits)."""
    deadline = time.monotonic() + QUICK_SECONDS
    while True:
        found = await JOBS.first("job_id = {}", job.id)
        if found and found.state != "running":
            return found
        if not found or time.monotonic() >= deadline:
            return None
        await asyncio.sleep(POLL_SECONDS)


async def file_content(job: Job) -> bytes | None:
    rows = await ExportJob.raw("SELECT content FROM export_job WHERE job_id = {}", job.id)
    return bytes(rows[0]["content"]) if rows and rows[0]["content"] is not None else None


async def remove(job: Job) -> None:
    await ExportJob.delete().where(ExportJob.job_id == job.id)
