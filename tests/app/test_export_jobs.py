"""File exports as jobs: a quick one is sent at once, a long one shows its progress, only its analyst sees it."""

from __future__ import annotations

import asyncio
import io
import os
import re
import time
from pathlib import Path

import openpyxl
import pyreadstat
import pytest

from survey_app.exports import jobs
from survey_app.core.tables import Campaign, Response, User


@pytest.fixture(autouse=True)
def exports_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "EXPORTS_DIR", tmp_path)
    return tmp_path


async def stored_count(code: str) -> int:
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == code).first()
    return await Response.count().where(Response.campaign == campaign["id"])


async def analyst_id() -> int:
    return (await User.select(User.id).where(User.username == "analyst").first())["id"]


async def test_a_quick_export_is_sent_at_once_and_leaves_nothing_on_the_server(analyst, exports_dir):
    response = await analyst.get("/analyst/campaigns/QUAY-2026/export/sav")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/x-spss-sav")
    assert response.headers["content-disposition"] == 'attachment; filename="QUAY-2026.sav"'
    path = exports_dir / "sent.sav"
    path.write_bytes(response.content)
    assert len(pyreadstat.read_sav(str(path))[0]) == await stored_count("QUAY-2026")
    path.unlink()
    assert list(exports_dir.iterdir()) == []  # the file and its state are removed once sent


async def test_a_long_export_shows_progress_then_a_link_to_the_file(analyst, exports_dir, monkeypatch):
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
        assert 'http-equiv="refresh"' in page.text and "<progress" in page.text
        await asyncio.sleep(0.05)
    assert 'http-equiv="refresh"' not in page.text
    download = await analyst.get(f"{page_path}/file")
    assert download.status_code == 200
    assert download.headers["content-disposition"] == 'attachment; filename="QUAY-2026.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(download.content), read_only=True)["du_lieu"]
    assert sheet.max_row - 1 == await stored_count("QUAY-2026")
    assert list(exports_dir.iterdir()) == []
    again = await analyst.get(f"{page_path}/file")
    assert again.status_code == 404 and "đã tải về" in again.text


async def test_the_progress_page_counts_rows_in_vietnamese(analyst):
    job = jobs.Job("a" * 22, "QUAY-2026", "dta", await analyst_id(), rows_total=1_200_000, rows_done=35_000)
    job.save()
    page = await analyst.get(f"/analyst/exports/{job.id}")
    assert "Đã xử lý 35.000 / 1.200.000 phiếu (3 %)." in page.text
    assert 'http-equiv="refresh" content="2"' in page.text
    assert (await analyst.get(f"/analyst/exports/{job.id}/file")).status_code == 404  # not written yet


async def test_another_analysts_export_is_unknown(analyst, exports_dir):
    job = jobs.Job("b" * 22, "QUAY-2026", "sav", user_id=-1, rows_total=10, state="done")
    job.save()
    job.output.write_bytes(b"officials' answers")
    for path in (f"/analyst/exports/{job.id}", f"/analyst/exports/{job.id}/file"):
        assert (await analyst.get(path)).status_code == 404
    assert (await analyst.get("/analyst/exports/..%2F..%2Fsecret_key")).status_code == 404
    assert job.output.exists()


async def test_a_job_whose_worker_died_reads_as_failed(analyst):
    job = jobs.Job("c" * 22, "QUAY-2026", "sav", await analyst_id(), rows_total=100, rows_done=10)
    job.save()
    long_ago = time.time() - jobs.STALE_SECONDS - 1
    os.utime(jobs.EXPORTS_DIR / f"{job.id}.json", (long_ago, long_ago))
    page = await analyst.get(f"/analyst/exports/{job.id}")
    assert "Tiến trình xuất đã dừng" in page.text and 'http-equiv="refresh"' not in page.text


async def test_an_empty_campaign_is_refused_before_any_job(analyst, exports_dir):
    response = await analyst.get("/analyst/campaigns/KHONG-CO/export/dta")
    assert response.status_code == 422 and "KHONG-CO" in response.text
    assert list(exports_dir.iterdir()) == []


