"""`survey report`: the PDF's text is Vietnamese (NFC), its figures equal the index API's, small groups are hidden."""

from __future__ import annotations

import asyncio
import dataclasses
import html
import io
import json
import os
import re
import subprocess
import sys
import threading
import unicodedata
import uuid
from pathlib import Path

import pypdf
import pytest
import pytest_asyncio
from cachetools import LRUCache

from survey_app.exports import report as report_module
from survey_app.exports.report import NOT_ENOUGH, ReportError, Target, build_report, read_targets
from survey_app.core.tables import Campaign, Response
from survey_app.results.figures import fold_again
from tests.app.analyst_helpers import officials_parent_and_child, signed_in_client
from tests.app.helpers import started_app

SURVEY = Path(sys.executable).parent / "survey"


def pdf_text(data: bytes) -> str:
    return unicodedata.normalize("NFC", "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages))


async def reset_weights(campaign_code: str) -> None:
    campaign = await Campaign.select(Campaign.id).where(Campaign.code == campaign_code).first()
    await Response.update({Response.weight: 1.0}).where(Response.campaign == campaign["id"])
    await fold_again(campaign["id"])


@pytest_asyncio.fixture(scope="module")
async def sipas_report(app):
    """One report of the demo SIPAS campaign with every weight 1, as the index API assumes."""
    await reset_weights("SIPAS-2026")
    return await build_report("SIPAS-2026")


async def test_pdf_text_has_the_vietnamese_title_and_unit_names(sipas_report):
    report = sipas_report
    text = pdf_text(report.pdf)
    assert "Báo cáo kết quả khảo sát mức độ hài lòng" in text
    for name in ("Sở Lao động - Thương binh và Xã hội", "Huyện Krông Nô", "Xã Tịnh Ấn", "Tỉnh Minh Họa"):
        assert name in text, name
    assert report.facts["made_on"].count("/") == 2 and report.facts["made_on"] in text
    assert "<h1>Báo cáo kết quả khảo sát" in report.html and "Huyện Krông Nô" in report.html


async def test_report_figures_equal_the_index_api(sipas_report, client):
    report = sipas_report
    text = pdf_text(report.pdf)
    for row in report.units + [report.province]:
        code = "DEMO" if row is report.province else row.code
        api = (await client.get(f"/api/v1/units/{code}/index", params={"campaign": "SIPAS-2026"})).json()
        assert row.responses == api["index"]["response_count"], code
        assert row.overall == pytest.approx(api["index"]["overall"]), code
        assert f"{row.overall:.1f}".replace(".", ",") in text


def ranking_rows(page: str) -> list[tuple[str, str, bool]]:
    """(rank, unit name, shows a figure) of each row of the report's unit ranking."""
    section = page.split("<h2>6. Xếp hạng đơn vị</h2>")[1].split("<h2>7.")[0]
    return [(rank, html.unescape(name), "not-enough" not in cells) for rank, name, cells in
            re.findall(r'<tr>\s*<td class="num">(\d*)</td>\s*<td>(.*?)</td>(.*?)</tr>', section, re.S)]


async def test_suppress_below_hides_units_the_default_shows_and_leaves_them_unranked(app, settings, sipas_report):
    smallest = min(row.responses for row in sipas_report.units)
    hidden = {row.name for row in sipas_report.units if row.responses == smallest}
    assert all(row.shown and row.rank for row in sipas_report.units if row.name in hidden)
    async with started_app(app, dataclasses.replace(settings, suppress_below=smallest + 1)) as strict:
        analyst = await signed_in_client(strict, "analyst")
        page = (await analyst.get("/analyst/campaigns/SIPAS-2026/report.html")).text
        await analyst.aclose()
    rows = ranking_rows(page)
    assert len(rows) == len(sipas_report.units)
    assert {name for _, name, shown in rows if not shown} == hidden
    assert all(rank == "" for rank, name, _ in rows if name in hidden)
    ranks = sorted(int(rank) for rank, _, _ in rows if rank)
    assert ranks[0] == 1 and len(ranks) == len(rows) - len(hidden)
    assert f"Nhóm có dưới {smallest + 1} phiếu ghi “{NOT_ENOUGH}”" in page


async def test_targets_are_judged_and_a_bad_targets_file_is_refused(app, tmp_path):
    report = await build_report("SIPAS-2026", [Target("province", 10.0), Target("domain", 99.9, ">", "dat_dai")])
    assert [target["met"] for target in report.targets] == [True, False]
    good = tmp_path / "targets.yaml"
    good.write_text("- {scope: province, value: 90}\n- {scope: domain, key: dau_tu, value: 84, operator: '>'}\n")
    assert read_targets(good) == [Target("province", 90.0), Target("domain", 84.0, ">", "dau_tu")]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {scope: domain, value: 84}\n")
    with pytest.raises(ReportError, match="target 1"):
        read_targets(bad)
    with pytest.raises(ReportError, match="no campaign"):
        await build_report("NO-SUCH")


async def test_report_command_writes_html_and_pdf(app, settings, tmp_path):
    environment = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key,
                   "SUPPRESS_BELOW": "100000"}
    result = subprocess.run([str(SURVEY), "report", "QUAY-2026", "--out", str(tmp_path / "r")], capture_output=True,
                            text=True, env=environment, timeout=180)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "r" / "report.pdf").read_bytes().startswith(b"%PDF")
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "Đánh giá tại quầy năm 2026" in page
    assert "Nhóm có dưới 100000 phiếu" in page  # SUPPRESS_BELOW was read: no unit has a figure or a rank
    assert ranking_rows(page) and all(rank == "" and not shown for rank, _, shown in ranking_rows(page))


