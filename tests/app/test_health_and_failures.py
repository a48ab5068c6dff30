"""Probes, migrations, and what happens when the database fails: 503, nothing half-stored."""

from __future__ import annotations

import sqlite3

import httpx

from survey_app.core import db, engines
from survey_app.app import create_app
from survey_app.campaigns.demo import load_demo
from survey_app.core.settings import Settings
from tests.app.helpers import counter_definition, filled_form


async def test_healthz_and_readyz(client):
    assert (await client.get("/healthz")).json() == {"ok": True}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["pending_migrations"] == []


async def test_openapi_lists_the_index_endpoint(client):
    schema = (await client.get("/api/docs/openapi.json")).json()
    assert "/api/v1/units/{unit_code}/index" in schema["paths"]


async def sqlite_app(tmp_path, migrated: bool, busy_timeout: str = "5"):
    settings = Settings.from_env({
        "DATABASE_URL": f"sqlite:///{tmp_path / 'own.db'}", "SECRET_KEY": "test-secret-key", "SQLITE_BUSY_TIMEOUT": busy_timeout,
    })
    application = create_app(settings)
    return application, settings


async def test_readyz_reports_pending_migrations_on_an_empty_database(app, tmp_path):
    application, _ = await sqlite_app(tmp_path, migrated=False)
    try:
        async with application.lifespan():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as c:
                ready = await c.get("/readyz")
        assert ready.status_code == 503 and ready.json()["pending_migrations"] == db.migration_ids()
    finally:
        db.bind(app.state.engine)  # give the shared tables back to the suite's engine


async def test_locked_database_gives_503_and_stores_nothing(app, tmp_path, counter_form):
    application, settings = await sqlite_app(tmp_path, migrated=True, busy_timeout="0.2")
    try:
        async with application.lifespan():
            await db.migrate()
            await load_demo(per_unit=2)
            path = engines.sqlite_path(settings.database_url)
            stored_before = sqlite3.connect(path).execute("SELECT count(*) FROM response").fetchone()[0]
            locker = sqlite3.connect(path, isolation_level=None)
            locker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
            try:
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as c:
                    response = await c.post(counter_form, data=filled_form(counter_definition()))
            finally:
                locker.execute("ROLLBACK")
                locker.close()
            assert response.status_code == 503
            assert "chưa được lưu" in response.text
            stored_after = sqlite3.connect(path).execute("SELECT count(*) FROM response").fetchone()[0]
            assert stored_after == stored_before > 0
    finally:
        db.bind(app.state.engine)
