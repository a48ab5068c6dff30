"""File exports as jobs: a quick one is sent at once, a long one shows its progress, only its analyst sees it; jobs
and their files live in the database, so every worker and server shares them and no file stays on a server."""

from __future__ import annotations

import asyncio
import io
import os
import re
import secrets
import tempfile
import time
from pathlib import Path

import httpx
import openpyxl
import pyreadstat
import pytest

from survey_app.core import jobs as core_jobs, progress_jobs
from survey_app.exports import jobs
from survey_app.core.export_tables import ExportJob
from survey_app.core.tables import Campaign, Response, User
from tests.app.helpers import started_app
from tests.conftest import TEST_DATABASE_URL


async def stored_count(code: str) -> int:
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == code).first()
    return await Response.count().where(Response.campaign == campaign["id"])


async def analyst_id() -> int:
    return (await User.select(User.id).where(User.username == "analyst").first())["id"]


def export_folders() -> set[str]:
    return {path.name for path in Path(tempfile.gettempdir()).glob("survey-export-*")}


async def stored_job(user_id: int, rows_total: int = 10, rows_done: int = 0, state: str = "running",
                     age: float = 0.0, content: bytes | None = None, export_format: str = "sav",
                     claimed: int = 0) -> str:
    """A job with no task: unclaimed, it waits in the queue for good; claimed, its worker is gone."""
    job_id, moment = secrets.token_urlsafe(16), time.time() - age
    await ExportJob.insert(ExportJob(job_id=job_id, campaign="QUAY-2026", export_format=export_format,
                                     user_id=user_id, rows_total=rows_total, rows_done=rows_done, state=state,
                                     updated_at=moment, created_at=moment, claimed=claimed))
    if content is not None:
        await ExportJob.raw("UPDATE export_job SET content = {} WHERE job_id = {}", content, job_id)
    return job_id


async def all_written(timeout: float = 30.0) -> None:
    """Wait until no claimed export job runs: the engine's worker (in this process, on every engine) writes them
    (rows stored by stored_job have no task: a test storing a claimed running one removes it)."""
    deadline = time.monotonic() + timeout
    while await ExportJob.exists().where((ExportJob.state == "running") & (ExportJob.claimed == 1)):
        assert time.monotonic() < deadline, "an export job still runs"
        await asyncio.sleep(0.05)


async def job_exists(job_id: str) -> bool:
    return await ExportJob.exists().where(ExportJob.job_id == job_id)


async def test_a_quick_export_is_sent_at_once_and_leaves_nothing_behind(analyst, tmp_path):
    folders_before, jobs_before = export_folders(), await ExportJob.count()
    response = await analyst.get("/analyst/campaigns/QUAY-2026/export/sav")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-spss-sav")
    assert response.headers["content-disposition"] == 'attachment; filename="QUAY-2026.sav"'
    path = tmp_path / "sent.sav"
    path.write_bytes(response.content)
    assert len(pyreadstat.read_sav(str(path))[0]) == await stored_count("QUAY-2026")
    assert await ExportJob.count() == jobs_before  # the job and its file are removed once sent
    assert export_folders() <= folders_before  # and no file of answers stays in a folder of this server


async def test_a_long_export_shows_progress_then_a_link_to_the_file(analyst, monkeypatch):
    monkeypatch.setattr(jobs, "QUICK_SECONDS", 0)  # as if the campaign were large
    started = await analyst.get("/analyst/campaigns/QUAY-2026/export/xlsx")
    assert started.status_code == 303
    page_path = started.headers["location"]
    assert re.fullmatch(r"/analyst/exports/[A-Za-z0-9_-]{22}", page_path)
    for _ in range(200):
        page = await analyst.get(page_path)
        assert page.status_code == 200 and "Xuất dữ liệu QUAY-2026 (Excel)" in page.text
        if 'id="export-ready"' in page.text:
            break
        assert 'data-refresh=' in page.text  # waiting for the engine's worker, then writing:
        assert 'id="export-waiting"' in page.text or "<progress" in page.text
        await asyncio.sleep(0.05)
    assert 'data-refresh=' not in page.text
    download = await analyst.get(f"{page_path}/file")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="QUAY-2026.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(download.content), read_only=True)["du_lieu"]
    assert sheet.max_row - 1 == await stored_count("QUAY-2026")
    assert not await job_exists(page_path.rsplit("/", 1)[1])
    again = await analyst.get(f"{page_path}/file")
    assert again.status_code == 404 and "đã tải về" in again.text


async def test_the_progress_page_counts_rows_in_vietnamese(analyst):
    job_id = await stored_job(await analyst_id(), rows_total=1_200_000, rows_done=35_000, export_format="dta",
                              claimed=1)
    try:
        page = await analyst.get(f"/analyst/exports/{job_id}")
        assert "Đã xử lý 35.000 / 1.200.000 phiếu (3 %)." in page.text
        assert 'data-refresh="2"' in page.text
        assert (await analyst.get(f"/analyst/exports/{job_id}/file")).status_code == 404  # not written yet
    finally:
        await ExportJob.delete().where(ExportJob.job_id == job_id)


