"""Schemathesis against the OpenAPI schema: generated requests, without and with API tokens, never get a server
error, and every status they get is one the schema documents for that route.

A real `survey serve` (a subprocess on a free port, on a demo database of its own) answers, because schemathesis's
ASGI transport runs the app on another event loop, which a PostgreSQL pool does not allow. Bounded: a few dozen
examples per operation of /api/v1, a few per operation of the whole schema, no deadline per example.
"""

from __future__ import annotations


import pytest
import pytest_asyncio
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from survey_app.core import db
from survey_app.accounts import api_tokens
from survey_app.core.settings import Settings
from tests.app.servers import SECRET, Server, demo_database

MAX_EXAMPLES = 40
WHOLE_SCHEMA_EXAMPLES = 10  # ~75 operations, three identities: a bounded run of ~2,000 requests
CHECKS = [not_a_server_error, status_code_conformance]


@pytest_asyncio.fixture(scope="module")
async def live_server(app, tmp_path_factory, database_url):
    """`survey serve` on a demo database of its own (generated posts must not touch the suite's), with an
    administrator's and an analyst's API token holding every scope their role may have."""
    folder = tmp_path_factory.mktemp("schema")
    url = await demo_database(folder, database_url, "schema")

    async def tokens():
        return {username: await api_tokens.issue(SECRET, username, "schemathesis", scopes, 1, actor="test")
                for username, scopes in (("admin", ["results", "admin", "metrics"]),
                                         ("analyst", ["results", "export", "dossiers"]))}

    try:
        issued = await db.run_connected(Settings.from_env({"DATABASE_URL": url, "SECRET_KEY": SECRET}), tokens)
    finally:
        db.bind(app.state.engine)
    server = Server(url, folder).start()
    try:
        yield server.base_url, issued
    finally:
        server.stop()


@pytest.fixture(scope="module")
def whole_schema(live_server):
    base_url, _ = live_server
    return schemathesis.openapi.from_url(f"{base_url}/api/docs/openapi.json").exclude(path_regex="^/api/docs")


@pytest.fixture(scope="module")
def api_schema(whole_schema):
    return whole_schema.include(path_regex="^/api/v1/")


def run(schema, headers: dict, max_examples: int) -> list[tuple[str, int]]:
    """Every operation with generated requests; each answer is checked as it comes. (operation, status) pairs;
    fails at the end with every operation that failed a check (not only the first)."""
    calls, failures = [], []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                             phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def check(case):
            response = case.call_and_validate(headers=headers, checks=CHECKS, allow_redirects=False)
            calls.append((f"{operation.method.upper()} {operation.path}", response.status_code))

        try:
            check()
        except Exception as failure:  # noqa: BLE001 - gathered, reported together below
            failures.append(f"{operation.method.upper()} {operation.path}: {str(failure).splitlines()[:6]}")
    assert not failures, "\n".join(failures)
    return calls


def test_the_api_never_answers_with_a_server_error(api_schema):
    calls = run(api_schema, {}, MAX_EXAMPLES)
    assert len(calls) >= 10 and max(status for _, status in calls) < 500


@pytest.mark.parametrize("who", [None, "admin", "analyst"])
def test_every_route_documents_what_it_answers_and_never_fails(whole_schema, live_server, who):
    _, tokens = live_server
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
    calls = run(whole_schema, headers, WHOLE_SCHEMA_EXAMPLES)
    statuses = {status for _, status in calls}
    assert len({operation for operation, _ in calls}) >= 60 and max(statuses) < 500
    if who:  # the tokens open the routes of their scopes
        assert 200 in statuses


def test_the_schema_covers_the_api(api_schema):
    paths = [result.ok().path for result in api_schema.get_all_operations()]
    assert "/api/v1/units/{unit_code}/index" in paths
