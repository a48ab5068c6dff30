"""/metrics (Prometheus): guarded, counts submissions and refusals by reason, times requests by route template,
adds up every worker; `survey serve` with LOG_FORMAT=json writes one JSON object a line."""

from __future__ import annotations

import json
import logging
import re

import httpx
import pytest_asyncio

from survey_app.core import db
from survey_app.accounts import api_tokens
from survey_app.core.logs import JsonLinesFormatter
from survey_app.core.settings import Settings
from tests.app.helpers import counter_definition, filled_form, signed_in
from tests.app.servers import SECRET, Server, demo_database, submission


@pytest_asyncio.fixture
async def admin(app):
    async with signed_in(app, "admin") as client:
        yield client


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in a Prometheus text page (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    found = re.search(rf"^{re.escape(name)}{{{re.escape(wanted)}}} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_metrics_are_for_administrators_and_metrics_tokens_only(app, client, admin, settings):
    assert (await client.get("/metrics", headers={"Accept": "application/json"})).status_code == 401
    async with signed_in(app, "analyst") as analyst:
        assert (await analyst.get("/metrics")).status_code == 403
    page = await admin.get("/metrics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    assert page.headers["cache-control"] == "no-store"
    scraper = await api_tokens.issue(settings.secret_key, "admin", "Prometheus", ["metrics"], 30, actor="test")
    reader = await api_tokens.issue(settings.secret_key, "admin", "đọc", ["results"], 30, actor="test")
    assert (await client.get("/metrics", headers={"Authorization": f"Bearer {scraper}"})).status_code == 200
    assert (await client.get("/metrics", headers={"Authorization": f"Bearer {reader}",
                                                  "Accept": "application/json"})).status_code == 403


async def test_submissions_refusals_and_latency_are_counted_by_route_never_by_token(client, admin, counter_form):
    before = (await admin.get("/metrics")).text
    definition = counter_definition()
    assert (await client.post(counter_form, data=filled_form(definition))).status_code == 303
    assert (await client.post(counter_form, data=filled_form(definition, rating="9"))).status_code == 422
    forged = counter_form[:-4] + "AAAA"
    refused_forged = await client.post(forged, data=filled_form(definition))
    after = (await admin.get("/metrics")).text
    assert sample(after, "survey_submissions_total", channel="qr") == sample(
        before, "survey_submissions_total", channel="qr") + 1
    assert sample(after, "survey_refusals_total", channel="qr", reason="invalid_answers") == sample(
        before, "survey_refusals_total", channel="qr", reason="invalid_answers") + 1
    reason = {404: "unknown_form", 403: "bad_token", 400: "bad_request"}[refused_forged.status_code]
    assert sample(after, "survey_refusals_total", channel="qr", reason=reason) == sample(
        before, "survey_refusals_total", channel="qr", reason=reason) + 1
    route = {"method": "POST", "route": "/q/{token}"}
    assert sample(after, "survey_request_seconds_count", **route) == sample(
        before, "survey_request_seconds_count", **route) + 3
    assert "survey_write_queue_depth " in after
    assert sample(after, "survey_export_jobs", state="running") >= 0 and 'survey_export_jobs{state="done"}' in after
    assert counter_form.split("/")[-1] not in after  # the token, which names the counter, is never a label


def test_a_json_log_line_escapes_newlines_and_carries_the_traceback():
    try:
        raise ValueError("hỏng")
    except ValueError as error:
        record = logging.LogRecord("survey_app", logging.ERROR, __file__, 1, "path %s", ("/x\nFAKE 200 OK\x00",),
                                   (type(error), error, error.__traceback__))
    line = JsonLinesFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "path /x\nFAKE 200 OK\x00" and entry["level"] == "ERROR"
    assert "ValueError: hỏng" in entry["traceback"] and entry["time"].endswith("+00:00")


async def test_two_workers_add_up_in_metrics_and_log_json_lines(app, tmp_path, database_url):
    url = await demo_database(tmp_path, database_url, "metrics")
    try:
        token = await db.run_connected(Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": SECRET}),
                                       lambda: api_tokens.issue(SECRET, "admin", "scraper", ["metrics"], 1, "test"))
    finally:
        db.bind(app.state.engine)
    server = Server(url, tmp_path, workers=2, LOG_FORMAT="json").start()
    try:
        import random

        rng = random.Random(3)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as web:
            for _ in range(12):  # new connections: the kernel spreads them over both workers
                async with httpx.AsyncClient(base_url=server.base_url, timeout=20) as one:
                    assert (await one.post(server.form_path(), data=submission("m", rng))).status_code == 303
            scraped = await web.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    finally:
        server.stop()
    assert scraped.status_code == 200
    assert sample(scraped.text, "survey_submissions_total", channel="qr") == 12
    lines = [line for line in server.log().splitlines() if line.strip()]
    assert [line for line in lines if not line.startswith("{")] == []  # every line is one JSON object
    entries = [json.loads(line) for line in lines]
    assert any("Application startup complete" in entry["message"] for entry in entries)


def test_a_first_start_with_json_logs_logs_its_migrations_as_json(tmp_path):
    server = Server(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path, LOG_FORMAT="json").start()
    server.stop()
    entries = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    assert any(entry["message"].startswith("migrations: ") and "api_token_scopes" in entry["message"]
               for entry in entries)


async def test_the_export_queue_is_counted_from_the_shared_jobs(admin):
    import time
    import uuid

    from survey_app.core.export_tables import ExportJob

    before = sample((await admin.get("/metrics")).text, "survey_export_jobs", state="running")
    job_id = uuid.uuid4().hex[:22]
    await ExportJob.insert(ExportJob(job_id=job_id, campaign="QUAY-2026", export_format="csv", user_id=1,
                                     state="running", created_at=time.time(), updated_at=time.time()))
    try:
        during = sample((await admin.get("/metrics")).text, "survey_export_jobs", state="running")
    finally:
        await ExportJob.delete().where(ExportJob.job_id == job_id)
    assert during == before + 1