async def test_another_analysts_export_is_unknown(analyst):
    job_id = await stored_job(user_id=-1, state="done", content=b"officials' answers")
    for path in (f"/analyst/exports/{job_id}", f"/analyst/exports/{job_id}/file"):
        assert (await analyst.get(path)).status_code == 404
    assert (await analyst.get("/analyst/exports/..%2F..%2Fsecret_key")).status_code == 404
    assert await job_exists(job_id)


async def test_a_job_whose_worker_died_reads_as_failed(analyst):
    job_id = await stored_job(await analyst_id(), rows_total=100, rows_done=10, age=progress_jobs.STALE_SECONDS + 1,
                              claimed=1)
    try:
        page = await analyst.get(f"/analyst/exports/{job_id}")
        assert "Tiến trình xuất đã dừng" in page.text and 'data-refresh=' not in page.text
    finally:
        await ExportJob.delete().where(ExportJob.job_id == job_id)


async def test_a_job_waiting_for_a_busy_worker_says_so_and_keeps_its_place(analyst):
    """Not claimed yet (the workers run other jobs), a job is not dead however long past STALE_SECONDS: its page says
    it waits and refreshes, and a second click shows it instead of giving it up for another. Only one still waiting
    after MAX_WAIT_SECONDS (its task lost) is given up, and the next click starts an export again."""
    waiting = await stored_job(await analyst_id(), age=progress_jobs.STALE_SECONDS + 1)
    try:
        page = await analyst.get(f"/analyst/exports/{waiting}")
        assert "Đang chờ đến lượt" in page.text
        assert 'data-refresh=' in page.text and "đã dừng" not in page.text
        again = await analyst.get("/analyst/campaigns/QUAY-2026/export/sav")
        assert again.status_code == 303 and again.headers["location"] == f"/analyst/exports/{waiting}"
        await ExportJob.update({ExportJob.updated_at: time.time() - progress_jobs.MAX_WAIT_SECONDS - 1}).where(
            ExportJob.job_id == waiting)
        page = await analyst.get(f"/analyst/exports/{waiting}")
        assert "Tiến trình xuất đã dừng" in page.text and 'data-refresh=' not in page.text
        sent = await analyst.get("/analyst/campaigns/QUAY-2026/export/sav")
        assert sent.status_code == 200 and sent.headers["content-type"].startswith("application/x-spss-sav")
    finally:
        await ExportJob.delete().where(ExportJob.job_id == waiting)


async def test_a_job_given_up_stays_given_up_when_its_slow_worker_saves_again(analyst):
    job_id = await stored_job(await analyst_id(), rows_done=3, age=progress_jobs.STALE_SECONDS + 1, claimed=1)
    try:
        await jobs.JOBS.give_up_dead()
        job = await jobs.JOBS.first("job_id = {}", job_id)
        job.rows_done, job.state, job.error = 9, "running", ""  # what the slow worker still holds
        await jobs.JOBS.save(job)
        page = await analyst.get(f"/analyst/exports/{job_id}")
        assert "Tiến trình xuất đã dừng" in page.text and 'data-refresh=' not in page.text
    finally:
        await ExportJob.delete().where(ExportJob.job_id == job_id)


async def test_an_empty_campaign_is_refused_before_any_job(analyst):
    before = await ExportJob.count()
    response = await analyst.get("/analyst/campaigns/KHONG-CO/export/dta")
    assert response.status_code == 422 and "KHONG-CO" in response.text
    assert await ExportJob.count() == before


async def test_asking_for_any_job_removes_old_ones_with_their_files(analyst):
    """A finished file nobody downloads is removed after KEEP_SECONDS even when no one exports again."""
    old = await stored_job(await analyst_id(), state="done", content=b"answers", age=jobs.KEEP_SECONDS + 1)
    recent = await stored_job(await analyst_id(), state="done", content=b"answers")
    assert (await analyst.get(f"/analyst/exports/{'g' * 22}")).status_code == 404
    assert not await job_exists(old) and await job_exists(recent)
    assert (await analyst.get(f"/analyst/exports/{old}/file")).status_code == 404


@pytest.fixture
async def slow_writer(monkeypatch):
    """Every export writes for as long as the test holds `release` unset, reading no rows meanwhile (as pyreadstat
    or the XLSX writer finishing the file after the last row); a long export as far as the job can tell."""
    release = asyncio.Event()

    async def write_export(plan, export_format, out, on_progress=None):
        await release.wait()
        out.write_bytes(b"answers")

    monkeypatch.setattr(jobs, "write_export", write_export)
    monkeypatch.setattr(jobs, "QUICK_SECONDS", 0)
    yield release
    release.set()
    await all_written()


