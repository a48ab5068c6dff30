"""Large paper print runs: more than services.MAX_COPIES copies become a job on the job engine with a progress page
("Đang in: N / M phiếu") and a ZIP of PDF parts when done; the copies are numbered when the run starts, so no
number is printed twice; only the analyst who started a run sees it. (The limits are lowered here so that a few
copies make a run of several parts: the same code paths as 1,000 copies, measured in benchmarks/paper.py.)"""

from __future__ import annotations

import asyncio
import io
import re
import secrets
import time
import zipfile

import pytest

from survey_app.core import progress_jobs
from survey_app.core.paper_tables import PaperCopy, PrintJob, PrintJobPart
from survey_app.core.tables import Campaign, User
from survey_app.paper import print_jobs, services
from tests.app.analyst_helpers import signed_in_client
from tests.app.helpers import post_form
from tests.app.test_slips import pdf_text

CAMPAIGN = "SIPAS-2026"
PAPER_PAGE = f"/analyst/campaigns/{CAMPAIGN}/paper"


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(services, "MAX_COPIES", 2)
    monkeypatch.setattr(print_jobs, "PART_COPIES", 2)


async def serials_of(campaign_code: str) -> list[int]:
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == campaign_code).first()
    rows = await PaperCopy.select(PaperCopy.serial).where(PaperCopy.campaign == campaign["id"])
    return sorted(row["serial"] for row in rows)


async def stored_run(claimed: int = 0, age: float = 0.0, **columns) -> str:
    """The analyst's running run of 1,200 copies with no task: unclaimed, it waits in the queue for good; claimed,
    its worker is gone. A test storing one removes it: it holds the analyst's one running place."""
    user = await User.select(User.id).where(User.username == "analyst").first()
    job_id, moment = secrets.token_urlsafe(16), time.time() - age
    await PrintJob.insert(PrintJob(job_id=job_id, campaign=CAMPAIGN, unit="SO01", user_id=user["id"],
                                   first_serial=900001, copies=1200, claimed=claimed, created_at=moment,
                                   updated_at=moment, **columns))
    return job_id


