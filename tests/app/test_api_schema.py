"""Schemathesis against the OpenAPI schema of /api/v1: generated requests never get a server error.

A real server (uvicorn in a subprocess on a free port, on the test database) answers, because schemathesis's
ASGI transport runs the app on another event loop, which a PostgreSQL pool does not allow. Bounded: a few
dozen examples per operation, no deadline per example, well under a minute in all.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

MAX_EXAMPLES = 40
START_TIMEOUT_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base_url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: {server.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT_SECONDS} s")


@pytest.fixture(scope="module")
def live_server(app, settings, tmp_path_factory):
    """The app served by uvicorn on the test database (already migrated, demo data loaded by `app`)."""
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "survey_app.app:create_app_from_env", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=environment, cwd=tmp_path_factory.mktemp("live"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base_url, server)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def api_schema(live_server):
    return schemathesis.openapi.from_url(f"{live_server}/api/docs/openapi.json").include(path_regex="^/api/v1/")


def test_the_api_never_answers_with_a_server_error(api_schema):
    calls = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                             phases=[Phase.explicit, Phase.generate, Phase.shrink],
                             suppress_health_check=list(HealthCheck))
        def never_a_server_error(case):
            calls.append(case.call_and_validate(checks=[not_a_server_error]).status_code)

        never_a_server_error()
    assert len(calls) >= 10 and max(calls) < 500


def test_the_schema_covers_the_api(api_schema):
    paths = [result.ok().path for result in api_schema.get_all_operations()]
    assert "/api/v1/units/{unit_code}/index" in paths
