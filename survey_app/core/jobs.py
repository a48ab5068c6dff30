"""Background jobs on the deployment's own job engine, behind one small interface.

- PostgreSQL: procrastinate, its jobs in the same database (its schema is a migration of ours);
- Redis (JOB_QUEUE=redis, REDIS_URL): SAQ;
- SQLite (the default): an in-process runner, asyncio tasks in the server. Its deferred jobs live in memory only,
  so every job must be safe to lose: what must survive a crash is a row written in the caller's own transaction
  (an outbox, say) and the job only says "look at the rows" (the periodic sweeps bring it back after a restart).

A task is an async function of JSON arguments, declared once with `@task("area.name")`; `defer(name, **args)` runs
it in the background, `dedupe_key` keeps at most one waiting job per key, `delay` (seconds) starts it later.
`every(name, seconds)` defers a task on a timer in each worker. On PostgreSQL and Redis the jobs are in the shared
store: any server's worker (or `survey worker`) may run them; each task must therefore tolerate running twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

logger = logging.getLogger("survey_app.jobs")
QUEUE = "survey"
RESTART_SECONDS = 5
# How long closing a worker waits for its running jobs before cancelling them. procrastinate's own default is
# to wait forever: a job stuck on a dead connection then holds the server's shutdown (and a test run) for good.
# A cancelled job runs again later, which every task must tolerate anyway (see above).
SHUTDOWN_SECONDS = 10.0
TaskFunction = Callable[..., Awaitable[object]]
TASKS: dict[str, TaskFunction] = {}
PERIODIC: dict[str, float] = {}  # task name → seconds between two defers in each worker
# The started engines, newest last: `defer` uses the newest. Usually one; a test may start a second app beside
# the suite's, and stopping it must give the first one back, not leave none.
_engines: list["Engine"] = []


def task(name: str) -> Callable[[TaskFunction], TaskFunction]:
    """Declare an async function of JSON-able keyword arguments as the task `name` (e.g. "webhooks.relay")."""
    def register(function: TaskFunction) -> TaskFunction:
        TASKS[name] = function
        return function
    return register


def every(name: str, seconds: float) -> None:
    """Defer task `name` every `seconds` in each running worker (at most one waiting at a time)."""
    PERIODIC[name] = seconds


def engine_kind(settings) -> str:
    """Which engine these settings choose: procrastinate, saq or in-process."""
    if settings.job_queue == "redis":
        return "saq"
    if settings.job_queue == "in-process" or settings.is_sqlite:
        return "in-process"
    return "procrastinate"


def build_engine(settings) -> "Engine":
    kind = engine_kind(settings)
    if kind == "saq":
        if not settings.redis_url:
            raise ValueError("JOB_QUEUE=redis needs REDIS_URL (redis://host:port/db)")
        return SaqEngine(settings.redis_url)
    if kind == "procrastinate":
        return ProcrastinateEngine(settings.database_url)
    return InProcessEngine()


async def start(settings, run_worker: bool = True) -> "Engine":
    """Open the engine these settings choose (and, unless told not to, a worker in this process)."""
    engine = build_engine(settings)
    engine.settings = settings
    await engine.open()
    if run_worker:
        await engine.start_worker()
    _engines.append(engine)
    return engine


async def stop(engine: "Engine | None" = None) -> None:
    """Close this engine (by default the newest); the one started before it is used again."""
    engine = engine or (_engines[-1] if _engines else None)
    if engine is None or engine not in _engines:  # never started, or closed already
        return
    _engines.remove(engine)
    await engine.close()


def is_running() -> bool:
    return bool(_engines)


def settings():
    """The settings the engine was started with: tasks read their options here (timeouts, retries)."""
    return current().settings


def current() -> "Engine":
    if not _engines:
        raise RuntimeError("the job engine is not started (survey_app.core.jobs.start)")
    return _engines[-1]


async def defer(name: str, *, dedupe_key: str | None = None, delay: float = 0, **arguments) -> None:
    """Run task `name` with these JSON arguments in the background, after the caller's commit."""
    if name not in TASKS:
        raise KeyError(f"no task named {name!r} (declare it with @jobs.task)")
    await current().defer(name, arguments, dedupe_key, delay)


async def run_task(name: str, arguments: dict) -> None:
    """Run one job now; a failure is logged, never raised into the engine (tasks keep their own retries)."""
    try:
        await TASKS[name](**arguments)
    except asyncio.CancelledError:
        raise
    except Exception:  # noqa: BLE001 - the engine must go on with the other jobs
        logger.exception("job %s failed", name)


class Engine:
    settings = None

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def defer(self, name: str, arguments: dict, dedupe_key: str | None, delay: float) -> None: ...
    async def start_worker(self) -> None: ...

    async def run_until_idle(self) -> None:
        """Run every job that is due (and those they defer) to the end: tests call this."""

    def _start_timers(self) -> list[asyncio.Task]:
        return [asyncio.create_task(self._every(name, seconds), name=f"every:{name}")
                for name, seconds in PERIODIC.items()]

    async def _every(self, name: str, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)  # first after one period: the server has migrated and started by then
            with contextlib.suppress(Exception):  # the store may be briefly unreachable: try again next time
                await self.defer(name, {}, f"every:{name}", 0)