def test_old_jobs_are_removed_recent_ones_kept(exports_dir):
    old_state, old_scratch, recent = exports_dir / "old.json", exports_dir / ".chunks-x", exports_dir / "new.sav"
    old_state.write_text("{}")
    old_scratch.mkdir()
    (old_scratch / "spool").write_bytes(b"answers")
    recent.write_bytes(b"answers")
    long_ago = time.time() - jobs.KEEP_SECONDS - 1
    for path in (old_state, old_scratch):
        os.utime(path, (long_ago, long_ago))
    jobs.remove_old_jobs()
    assert list(exports_dir.iterdir()) == [recent]


def test_a_state_removed_by_another_worker_while_read_is_not_found(exports_dir, monkeypatch):
    job = jobs.Job("e" * 22, "QUAY-2026", "sav", user_id=1, rows_total=10)
    job.save()
    read_text = Path.read_text

    def read_then_removed(path, *args, **kwargs):
        text = read_text(path, *args, **kwargs)
        path.unlink()  # another worker sent the file and removed the job right after this read
        return text

    monkeypatch.setattr(Path, "read_text", read_then_removed)
    assert jobs.find(job.id, user_id=1) is None


async def test_asking_for_any_job_removes_old_ones(analyst, exports_dir, monkeypatch):
    """A finished file nobody downloads is removed after KEEP_SECONDS even when no one exports again."""
    job = jobs.Job("f" * 22, "QUAY-2026", "sav", await analyst_id(), rows_total=10, state="done")
    job.save()
    job.output.write_bytes(b"officials' answers")
    long_ago = time.time() - jobs.KEEP_SECONDS - 1
    for path in (job.output, exports_dir / f"{job.id}.json"):
        os.utime(path, (long_ago, long_ago))
    assert (await analyst.get(f"/analyst/exports/{'g' * 22}")).status_code == 404
    assert list(exports_dir.iterdir()) == []
    monkeypatch.setattr(jobs, "EXPORTS_DIR", exports_dir / "never-made")  # no export ever started here
    assert (await analyst.get(f"/analyst/exports/{job.id}/file")).status_code == 404


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
    await asyncio.gather(*jobs._running)  # each job ends in this test's folder, not the next test's


async def test_a_job_writing_without_reading_rows_is_not_taken_for_dead(analyst, slow_writer, monkeypatch):
    monkeypatch.setattr(jobs, "STALE_SECONDS", 0.3)
    monkeypatch.setattr(jobs, "HEARTBEAT_SECONDS", 0.05)
    started = await analyst.get("/analyst/campaigns/QUAY-2026/export/sav")
    await asyncio.sleep(0.6)
    page = await analyst.get(started.headers["location"])
    assert "Tiến trình xuất đã dừng" not in page.text and 'http-equiv="refresh"' in page.text


async def test_a_second_click_shows_the_running_export_instead_of_starting_another(analyst, exports_dir,
                                                                                      slow_writer):
    dead = jobs.Job("d" * 22, "QUAY-2026", "sav", await analyst_id(), rows_total=10)
    dead.save()
    long_ago = time.time() - jobs.STALE_SECONDS - 1
    os.utime(exports_dir / f"{dead.id}.json", (long_ago, long_ago))
    first = await analyst.get("/analyst/campaigns/QUAY-2026/export/sav")
    again = await analyst.get("/analyst/campaigns/QUAY-2026/export/sav")
    other_format = await analyst.get("/analyst/campaigns/QUAY-2026/export/dta")
    assert first.status_code == again.status_code == 303
    assert again.headers["location"] == first.headers["location"] != f"/analyst/exports/{dead.id}"
    assert other_format.headers["location"] != first.headers["location"]
    assert len(list(exports_dir.glob("*.json"))) == 3  # the dead one, the sav and the dta