async def test_other_requests_are_answered_while_a_report_is_composed(app, client, monkeypatch):
    """Composing (indices, charts, PDF) waits until /healthz has been answered. In a worker thread that happens
    at once; on the event loop nothing else could run, so it would time out first and the order would flip."""
    composing, health_answered, order = threading.Event(), threading.Event(), []
    compose = report_module.compose_report

    def compose_after_health(*arguments):
        composing.set()
        health_answered.wait(timeout=10)
        order.append("report composed")
        return compose(*arguments)

    monkeypatch.setattr(report_module, "compose_report", compose_after_health)
    monkeypatch.setattr(report_module, "_reports", LRUCache(maxsize=8))  # built, not taken from the cache
    analyst = await signed_in_client(app, "analyst")
    building = asyncio.create_task(analyst.get("/analyst/campaigns/QUAY-2026/report.pdf"))
    while not (composing.is_set() or building.done()):  # the database reads are done; composing has begun
        await asyncio.sleep(0.01)
    assert (await client.get("/healthz")).status_code == 200
    order.append("health answered")
    health_answered.set()
    assert (await building).status_code == 200
    await analyst.aclose()
    assert order == ["health answered", "report composed"]


async def add_copy_of_a_response(campaign_code: str) -> int:
    row = await Response.select().where(Response.campaign.code == campaign_code).first()
    copy = Response(**{key: row[key] for key in ("campaign", "unit", "counter", "domain", "questionnaire",
                                                 "answers_digest", "weight")},
                    answers=row["answers"] if isinstance(row["answers"], str) else json.dumps(row["answers"]),
                    idempotency_key=uuid.uuid4().hex, channel="test")
    await copy.save()
    return copy.id


async def test_a_report_is_built_once_per_state_of_the_data(app, monkeypatch):
    composed = []
    compose = report_module.compose_report
    monkeypatch.setattr(report_module, "compose_report", lambda *arguments: composed.append(1) or compose(*arguments))
    monkeypatch.setattr(report_module, "_reports", LRUCache(maxsize=8))
    first = await build_report("QUAY-2026")
    assert await build_report("QUAY-2026") is first and len(composed) == 1
    added = await add_copy_of_a_response("QUAY-2026")
    try:
        rebuilt = await build_report("QUAY-2026")
    finally:
        await Response.delete().where(Response.id == added)
        await fold_again((await Campaign.select(Campaign.id).where(Campaign.code == "QUAY-2026").first())["id"])
    assert len(composed) == 2 and rebuilt.facts["responses"] == first.facts["responses"] + 1
    assert await build_report("QUAY-2026", minimum=first.minimum + 1) is not first and len(composed) == 3


async def test_two_first_requests_for_a_report_build_it_once(app, monkeypatch):
    composed = []
    compose = report_module.compose_report
    monkeypatch.setattr(report_module, "compose_report", lambda *arguments: composed.append(1) or compose(*arguments))
    monkeypatch.setattr(report_module, "_reports", LRUCache(maxsize=8))
    first, second = await asyncio.gather(build_report("QUAY-2026"), build_report("QUAY-2026"))
    assert first is second and len(composed) == 1


async def unit_ranking(units: dict, minimum: int) -> dict:
    """(rank, shows a figure) of the parent and the child commune in the report's HTML ranking."""
    report = await build_report(units["campaign"], minimum=minimum)
    rows = {name: (rank, shown) for rank, name, shown in ranking_rows(report.html)}
    return {"parent": rows[f"Xã cha {units['campaign']}"], "child": rows[f"Thôn con {units['campaign']}"]}


async def test_a_small_childs_officials_answers_are_in_no_figure_of_the_report(app, settings):
    """A parent with 10 answers of its own and a child with 3 (the reviewer's district and commune): the child has no
    figure or rank, and the parent, its level and the province hold the parent's 10 only, so (13·P − 10·L) / 3 has
    no 13 to start from. The method says so."""
    exposed = await officials_parent_and_child(10, 3)
    assert await unit_ranking(exposed, settings.suppress_below) == {"parent": ("1", True), "child": ("", False)}
    report = await build_report(exposed["campaign"], minimum=settings.suppress_below)
    figures = [report.province, *report.levels, *report.domains, *(row for row in report.units if row.shown)]
    assert {row.responses for row in figures} == {10}
    assert "Không tính (công chức tại đơn vị dưới 5 phiếu): 3 phiếu." in report.html


