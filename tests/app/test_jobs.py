"""The job engine (survey_app.core.jobs): a deferred task runs once with its arguments, a dedupe key keeps one
waiting job, a delay starts it later; on the in-process runner, on procrastinate (PostgreSQL runs) and SAQ (Redis)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import pytest

from survey_app.core import jobs
from tests.app.helpers import require_redis
from tests.conftest import TEST_DATABASE_URL

TEST_REDIS_URL = os.environ.get("TEST_JOBS_REDIS_URL", "redis://127.0.0.1:6379/3")
CALLS: list[tuple[str, dict, float]] = []


@jobs.task("tests.record")
async def record(**arguments) -> None:
    CALLS.append(("record", arguments, time.monotonic()))


@jobs.task("tests.fail")
async def fail(**arguments) -> None:
    raise RuntimeError("a task that fails")


@jobs.task("tests.hang")
async def hang(**arguments) -> None:
    CALLS.append(("hang", arguments, time.monotonic()))
    await asyncio.Event().wait()  # as a job stuck on a connection that never answers


# procrastinate keeps its jobs in PostgreSQL: it is tested in the suite's PostgreSQL run
ENGINES = ["in-process", "saq"] + (["procrastinate"] if TEST_DATABASE_URL.startswith("postgres") else [])


async def opened_engine(name: str, settings) -> jobs.Engine:
    queue = f"test-{uuid.uuid4().hex[:8]}"  # the suite's own server worker never takes these jobs
    if name == "saq":
        await require_redis(TEST_REDIS_URL, "TEST_JOBS_REDIS_URL")
        engine = jobs.SaqEngine(TEST_REDIS_URL, queue=queue)
    elif name == "procrastinate":
        engine = jobs.ProcrastinateEngine(settings.database_url, queue=queue)
    else:
        engine = jobs.InProcessEngine()
    await engine.open()
    return engine


@pytest.fixture(params=ENGINES)
async def engine(request, app, settings):
    opened = await opened_engine(request.param, settings)
    CALLS.clear()
    yield opened
    await opened.close()


async def test_a_deferred_task_runs_once_with_its_arguments(engine):
    await engine.defer("tests.record", {"campaign": "QUAY-2026", "rows": [1, 2]}, None, 0)
    await engine.run_until_idle()
    assert [(name, arguments) for name, arguments, _ in CALLS] == [
        ("record", {"campaign": "QUAY-2026", "rows": [1, 2]})]


async def test_a_dedupe_key_keeps_one_waiting_job(engine):
    for number in range(3):
        await engine.defer("tests.record", {"number": number}, "one-at-a-time", 0)
    await engine.defer("tests.record", {"number": 9}, None, 0)
    await engine.run_until_idle()
    assert sorted(arguments["number"] for _, arguments, _ in CALLS) == [0, 9]


async def test_a_failing_task_does_not_stop_the_others(engine):
    await engine.defer("tests.fail", {}, None, 0)
    await engine.defer("tests.record", {"after": "failure"}, None, 0)
    await engine.run_until_idle()
    assert [arguments for _, arguments, _ in CALLS] == [{"after": "failure"}]


async def test_a_delayed_job_waits(engine):
    deferred_at = time.monotonic()
    await engine.defer("tests.record", {"late": True}, None, 1.5)
    await engine.run_until_idle()
    if not CALLS:  # the stores' workers take only what is due: wait for it to be due, then run it
        await asyncio.sleep(1.6)
        await engine.run_until_idle()
    assert len(CALLS) == 1 and CALLS[0][2] - deferred_at >= 1.4


async def test_the_worker_runs_jobs_deferred_later_and_timers(engine):
    jobs.every("tests.record", 0.2)
    try:
        await engine.start_worker()
        deadline = time.monotonic() + 15  # a loaded test machine may take a while; two runs are the point
        while len(CALLS) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
    finally:
        jobs.PERIODIC.pop("tests.record")
    assert len(CALLS) >= 2  # the timer deferred it again after the first run


async def test_closing_a_worker_whose_job_never_ends_takes_bounded_time(engine, monkeypatch):
    # procrastinate waited for such a job forever: a server's shutdown (and the suite's PostgreSQL run) hung
    monkeypatch.setattr(jobs, "SHUTDOWN_SECONDS", 0.5)
    await engine.start_worker()
    await engine.defer("tests.hang", {}, None, 0)
    deadline = time.monotonic() + 15
    while not CALLS and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert CALLS, "the worker never started the job"
    started = time.monotonic()
    await asyncio.wait_for(engine.close(), timeout=10)
    assert time.monotonic() - started < 10


def test_the_settings_choose_the_engine(settings):
    import dataclasses

    assert jobs.engine_kind(dataclasses.replace(settings, database_url="sqlite:///x.db")) == "in-process"
    assert jobs.engine_kind(dataclasses.replace(settings, database_url="postgresql://h/d")) == "procrastinate"
    assert jobs.engine_kind(dataclasses.replace(settings, job_queue="redis")) == "saq"
    with pytest.raises(ValueError, match="REDIS_URL"):
        jobs.build_engine(dataclasses.replace(settings, job_queue="redis", redis_url=""))