async def test_a_job_writing_without_reading_rows_is_not_taken_for_dead(analyst, slow_writer, monkeypatch):
    monkeypatch.setattr(progress_jobs, "STALE_SECONDS", 0.3)
    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.05)
    started = await analyst.get("/analyst/campaigns/QUAY-2026/export/sav")
    await asyncio.sleep(0.6)
    page = await analyst.get(started.headers["location"])
    assert "Tiến trình xuất đã dừng" not in page.text and 'data-refresh=' in page.text


async def test_a_double_click_reaching_two_servers_starts_one_job_both_can_show_and_send(app, settings, analyst,
                                                                                           slow_writer):
    dead = await stored_job(await analyst_id(), age=progress_jobs.STALE_SECONDS + 1, claimed=1)
    async with started_app(app, settings) as other_server:
        second = httpx.AsyncClient(transport=httpx.ASGITransport(app=other_server), base_url="http://testserver",
                                   cookies=analyst.cookies)
        first_click, second_click = await asyncio.gather(
            analyst.get("/analyst/campaigns/QUAY-2026/export/sav"),
            second.get("/analyst/campaigns/QUAY-2026/export/sav"))
        other_format = await analyst.get("/analyst/campaigns/QUAY-2026/export/dta")
        page_path = first_click.headers["location"]
        assert first_click.status_code == second_click.status_code == 303
        assert second_click.headers["location"] == page_path != f"/analyst/exports/{dead}"
        assert other_format.headers["location"] != page_path
        slow_writer.set()
        await all_written()
        shown_elsewhere = await second.get(page_path)
        sent_elsewhere = await second.get(f"{page_path}/file")
        await second.aclose()
    assert 'id="export-ready"' in shown_elsewhere.text
    assert sent_elsewhere.status_code == 200 and sent_elsewhere.content == b"answers"


async def test_the_writing_is_a_task_of_the_job_engine_given_only_the_job_id(analyst, monkeypatch):
    """Not an asyncio task of the clicked server: a job deferred on the deployment's engine (on PostgreSQL a row of
    procrastinate_jobs that the app's own worker runs), with nothing personal in its arguments."""
    deferred = []
    defer = jobs.engine.defer

    async def recording_defer(name, **arguments):
        deferred.append((name, arguments))
        await defer(name, **arguments)

    monkeypatch.setattr(jobs.engine, "defer", recording_defer)
    response = await analyst.get("/analyst/campaigns/QUAY-2026/export/sav")
    assert response.status_code == 200 and response.content
    [(name, arguments)] = deferred
    assert name == "exports.write" and list(arguments) == ["job_id"]
    assert len(arguments["job_id"]) == progress_jobs.JOB_ID_LENGTH
    if TEST_DATABASE_URL.startswith("postgres"):
        rows = await ExportJob.raw("SELECT status FROM procrastinate_jobs WHERE task_name = 'exports.write' "
                                   "AND args ->> 'job_id' = {}", arguments["job_id"])
        assert [row["status"] for row in rows] == ["succeeded"]


async def test_a_task_delivered_twice_writes_the_file_once_with_the_rows_threshold(analyst, monkeypatch):
    writes, thresholds = [], []
    plan_for_format = jobs.plan_for_format

    async def write_export(plan, export_format, out, on_progress=None):
        writes.append(export_format)
        await asyncio.sleep(0.1)
        out.write_bytes(b"answers")

    async def recording_plan(campaign_code, export_format, minimum):
        thresholds.append(minimum)
        return await plan_for_format(campaign_code, export_format, minimum)

    monkeypatch.setattr(jobs, "write_export", write_export)
    monkeypatch.setattr(jobs, "plan_for_format", recording_plan)
    job_id = await stored_job(await analyst_id())
    await ExportJob.update({ExportJob.suppress_below: 7}).where(ExportJob.job_id == job_id)
    await asyncio.gather(jobs.write(job_id), jobs.write(job_id))
    await jobs.write(job_id)
    assert writes == ["sav"] and thresholds == [7]
    job = await jobs.find(job_id, await analyst_id())
    assert job.state == "done" and await jobs.file_content(job) == b"answers"


async def test_with_job_queue_redis_the_saq_worker_writes_the_file(analyst, tmp_path):
    """JOB_QUEUE=redis: the SAQ engine's worker runs exports.write (a queue of its own: the suite's worker never
    takes it)."""
    engine = core_jobs.SaqEngine(os.environ.get("TEST_EXPORTS_REDIS_URL", "redis://127.0.0.1:6379/11"),
                                 queue=f"test-exports-{secrets.token_hex(4)}")
    await engine.open()
    try:
        job_id = await stored_job(await analyst_id())
        await engine.defer("exports.write", {"job_id": job_id}, None, 0)
        await engine.run_until_idle()
    finally:
        await engine.close()
    job = await jobs.find(job_id, await analyst_id())
    assert job.state == "done" and job.rows_done == await stored_count("QUAY-2026")
    path = tmp_path / "sent.sav"
    path.write_bytes(await jobs.file_content(job))
    assert len(pyreadstat.read_sav(str(path))[0]) == await stored_count("QUAY-2026")