async def finished_page(client, page_path: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        page = await client.get(page_path)
        assert page.status_code == 200 and "In phiếu giấy — SIPAS-2026" in page.text
        if 'data-refresh=' not in page.text:
            return page
        assert ("Đang in: " in page.text or "Đang chờ đến lượt" in page.text) and time.monotonic() < deadline
        await asyncio.sleep(0.1)


async def test_a_large_run_is_a_job_with_progress_then_a_zip_of_numbered_pdfs(app, analyst, small_limits):
    before = await serials_of(CAMPAIGN)
    started = await post_form(analyst, f"{PAPER_PAGE}/print", {"unit": "SO01", "copies": "5"}, page_path=PAPER_PAGE)
    assert started.status_code == 303
    page_path = started.headers["location"]
    assert re.fullmatch(rf"{PAPER_PAGE}/runs/[A-Za-z0-9_-]{{22}}", page_path)
    numbers = list(range((before[-1] if before else 0) + 1, (before[-1] if before else 0) + 6))
    assert await serials_of(CAMPAIGN) == before + numbers  # numbered at once, before any PDF exists
    page = await finished_page(analyst, page_path)
    assert 'id="print-ready"' in page.text and "Đã in xong 5 phiếu" in page.text
    download = await analyst.get(f"{page_path}/file")
    label = f"{numbers[0]:06d}-{numbers[-1]:06d}"
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"] == f'attachment; filename="phieu-giay-{CAMPAIGN}-{label}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    names = archive.namelist()
    assert names == [f"phieu-giay-{CAMPAIGN}-{first:06d}-{min(first + 1, numbers[-1]):06d}.pdf"
                     for first in numbers[::2]]
    texts = [pdf_text(archive.read(name)) for name in names]
    printed = sorted(int(number) for text in texts for number in re.findall(r"Phiếu số: (\d{6})", text))
    assert printed == numbers  # each number once, none of the earlier ones
    small = await post_form(analyst, f"{PAPER_PAGE}/print", {"unit": "SO01", "copies": "1"}, page_path=PAPER_PAGE)
    assert small.status_code == 200 and small.headers["content-type"] == "application/pdf"
    assert f"Phiếu số: {numbers[-1] + 1:06d}" in pdf_text(small.content)


async def test_the_progress_page_counts_copies_and_another_analyst_cannot_see_the_run(app, analyst):
    job_id = await stored_run(claimed=1, copies_done=300)
    other = await signed_in_client(app, "admin")
    try:
        page = await analyst.get(f"{PAPER_PAGE}/runs/{job_id}")
        assert page.status_code == 200 and "Đang in: 300 / 1.200 phiếu." in page.text
        assert "phiếu số 900001 đến 901200" in page.text and 'data-refresh=' in page.text
        not_yet = await analyst.get(f"{PAPER_PAGE}/runs/{job_id}/file")
        assert not_yet.status_code == 404 and "chưa xong" in not_yet.text
        assert (await other.get(f"{PAPER_PAGE}/runs/{job_id}")).status_code == 404
        await PrintJob.update({PrintJob.updated_at: time.time() - progress_jobs.STALE_SECONDS - 1}).where(
            PrintJob.job_id == job_id)
        stopped = await analyst.get(f"{PAPER_PAGE}/runs/{job_id}")
        assert "Tiến trình in đã dừng" in stopped.text and 'data-refresh=' not in stopped.text
    finally:
        await other.aclose()
        await PrintJob.delete().where(PrintJob.job_id == job_id)


async def test_a_run_waiting_for_a_busy_worker_says_so_and_is_not_taken_for_stopped(app, analyst):
    """Not claimed yet (the workers run other jobs): however long past STALE_SECONDS, the page says the run waits
    and refreshes; only one still waiting after MAX_WAIT_SECONDS (its task lost) reads as stopped."""
    job_id = await stored_run(age=progress_jobs.STALE_SECONDS + 1)
    try:
        page = await analyst.get(f"{PAPER_PAGE}/runs/{job_id}")
        assert "Đang chờ đến lượt" in page.text
        assert 'data-refresh=' in page.text and "đã dừng" not in page.text
        await PrintJob.update({PrintJob.updated_at: time.time() - progress_jobs.MAX_WAIT_SECONDS - 1}).where(
            PrintJob.job_id == job_id)
        stopped = await analyst.get(f"{PAPER_PAGE}/runs/{job_id}")
        assert "Tiến trình in đã dừng" in stopped.text and 'data-refresh=' not in stopped.text
    finally:
        await PrintJob.delete().where(PrintJob.job_id == job_id)


async def test_an_analyst_runs_one_print_run_at_a_time(app, analyst, small_limits):
    """Two starts at once (a double click, or two servers) make one run; the other shows it, numbering nothing.
    Once it is done the analyst prints the next one."""
    before = await serials_of(CAMPAIGN)
    form = {"unit": "SO01", "copies": "5"}
    first, second = await asyncio.gather(post_form(analyst, f"{PAPER_PAGE}/print", form, page_path=PAPER_PAGE),
                                         post_form(analyst, f"{PAPER_PAGE}/print", form, page_path=PAPER_PAGE))
    assert first.status_code == second.status_code == 303
    locations = sorted([first.headers["location"], second.headers["location"]], key=len)
    assert locations[1] == f"{locations[0]}?busy=1"
    assert len(await serials_of(CAMPAIGN)) == len(before) + 5
    busy = await analyst.get(locations[1])
    assert "Chưa in đợt mới (không cấp số phiếu nào)" in busy.text
    await finished_page(analyst, locations[0])
    after = await post_form(analyst, f"{PAPER_PAGE}/print", form, page_path=PAPER_PAGE)
    assert after.status_code == 303 and "busy" not in after.headers["location"]
    await finished_page(analyst, after.headers["location"])
    assert len(await serials_of(CAMPAIGN)) == len(before) + 10


async def test_old_runs_are_removed_with_their_parts(app, analyst):
    job_id, old = secrets.token_urlsafe(16), time.time() - print_jobs.KEEP_SECONDS - 1
    await PrintJob.insert(PrintJob(job_id=job_id, campaign=CAMPAIGN, unit="SO01", user_id=1, first_serial=1,
                                   copies=1, state="done", created_at=old, updated_at=old))
    await PrintJob.raw("INSERT INTO print_job_part (job_id, first_serial, last_serial, content) VALUES "
                       "({}, 1, 1, {})", job_id, b"%PDF")
    await print_jobs.JOBS.remove_old()
    assert not await PrintJob.exists().where(PrintJob.job_id == job_id)
    assert not await PrintJobPart.exists().where(PrintJobPart.job_id == job_id)


async def test_a_run_delivered_twice_renders_once(app, analyst, small_limits, monkeypatch):
    rendered = []
    render = services.render

    async def counting_render(settings, campaign, questionnaire, unit, serials):
        rendered.append(list(serials))
        return await render(settings, campaign, questionnaire, unit, serials)

    monkeypatch.setattr(services, "render", counting_render)
    user = await User.select(User.id, User.username).where(User.username == "analyst").first()
    numbered = await services.number_copies(CAMPAIGN, "SO01", "3", "analyst", None)
    job_id, now = secrets.token_urlsafe(16), time.time()
    await PrintJob.insert(PrintJob(job_id=job_id, campaign=CAMPAIGN, unit="SO01", user_id=user["id"],
                                   first_serial=numbered.serials[0], copies=3, created_at=now, updated_at=now))
    await asyncio.gather(print_jobs.render_run(job_id), print_jobs.render_run(job_id))
    assert rendered == [numbered.serials[:2], numbered.serials[2:]]
    job = await print_jobs.find(job_id, user["id"])
    assert job.state == "done" and job.copies_done == 3


def test_the_command_line_takes_any_count_and_the_page_a_bounded_one():
    assert services.parse_copies("5000", None) == 5000
    with pytest.raises(services.PaperRefused) as refused:
        services.parse_copies(str(services.MAX_RUN + 1))
    assert "từ 1 đến 10.000" in refused.value.message_vi


def test_time_and_datetime_questions_get_their_own_field_hints_on_the_phone_and_on_paper():
    from questionnaires import load_definition
    from questionnaires.items import Item
    from survey_app.paper.printing import PrintedCopy, paper_pdf
    from tests.app.test_cascading_choices_page import rendered
    from tests.questionnaires.test_dates import TIMED

    arrived = Item(key="arrived", type="time", label={"vi": "Giờ đến", "en": "Arrival"})
    called = Item(key="called", type="datetime", label={"vi": "Gọi lúc", "en": "Called"})
    assert 'placeholder="hh:mm" inputmode="numeric"' in rendered(arrived)
    assert 'placeholder="dd/mm/yyyy hh:mm" value' in rendered(called)
    text = pdf_text(paper_pdf(load_definition(TIMED), "Đợt", "Đơn vị", [PrintedCopy(1, "https://x/p/1-1-a")]))
    assert "Lúc ....... giờ ....... phút" in text
    assert "Ngày ....... / ....... / ............... lúc ....... giờ ....... phút" in text
