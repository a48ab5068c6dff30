"""Findings of the security review (issue #17): each test fails without its fix."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time

import httpx
import pytest
import pytest_asyncio

from survey_app.officials.services import COOKIE_NAME
from tests.app.helpers import counter_definition, filled_form, started_app
from tests.workbooks import far_cell, real_workbook, truncated_sheet, without_sheets


def forged(token_path: str) -> str:
    """The same counter and campaign with a wrong signature."""
    return token_path[:-4] + ("AAAA" if not token_path.endswith("AAAA") else "BBBB")


async def test_forged_tokens_do_not_spend_a_real_counters_limit(app, settings, counter_form):
    async with started_app(app, dataclasses.replace(settings, rate_limit_per_counter=2,
                                                    rate_limit_per_client=100)) as strict:
        statuses = []
        for number in range(1, 6):  # forged posts from five addresses, all naming the real counter SO01-Q1
            transport = httpx.ASGITransport(app=strict, client=(f"203.0.113.{number}", 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                statuses.append((await client.post(forged(counter_form), data={"_key": "x"})).status_code)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://t") as citizen:
            real = await citizen.post(counter_form, data=filled_form(counter_definition()))
    assert statuses == [403] * 5
    assert real.status_code == 303  # the counter's own limit (2) is untouched by the forgeries


async def test_a_non_ascii_qr_signature_is_refused_not_a_500(client, counter_form):
    path = counter_form[:-2] + "ÿé"
    shown, posted = await client.get(path), await client.post(path, data={"_key": "x"})
    assert (shown.status_code, posted.status_code) == (403, 403)
    assert "Mã QR không hợp lệ" in shown.text


async def test_a_non_ascii_official_cookie_is_refused_not_a_500(client):
    for value in ("1.9999999999.é" + "a" * 31, "².9999999999." + "a" * 32):
        page = await client.get("/o/0", headers={"cookie": f"{COOKIE_NAME}={value}".encode()})
        assert page.status_code == 403 and "Phiên làm việc đã hết hạn" in page.text


async def test_an_unexpected_failure_is_logged_once_with_request_id_and_traceback(client, monkeypatch, caplog):
    from survey_app.core import health_controllers as health

    async def broken(engine):
        raise RuntimeError("boom in ping")

    monkeypatch.setattr(health.db, "ping", broken)
    with caplog.at_level(logging.ERROR, logger="survey_app"):
        answer = await client.get("/readyz?code=ABCD-EFGH-JK")
    records = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert answer.status_code == 500
    request_id = answer.headers["x-request-id"]
    assert len(records) == 1 and request_id in records[0].getMessage()
    assert records[0].exc_info and "boom in ping" in caplog.text and "Traceback" in caplog.text
    assert "ABCD-EFGH-JK" not in caplog.text  # no query string: it may carry an invitation code


async def test_a_url_cannot_forge_a_log_line(client, counter_form, caplog):
    with caplog.at_level(logging.WARNING, logger="survey_app"):
        await client.get(counter_form[:-4] + "%0AINJECTED%00line")
    messages = [record.getMessage() for record in caplog.records if "QR token refused" in record.getMessage()]
    assert messages and all("\n" not in message and "\x00" not in message for message in messages)
    assert "\\x0aINJECTED\\x00line" in messages[-1]


# --- uploads: damaged files refused clearly, parsed off the event loop --------------------------------------------


async def upload(client, path: str, filename: str, data: bytes, page_path: str):
    from tests.app.helpers import csrf_token

    page = await client.get(page_path)
    return await client.post(path, data={"_csrf_token": csrf_token(page.text)}, files={"file": (filename, data)})


@pytest_asyncio.fixture(scope="module")
async def admin(app):
    from tests.app.helpers import signed_in

    async with signed_in(app, "admin") as client:
        yield client


UNIT_HEADER = ("code", "name", "name_en", "level", "parent_code")


@pytest.mark.parametrize("damage, says", [(truncated_sheet, "bị cắt ngắn"), (without_sheets, "không có trang tính"),
                                          (lambda data: far_cell(data, b"A1048576"), "hơn 10000 dòng")])
async def test_a_damaged_or_expanding_unit_workbook_is_refused_in_vietnamese(admin, damage, says):
    data = damage(real_workbook(UNIT_HEADER, ("X1", "Xã Một", "", "xa", "H01")))
    page = await upload(admin, "/admin/units/import", "units.xlsx", data, "/admin/units")
    assert page.status_code == 422 and says in page.text


async def test_a_damaged_xlsform_or_a_deep_yaml_upload_is_refused_not_a_500(admin):
    xlsform = truncated_sheet(real_workbook(("type", "name", "label"), ("text", "q1", "Câu 1")))
    page = await upload(admin, "/admin/questionnaires", "form.xlsx", xlsform, "/admin/questionnaires")
    assert page.status_code == 422 and "bị cắt ngắn" in page.text
    deep = ("key: deep\nsections: " + "[" * 3000 + "]" * 3000 + "\n").encode()
    page = await upload(admin, "/admin/questionnaires", "deep.yaml", deep, "/admin/questionnaires")
    assert page.status_code == 422 and "lồng nhau quá 30 cấp" in page.text


async def test_other_requests_are_served_while_a_large_upload_is_parsed(admin, client):
    data = real_workbook(UNIT_HEADER, *[("X",) * 5] * 7000)  # under every cap: parsed in full, some 0.7 s
    assert len(data) < 200 * 1024

    async def probe_moments(uploading: asyncio.Task) -> list[float]:
        moments = []
        while not uploading.done():  # a request every 50 ms for as long as the upload runs
            assert (await client.get("/healthz")).status_code == 200
            moments.append(time.perf_counter())
            await asyncio.sleep(0.05)
        return moments

    started = time.perf_counter()
    uploading = asyncio.ensure_future(upload(admin, "/admin/units/import", "units.xlsx", data, "/admin/units"))
    moments = await probe_moments(uploading)
    page, ended = await uploading, time.perf_counter()
    assert page.status_code == 422 and "tối đa 5000 dòng" in page.text
    # the longest the event loop went without answering (parsed on it, this was the whole parse: 0.7 s)
    gaps = [later - earlier for earlier, later in zip([started, *moments], [*moments, ended])]
    assert len(moments) >= 3 and max(gaps) < 0.35, (ended - started, gaps)


@pytest.mark.parametrize("damage", [truncated_sheet, without_sheets])
def test_draw_dossiers_from_a_damaged_workbook_says_why_without_a_traceback(settings, app, tmp_path, damage):
    from tests.app.test_draw_dossiers import HEADER, MAPPING
    from tests.app.test_sample_cli import run_survey

    frame = tmp_path / "dossiers.xlsx"
    frame.write_bytes(damage(real_workbook(HEADER, ("SO01", "dat_dai", "A-1", "01/10/2026"))))
    result = run_survey(settings, "draw-dossiers", str(frame), "-o", str(tmp_path / "out.csv"), "--mapping", MAPPING,
                        "--units", "1", "--days", "1", "--dossiers", "1")
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "bị cắt ngắn" in result.stderr + result.stdout or "không có trang tính" in result.stderr + result.stdout


# --- sign-in: throttled per client, no enumeration, no lockout of the real user ------------------------------------


async def test_wrong_sign_ins_are_throttled_per_client_the_same_for_any_name_and_never_lock_the_owner(app, settings):
    from survey_app.accounts.users import create_user
    from tests.app.helpers import sign_in

    await create_user("muc.tieu", "mật-khẩu-thật-2026", "analyst", None)
    async with started_app(app, dataclasses.replace(settings, code_guess_limit=4)) as strict:
        def client_from(address: str) -> httpx.AsyncClient:
            return httpx.AsyncClient(transport=httpx.ASGITransport(app=strict, client=(address, 1)),
                                     base_url="http://t")

        async with client_from("203.0.113.50") as attacker, client_from("203.0.113.51") as prober, \
                client_from("203.0.113.52") as owner:
            real = [await sign_in(attacker, "muc.tieu", "sai-mat-khau-999") for _ in range(6)]
            unknown = [await sign_in(prober, "khong.co.ai", "sai-mat-khau-999") for _ in range(6)]
            other_name = await sign_in(attacker, "analyst", "sai-mat-khau-999")
            owner_signs_in = await sign_in(owner, "muc.tieu", "mật-khẩu-thật-2026")
    assert [page.status_code for page in real] == [401] * 4 + [429] * 2
    assert [page.status_code for page in unknown] == [401] * 4 + [429] * 2  # a real and an unknown name alike
    assert [message(page) for page in real] == [message(page) for page in unknown]
    assert "tạm khoá" not in real[-1].text and "thử lại sau 15 phút" in real[-1].text
    assert other_name.status_code == 429  # per client, whatever name it tries next
    assert owner_signs_in.status_code == 303  # the owner, elsewhere, is not locked out


def message(page) -> str:
    import re

    return re.search(r'role="alert">(.*?)<br>', page.text, re.S).group(1)


# --- Redis: a dependency that readiness reports; its outage is never a 500 ---------------------------------------

DOWN_REDIS = "redis://127.0.0.1:1/7"  # nothing listens on port 1: connections are refused at once
TEST_REDIS = "redis://127.0.0.1:6379/7"


async def test_with_redis_down_posts_and_sign_in_answer_without_a_500_and_say_so(app, settings, counter_form, caplog):
    from survey_app.core.tables import AuditLog
    from tests.app.helpers import sign_in

    from survey_app.core import db
    from survey_app.app import create_app

    last_audit = (await AuditLog.select(AuditLog.id).order_by(AuditLog.id, ascending=False).first() or {"id": 0})
    down = create_app(dataclasses.replace(settings, redis_url=DOWN_REDIS))
    logging.getLogger().addHandler(caplog.handler)  # creating an app configures logging, which drops caplog's
    with caplog.at_level(logging.WARNING):
        for hook in down.on_startup:
            await hook(down)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=down), base_url="http://t") as client:
                ready = await client.get("/readyz")
                posted = await client.post(counter_form, data=filled_form(counter_definition()))
                wrong_code = await client.post("/o", data={"code": "AAAA-AAAA-AA"})
                signing_in = await sign_in(client, "analyst")
        finally:
            for hook in down.on_shutdown:
                await hook(down)
            db.bind(app.state.engine)
    assert "REDIS_URL is set but Redis does not answer" in caplog.text  # at start
    assert ready.status_code == 503 and ready.json()["redis"] == "unreachable"
    assert posted.status_code == 303  # limits counted in this process meanwhile
    assert wrong_code.status_code in (403, 422)
    assert "limits counted per process" in caplog.text
    assert signing_in.status_code == 503 and "Hệ thống tạm thời bận" in signing_in.text
    assert "chưa được lưu" not in signing_in.text  # a staff sign-in sends no answer
    signed_in = await AuditLog.select().where((AuditLog.id > last_audit["id"]) & (AuditLog.action == "sign_in"))
    assert signed_in == []  # the sign-in did not happen, so the log does not say it did


async def test_readiness_shows_no_database_host_or_port(client, monkeypatch):
    from survey_app.core import health_controllers as health

    async def refused(engine):
        raise ConnectionRefusedError("Connect call failed ('10.20.30.40', 5432)")

    monkeypatch.setattr(health.db, "ping", refused)
    ready = await client.get("/readyz")
    assert ready.status_code == 503 and ready.json() == {"ok": False, "database": "unreachable"}
    assert "10.20.30.40" not in ready.text and "5432" not in ready.text


async def test_redis_session_keys_are_hashes_not_the_cookie(app, settings):
    import redis.asyncio
    from tests.app.helpers import sign_in

    async with started_app(app, dataclasses.replace(settings, redis_url=TEST_REDIS)) as shared, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=shared), base_url="http://t") as client:
        assert (await sign_in(client, "analyst")).status_code == 303
        cookie = client.cookies["sid"]
        assert (await client.get("/staff")).status_code == 200
        store = redis.asyncio.Redis.from_url(TEST_REDIS)
        keys = [key.decode() async for key in store.scan_iter("sessions*")]
        await store.aclose()
    assert keys and not any(cookie in key for key in keys)


# --- headers, caching, content types, the report's style, the API docs --------------------------------------------


def has_security_headers(response) -> bool:
    return ("frame-ancestors 'none'" in response.headers.get("content-security-policy", "")
            and response.headers.get("x-frame-options") == "DENY"
            and response.headers.get("x-content-type-options") == "nosniff")


async def test_the_unmatched_404_and_the_413_carry_the_security_headers(client, counter_form):
    missing = await client.get("/khong-co-trang-nay")
    too_big = await client.post(counter_form, content=b"a=" + b"x" * (300 * 1024),
                                headers={"content-type": "application/x-www-form-urlencoded"})
    assert missing.status_code == 404 and has_security_headers(missing)
    assert too_big.status_code == 413 and has_security_headers(too_big)


async def test_staff_pages_exports_and_the_audit_csv_are_not_stored_in_caches(analyst, app):
    from tests.app.helpers import signed_in

    async with signed_in(app, "admin") as admin:
        audit_csv = await admin.get("/admin/audit/audit.csv")
    answers = await analyst.get("/analyst/campaigns/QUAY-2026/export/csv")
    for page in (await analyst.get("/staff"), await analyst.get("/analyst/campaigns"), answers, audit_csv):
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store", page.url
    assert answers.headers["content-type"] == "text/csv; charset=utf-8"
    assert audit_csv.headers["content-type"] == "text/csv; charset=utf-8"


async def test_the_reports_inline_style_is_allowed_by_its_own_hash_and_the_content_type_is_single(analyst):
    import base64
    import hashlib
    import re

    report = await analyst.get("/analyst/campaigns/SIPAS-2026/report.html")
    style = re.search(r"<style>(.*?)</style>", report.text, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    csp = report.headers["content-security-policy"]
    assert f"style-src 'self' 'sha256-{digest}'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    assert report.headers["content-type"] == "text/html; charset=utf-8"
    assert report.headers.get_list("content-security-policy") == [csp]


async def test_the_api_docs_load_nothing_from_public_cdns(client):
    docs = await client.get("/api/docs")
    schema = await client.get("/api/docs/openapi.json")
    assert docs.status_code == 200 and "cdn" not in docs.text.lower() and "<script" not in docs.text
    assert "unsafe-inline" not in docs.headers["content-security-policy"]
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "SIPAS survey API"


# --- operations: the SQLite file's mode, serve with the database down, moving to SIGNING_KEYS ----------------------


async def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    import os
    import stat

    from survey_app.core import db
    from survey_app.core.settings import Settings

    path = tmp_path / "var" / "survey.db"
    previous = os.umask(0o022)  # the usual umask, under which files were 0644
    try:
        db.prepare_sqlite_file(path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert Settings  # the same function prepares the file for `survey serve`, `migrate` and every command


def test_serve_with_the_database_down_says_so_in_one_line(tmp_path):
    import os
    import subprocess

    from tests.app.servers import SURVEY

    environment = {**os.environ, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/khong_co", "SECRET_KEY": "x"}
    result = subprocess.run([str(SURVEY), "serve", "--port", "1"], capture_output=True, text=True, cwd=tmp_path,
                            env=environment, timeout=60)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Không kết nối được cơ sở dữ liệu" in result.stderr


async def test_moving_from_the_derived_key_to_signing_keys_keeps_old_posters(app, settings, counter_form):
    from survey_app.core.settings import Settings
    from survey_app.core.tokens import sign

    assert not settings.signing_keys_text  # the suite's posters are signed with the key derived from SECRET_KEY
    moved = dataclasses.replace(settings, signing_keys_text="k2:a-new-secret-for-posters")
    async with started_app(app, moved) as application, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as client:
        old_poster = await client.get(counter_form)
    assert old_poster.status_code == 200
    assert sign(moved.signing_keys, "SO01-Q1", "QUAY-2026").split(".")[2] == "k2"  # new posters: the new key
    replaced = Settings.from_env({"SECRET_KEY": settings.secret_key, "SIGNING_KEYS": "k2:new,k1:replaced"})
    assert replaced.signing_keys["k1"] == b"replaced"  # naming k1 replaces the derived key (and revokes its posters)


async def test_a_deleted_draft_is_not_left_readable_in_the_sqlite_file_or_its_wal(app, tmp_path):
    """On an SQLite database of its own (whatever the suite's engine): a row written, changed and deleted the way
    an official's draft is, then the step the official's submission and `survey retention` take."""
    from survey_app.core import db
    from survey_app.core.settings import Settings
    from survey_app.core.tables import Domain

    path = tmp_path / "own.db"
    engine = await db.connect(Settings.from_env({"DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "x"}))
    try:
        await db.migrate()
        marker = "bí-mật-của-cán-bộ-" + "x" * 40
        async with db.write_transaction(engine):
            await Domain.insert(Domain(code="draft-like", name=marker + "-1"))
        async with db.write_transaction(engine):
            await Domain.update({Domain.name: marker + "-2"}).where(Domain.code == "draft-like")
        async with db.write_transaction(engine):
            await Domain.delete().where(Domain.code == "draft-like")
        await db.erase_deleted(engine)
    finally:
        await db.disconnect(engine)
        db.bind(app.state.engine)
    stored = b"".join(file.read_bytes() for file in tmp_path.glob("own.db*"))
    assert marker.encode() not in stored


async def test_during_a_database_outage_only_pages_sending_answers_say_they_were_not_saved(app, monkeypatch,
                                                                                            counter_form):
    from survey_app.accounts import services
    from survey_app.public import controllers as form_controllers
    from tests.app.helpers import sign_in

    async def unreachable(*args, **kwargs):
        raise ConnectionRefusedError("database down")

    monkeypatch.setattr(services, "sign_in", unreachable)
    monkeypatch.setattr(form_controllers, "load_form_context", unreachable)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("198.51.100.77", 1)),
                                 base_url="http://testserver") as client:
        staff = await sign_in(client, "analyst")
        citizen = await client.post(counter_form, data=filled_form(counter_definition()))
    assert staff.status_code == 503 and "Hệ thống tạm thời bận" in staff.text and "chưa được lưu" not in staff.text
    assert citizen.status_code == 503 and "Câu trả lời của ông/bà chưa được lưu" in citizen.text


@pytest.mark.parametrize("questionnaire_id", [7_521_697_242, 2**70])  # past PostgreSQL's integer; past SQLite's
async def test_an_id_past_the_databases_integer_range_is_refused_not_a_500(admin, questionnaire_id):
    # found by schemathesis on PostgreSQL: asyncpg's DataError (value out of int32 range) answered 500
    response = await admin.get(f"/admin/questionnaires/{questionnaire_id}/xlsform")
    assert response.status_code in (404, 422) and "Không" in response.text