@dataclass
class InProcessEngine(Engine):
    """asyncio tasks in this process: a deferred job waits in memory (lost on a crash, see the module's note)."""

    running: set[asyncio.Task] = field(default_factory=set)
    waiting_keys: set[str] = field(default_factory=set)
    timers: list[asyncio.Task] = field(default_factory=list)
    closed: bool = False

    async def defer(self, name, arguments, dedupe_key, delay) -> None:
        if self.closed or (dedupe_key is not None and dedupe_key in self.waiting_keys):
            return
        if dedupe_key is not None:
            self.waiting_keys.add(dedupe_key)
        job = asyncio.create_task(self._run(name, arguments, dedupe_key, delay), name=f"job:{name}")
        self.running.add(job)
        job.add_done_callback(self.running.discard)

    async def _run(self, name, arguments, dedupe_key, delay) -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        self.waiting_keys.discard(dedupe_key)  # from now on a new defer with this key waits for the next run
        await run_task(name, arguments)

    async def start_worker(self) -> None:
        self.timers = self._start_timers()

    async def run_until_idle(self) -> None:
        while due := [job for job in self.running if job is not asyncio.current_task()]:
            await asyncio.gather(*due, return_exceptions=True)

    async def close(self) -> None:
        self.closed = True
        for job in [*self.timers, *self.running]:
            job.cancel()
        await asyncio.gather(*self.timers, *self.running, return_exceptions=True)


class ProcrastinateEngine(Engine):
    """procrastinate on PostgreSQL: jobs in the procrastinate_jobs table of the same database."""

    def __init__(self, database_url: str, queue: str = QUEUE) -> None:
        import procrastinate

        self.queue = queue
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector(
            conninfo=database_url.replace("postgres://", "postgresql://", 1), min_size=1, max_size=4))
        for name in TASKS:
            self.app.task(name=name, queue=queue, pass_context=False)(_runner_of(name))
        self.worker: asyncio.Task | None = None
        self.timers: list[asyncio.Task] = []

    async def open(self) -> None:
        await self.app.open_async()

    async def defer(self, name, arguments, dedupe_key, delay) -> None:
        from procrastinate.exceptions import AlreadyEnqueued

        options = {"queueing_lock": dedupe_key} if dedupe_key else {}
        if delay > 0:
            options["schedule_in"] = {"seconds": delay}
        with contextlib.suppress(AlreadyEnqueued):  # one such job already waits: it will do
            await self.app.configure_task(name, **options).defer_async(**arguments)

    async def start_worker(self) -> None:
        self.worker = asyncio.create_task(self._work(), name="procrastinate-worker")
        self.timers = self._start_timers()

    async def _work(self) -> None:
        """The worker, started again after a failure (the database restarting, or its tables not yet migrated)."""
        while True:
            try:
                await self.app.run_worker_async(queues=[self.queue], concurrency=4, install_signal_handlers=False,
                                                fetch_job_polling_interval=1.0,
                                                shutdown_graceful_timeout=SHUTDOWN_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - logged; the jobs wait in the database meanwhile
                logger.warning("job worker stopped (%s); starting again in %s s", error, RESTART_SECONDS)
            await asyncio.sleep(RESTART_SECONDS)

    async def run_until_idle(self) -> None:
        await self.app.run_worker_async(queues=[self.queue], wait=False, install_signal_handlers=False)

    async def close(self) -> None:
        for running in [*self.timers, *([self.worker] if self.worker else [])]:
            running.cancel()
        await asyncio.gather(*self.timers, *([self.worker] if self.worker else []), return_exceptions=True)
        await self.app.close_async()


class SaqEngine(Engine):
    """SAQ on Redis: jobs in Redis, run by any server's worker or `survey worker`."""

    def __init__(self, redis_url: str, queue: str = QUEUE) -> None:
        from saq import Queue

        self.queue = Queue.from_url(redis_url, name=queue)
        self.worker = None
        self.worker_task: asyncio.Task | None = None
        self.timers: list[asyncio.Task] = []

    async def open(self) -> None:
        await self.queue.connect()

    async def defer(self, name, arguments, dedupe_key, delay) -> None:
        from saq import Job

        job = Job(function=name, kwargs=arguments, queue=self.queue, timeout=600, ttl=60,
                  scheduled=int(time.time() + delay) if delay > 0 else 0)
        if dedupe_key:
            job.key = dedupe_key  # SAQ refuses a second job with a key that is queued or running
        await self.queue.enqueue(job)

    def _saq_worker(self, burst: bool = False):
        from saq import Worker

        functions = [(name, _saq_function(name)) for name in TASKS]
        return Worker(self.queue, functions=functions, concurrency=4, burst=burst, dequeue_timeout=0.5 if burst else 0.0,
                      shutdown_grace_period_s=SHUTDOWN_SECONDS)

    async def start_worker(self) -> None:
        self.worker = self._saq_worker()
        self.worker_task = asyncio.create_task(self.worker.start(), name="saq-worker")
        self.timers = self._start_timers()

    async def run_until_idle(self) -> None:
        await self._saq_worker(burst=True).start()

    async def close(self) -> None:
        for timer in self.timers:
            timer.cancel()
        if self.worker is not None:
            await self.worker.stop()
        await asyncio.gather(*self.timers, *([self.worker_task] if self.worker_task else []),
                             return_exceptions=True)
        await self.queue.disconnect()


def _runner_of(name: str) -> TaskFunction:
    async def run(**arguments) -> None:
        await run_task(name, arguments)
    run.__name__ = run.__qualname__ = name.replace(".", "_")
    return run


def _saq_function(name: str) -> TaskFunction:
    async def run(ctx, **arguments) -> None:  # SAQ passes its context first
        await run_task(name, arguments)
    run.__name__ = run.__qualname__ = name.replace(".", "_")
    return run
