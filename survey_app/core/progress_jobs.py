"""Background jobs an analyst watches on a progress page (exports' files, paper print runs): what they share.

A job is a row of its area's table (job_id, user_id, state, error, claimed, created_at, updated_at and the area's
own columns) and a task on the job engine (survey_app.core.jobs) given only the job's id. The row is inserted
running and unclaimed: the job waits in the engine's queue (updated_at: since when) for as long as the workers are
busy with other jobs. The task's delivery that claims the row (claimed = 1; any other delivery does nothing) works
and saves its progress often: a claimed job silent for STALE_SECONDS lost its worker. A job still unclaimed after
MAX_WAIT_SECONDS never will be (an in-process engine's queue dies with its server, or no worker runs). Either reads
as failed and is given up (state failed), so it no longer holds its analyst's one running place, which each table
keeps with a partial unique index on its running rows. Only the analyst who started a job sees it.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from piccolo.table import Table

STALE_SECONDS = 300
MAX_WAIT_SECONDS = 3600
JOB_ID_LENGTH = 22
SHARED_COLUMNS = "job_id AS id, user_id, state, error, claimed, updated_at"


def new_job_id() -> str:
    return secrets.token_urlsafe(16)  # JOB_ID_LENGTH characters


@dataclass(kw_only=True)
class ProgressJob:
    """What every job's page shows; an area's job adds its own fields, named as its table's columns are selected."""

    id: str
    user_id: int
    state: str = "running"  # running, done or failed
    error: str = ""
    claimed: bool = False  # False: the job still waits in the engine's queue

    @property
    def waiting(self) -> bool:
        return self.state == "running" and not self.claimed


@dataclass(frozen=True)
class JobTable:
    """One area's jobs: its table, its job class and which of its columns it reads, what a given-up job says."""

    table: type[Table]
    job_class: type[ProgressJob]
    columns: tuple[str, ...]  # the area's own columns, "column AS field" where the job's field is named otherwise
    progress: str  # the column (and field) that counts what a running job did
    stopped: str  # the error of a job given up
    keep_seconds: float  # every job is removed this long after it started
    parts: type[Table] | None = None  # a table of rows each job owns (by job_id), removed with it

    @property
    def name(self) -> str:
        return self.table._meta.tablename

    @property
    def selected(self) -> str:
        return f"{SHARED_COLUMNS}, {', '.join(self.columns)}"

    def job_of(self, row: dict) -> ProgressJob:
        """The job as its page shows it: a running one given up by now (see the module's docstring) as failed."""
        fields = dict(row)
        silent_seconds = time.time() - fields.pop("updated_at")
        job = self.job_class(**fields)
        if job.state == "running" and silent_seconds > (STALE_SECONDS if job.claimed else MAX_WAIT_SECONDS):
            job.state, job.error = "failed", self.stopped
        return job

    async def first(self, where: str, *values) -> ProgressJob | None:
        rows = await self.table.raw(f"SELECT {self.selected} FROM {self.name} WHERE {where}", *values)
        return self.job_of(rows[0]) if rows else None

    async def find(self, job_id: str, user_id: int) -> ProgressJob | None:
        """The user's own job, or None (another analyst's job is as unknown as one that never existed). Old jobs
        are removed first, so what nobody fetches goes after keep_seconds even if no one starts a job again."""
        await self.remove_old()
        if len(job_id) != JOB_ID_LENGTH:
            return None
        return await self.first("job_id = {} AND user_id = {}", job_id, user_id)

    async def insert_unless_running(self, job: ProgressJob) -> bool:
        """Insert the job, running and unclaimed; False when the table's partial unique index refuses it (this
        analyst's job of the same kind already runs, whichever server started it)."""
        now = time.time()
        pairs = [column.partition(" AS ") for column in self.columns]
        names = ", ".join(column for column, _, _ in pairs)
        values = [getattr(job, field or column) for column, _, field in pairs]
        inserted = await self.table.raw(
            f"INSERT INTO {self.name} (job_id, user_id, state, created_at, updated_at, {names}) VALUES "
            f"({{}}, {{}}, 'running', {{}}, {{}}, {', '.join('{}' for _ in values)}) ON CONFLICT DO NOTHING "
            "RETURNING id", job.id, job.user_id, now, now, *values)
        return bool(inserted)

    async def claim(self, job_id: str) -> ProgressJob | None:
        """The job, for the task's delivery that claims it; None for any other (or a job removed or given up)."""
        claimed = await self.table.raw(
            f"UPDATE {self.name} SET claimed = 1, updated_at = {{}} WHERE job_id = {{}} AND state = 'running' "
            f"AND claimed = 0 RETURNING {self.selected}", time.time(), job_id)
        return self.job_of(claimed[0]) if claimed else None

    async def save(self, job: ProgressJob) -> None:
        """The job's progress, state and error; saving also tells that its worker is alive. A job given up
        meanwhile stays given up (its worker was only slow): its analyst was told it stopped, and its running
        place may already be another job's."""
        await self.table.raw(
            f"UPDATE {self.name} SET {self.progress} = {{}}, state = {{}}, error = {{}}, updated_at = {{}} "
            "WHERE job_id = {} AND state = 'running'", getattr(job, self.progress), job.state, job.error,
            time.time(), job.id)

    async def give_up_dead(self) -> None:
        """Fail every running job given up by now, so it no longer holds its analyst's running place."""
        now = time.time()
        await self.table.raw(
            f"UPDATE {self.name} SET state = 'failed', error = {{}} WHERE state = 'running' AND "
            "((claimed = 1 AND updated_at < {}) OR (claimed = 0 AND updated_at < {}))",
            self.stopped, now - STALE_SECONDS, now - MAX_WAIT_SECONDS)

    async def remove_old(self) -> None:
        """Every job older than keep_seconds, its parts first (so no part is ever left without its job)."""
        old = self.table.created_at < time.time() - self.keep_seconds
        if self.parts is not None:
            old_ids = self.table.select(self.table.job_id).where(old)
            await self.parts.delete().where(self.parts.job_id.is_in(old_ids))
        await self.table.delete().where(old)