async def test_a_parent_with_enough_answers_of_its_own_is_ranked(app, settings):
    fine = await officials_parent_and_child(settings.suppress_below, settings.suppress_below)
    ranking = await unit_ranking(fine, settings.suppress_below)
    assert ranking["parent"][1] and ranking["child"][1] and ranking["parent"][0] and ranking["child"][0]
    assert (await build_report(fine["campaign"], minimum=settings.suppress_below)).province.shown


async def test_in_a_worker_process_the_report_is_the_same(app, monkeypatch):
    """`survey serve` builds reports (and the figure set, charts) in a worker process, off the web interpreter."""
    from survey_app.core import worker_process

    monkeypatch.setattr(report_module, "_reports", LRUCache(maxsize=8))
    in_thread = await build_report("QUAY-2026")
    monkeypatch.setattr(report_module, "_reports", LRUCache(maxsize=8))
    monkeypatch.setattr(worker_process, "ENABLED", True)
    try:
        in_process = await build_report("QUAY-2026")
    finally:
        worker_process.stop()
    assert in_process is not in_thread and in_process.html == in_thread.html
    assert [row.overall for row in in_process.units] == [row.overall for row in in_thread.units]


async def test_a_counter_rating_report_is_titled_after_decision_766_not_sipas(app):
    report = await build_report("QUAY-2026")
    text = pdf_text(report.pdf)
    assert "Quyết định 766/QĐ-TTg" in report.facts["title"] and "(SIPAS)" not in text and "SIPAS" not in report.html


async def test_no_report_page_is_left_nearly_empty(sipas_report):
    pages = pypdf.PdfReader(io.BytesIO(sipas_report.pdf)).pages
    for number, page in enumerate(pages[:-1], 1):  # only the last page may end early
        lines = page.extract_text().splitlines()
        assert len(lines) >= 20 or page.images, f"page {number}: {lines}"
    charts = next(page for page in pages if "7. Biểu đồ" in page.extract_text())
    assert charts.images  # the heading is not left alone at the foot of a page


def test_unit_names_on_the_printed_chart_are_at_least_8_points_and_bars_carry_their_figure(sipas_report):
    figure = report_module.units_figure(sipas_report)
    scale = report_module.PRINTED_WIDTH_MM / (figure.get_figwidth() * 25.4)
    axes = figure.axes[0]
    assert min(label.get_fontsize() for label in axes.get_yticklabels()) * scale >= 8
    written = {text.get_text() for text in axes.texts}
    assert {report_module._number(row.overall) for row in sipas_report.units if row.shown} <= written


def test_writing_a_pdf_logs_no_font_subsetting_noise(sipas_report, caplog):
    import logging

    with caplog.at_level(logging.DEBUG):
        report_module.render_pdf(sipas_report)
    noisy = [record for record in caplog.records if record.name.startswith("fontTools")
             and record.levelno < logging.WARNING]
    assert noisy == []


def test_a_unit_whose_interval_rounds_past_its_figure_still_gets_its_bar(sipas_report):
    """Every answer satisfied: the interval is 100 – 100, and rounding can leave its low end a hair above the
    figure; the chart drew a negative error bar and the report failed with a 500."""
    import copy

    report = copy.deepcopy(sipas_report)
    shown = next(row for row in report.units if row.shown)
    shown.ci_low, shown.ci_high = shown.overall + 1e-9, None
    figure = report_module.units_figure(report)
    assert figure.axes[0].patches  # drawn, bar included


async def test_a_report_that_takes_longer_than_a_second_says_so_and_the_page_reloads_until_it_is_ready(app, monkeypatch):
    """Under `survey serve` (built in the worker process) a report request waits progress_after() seconds, then
    answers 202 with a page that names the stage and reloads itself; the build goes on and the reload gets it."""
    from survey_app.exports import controllers

    monkeypatch.setattr(controllers, "progress_after", lambda: 0.05)
    monkeypatch.setattr(report_module, "_reports", LRUCache(maxsize=8))
    compose = report_module.compose_report

    def slow_compose(*arguments):
        threading.Event().wait(1.0)
        return compose(*arguments)

    monkeypatch.setattr(report_module, "compose_report", slow_compose)
    client = await signed_in_client(app, "analyst")
    try:
        first = await client.get("/analyst/campaigns/QUAY-2026/report.pdf")
        assert first.status_code == 202 and 'id="report-progress"' in first.text
        assert 'data-refresh="3"' in first.text and "Đang lập báo cáo" in first.text
        for _ in range(100):
            again = await client.get("/analyst/campaigns/QUAY-2026/report.pdf")
            if again.status_code != 202:
                break
            await asyncio.sleep(0.2)
        assert again.status_code == 200 and again.content.startswith(b"%PDF")
    finally:
        await client.aclose()
