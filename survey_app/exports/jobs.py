"""Exports written to a file (XLSX, .sav, .dta) as jobs whose progress an analyst can watch.

A download link starts a job and waits a little (`QUICK_SECONDS`): a small campaign's file is sent at once; a large
one's answer is a page that refreshes itself with the rows written so far and, when the file is ready, a link to
it. A job's state is a small JSON file beside its output under var/exports, so every worker of the machine can
show any job (the page may reach another worker than the one writing). Exports hold officials' answers: a file
is deleted once downloaded, only the analyst who started it can see or fetch it, and jobs older than
`KEEP_SECONDS` are removed whenever one starts or a job's page or file is asked for. A second click while the
analyst's export of the same campaign and format runs shows that job rather than starting another.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from survey_app.exports.service import SUFFIXES, ExportError, plan_for_format, write_export

EXPORTS_DIR = Path("var") / "exports"
QUICK_SECONDS = 2.0
KEEP_SECONDS = 3600
STALE_SECONDS = 300  # a running job rewrites its state every page of rows; silence this long means its worker died
HEARTBEAT_SECONDS = 60  # and at least this often while the file is finished after the last row (well under STALE)
JOB_ID_LENGTH = 22
logger = logging.getLogger("survey_app.exports")
_running: set[asyncio.Task] = set()  # asyncio keeps only weak references to tasks


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
    def output(self) -> Path:
        return EXPORTS_DIR / f"{self.id}{SUFFIXES[self.format]}"

    @property
    def download_name(self) -> str:
        return f"{self.campaign}{SUFFIXES[self.format]}"

    def save(self) -> None:
        """Written whole and renamed, so a reader never sees half a state."""
        path = _state_path(self.id)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(asdict(self)))
        os.replace(partial, path)


async def start(campaign_code: str, export_format: str, user_id: int,
                minimum: int) -> tuple[Job, asyncio.Task | None]:
    """Plan the export (an unknown or empty campaign is refused here, before any job exists) and start writing;
    or, when the user's export of this campaign and format is still running, that job and no task."""
    plan = await plan_for_format(campaign_code, export_format, minimum)
    EXPORTS_DIR.mkdir(parents=True, exist_ok=True)
    remove_old_jobs()
    # No await from here to job.save(): two clicks reaching this worker at once cannot both start a job.
    if running := _running_job(campaign_code, export_format, user_id):
        return running, None
    job = Job(secrets.token_urlsafe(16), campaign_code, export_format, user_id, plan.response_count)
    job.save()
    task = asyncio.create_task(_run(job, plan))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return job, task


async def _run(job: Job, plan) -> None:
    def count(rows: int) -> None:
        job.rows_done += rows
        job.save()

    heartbeat = asyncio.create_task(_keep_alive(job))
    try:
        await write_export(plan, job.format, job.output, on_progress=count)
        job.state = "done"
    except ExportError as refused:
        job.state, job.error = "failed", str(refused)
    except Exception:
        logger.exception("export job %s (%s, %s) failed", job.id, job.campaign, job.format)
        job.state, job.error = "failed", "Lỗi khi ghi tệp; hãy thử lại / the file could not be written; try again"
    finally:
        heartbeat.cancel()
    job.save()


async def _keep_alive(job: Job) -> None:
    """Re-save the state every HEARTBEAT_SECONDS: after the last row is read, pyreadstat or the XLSX writer may
    work for minutes with no rows to count, and a silent state would read as a dead worker's."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        job.save()


async def finished_soon(task: asyncio.Task) -> bool:
    """Whether the job ended within QUICK_SECONDS (it goes on either way: a page that stops waiting does not stop
    it, and asyncio.wait, unlike wait_for, never cancels it)."""
    done, _ = await asyncio.wait({task}, timeout=QUICK_SECONDS)
    return bool(done)


def find(job_id: str, user_id: int) -> Job | None:
    """The user's own job, or None (another analyst's job is as unknown as one that never existed). Old jobs are
    removed first, so a file nobody downloads goes after KEEP_SECONDS even if no one exports again."""
    remove_old_jobs()
    return _read(job_id, user_id)


def _read(job_id: str, user_id: int) -> Job | None:
    if len(job_id) != JOB_ID_LENGTH or not job_id.replace("-", "").replace("_", "").isalnum():
        return None
    path = _state_path(job_id)
    try:
        job = Job(**json.loads(path.read_text()))
        silent_seconds = time.time() - path.stat().st_mtime
    except (OSError, ValueError, TypeError):  # OSError: also a job another worker removed between the two reads
        return None
    if job.user_id != user_id:
        return None
    if job.state == "running" and silent_seconds > STALE_SECONDS:
        job.state, job.error = "failed", "Tiến trình xuất đã dừng; hãy xuất lại / the export stopped; start it again"
    return job


def _running_job(campaign_code: str, export_format: str, user_id: int) -> Job | None:
    """The user's job for this campaign and format that is still being written (by a live worker), if any."""
    for path in EXPORTS_DIR.glob("*.json"):
        job = _read(path.stem, user_id)
        if job and (job.campaign, job.format, job.state) == (campaign_code, export_format, "running"):
            return job
    return None


def remove(job: Job) -> None:
    job.output.unlink(missing_ok=True)
    _state_path(job.id).unlink(missing_ok=True)


def remove_old_jobs(now: float | None = None) -> None:
    """Everything under var/exports older than KEEP_SECONDS: states, outputs, and the partial files and scratch
    folders of a worker that died while writing."""
    if not EXPORTS_DIR.is_dir():  # no export has started on this machine yet
        return
    oldest = (now or time.time()) - KEEP_SECONDS
    for path in EXPORTS_DIR.iterdir():
        try:
            if path.stat().st_mtime >= oldest:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
        except FileNotFoundError:  # another worker removed it first
            pass


def _state_path(job_id: str) -> Path:
    return EXPORTS_DIR / f"{job_id}.json"
