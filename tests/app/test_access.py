"""Every route declares who may use it, and the rule holds for every role (table-driven over the live app).

A new route without `opt["access"]` fails the first test; a new path parameter without a sample value fails the
second until PATH_VALUES names one, so no route escapes the check.
"""

from __future__ import annotations

import re

import pytest
import pytest_asyncio
from litestar import Litestar, Router, get
from litestar.exceptions import ImproperlyConfiguredException

from survey_app.accounts import PUBLIC, access
from survey_app.accounts.middleware import check_access, refuse_unguarded_routes
from survey_app.core.tables import AuditLog
from tests.app.helpers import app_client, sign_in

ROLE_USERS = {"admin": "admin", "analyst": "analyst", "unit_manager": "so01"}
PATH_VALUES = {"unit_code": "SO01", "campaign_code": "QUAY-2026", "code": "QUAY-2026", "index": "0", "id": "1",
               "user_id": "1", "draw_id": "1", "counter_code": "SO01-Q1", "fmt": "csv", "format": "csv",
               "file_path": "app.css", "path": "x", "token": "x", "job_id": "x" * 22, "response_id": "1",
               "token_id": "1", "subscription_id": "1", "delivery_id": "1", "serial": "1", "link_id": "x", "questionnaire_id": "1"}
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def routes(app):
    for route in app.routes:
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method not in ("OPTIONS", "HEAD"):
                    yield route.path, method, handler


def protected_routes(app):
    return [(path, method, handler.opt["access"]) for path, method, handler in routes(app)
            if handler.opt.get("access") != "public"]


def concrete(path: str) -> str:
    missing = [name for name in PARAM.findall(path) if name not in PATH_VALUES]
    assert not missing, f"add a sample value for {missing} of {path} to PATH_VALUES"
    return PARAM.sub(lambda match: PATH_VALUES[match.group(1)], path)


def test_every_route_declares_who_may_use_it(app):
    undeclared = [f"{method} {path}" for path, method, handler in routes(app) if "access" not in handler.opt]
    assert undeclared == []
    rules = {str(handler.opt["access"]) for _, _, handler in routes(app)}
    assert all(rule == "public" or rule.startswith("(") for rule in rules)


@pytest_asyncio.fixture(scope="module")
async def role_clients(app):
    clients = {}
    for role, username in ROLE_USERS.items():
        client = app_client(app)
        assert (await sign_in(client, username)).status_code == 303
        clients[role] = client
    clients[None] = app_client(app)
    yield clients
    for client in clients.values():
        await client.aclose()


async def attempt(client, method: str, path: str):
    if method == "GET":
        return await client.get(path)
    page = await client.get("/staff") if "sid" in client.cookies else await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    return await client.request(method, path, data={"_csrf_token": token.group(1) if token else ""})


async def test_every_protected_route_refuses_the_wrong_people(app, role_clients):
    checked = 0
    for path, method, allowed in protected_routes(app):
        url = concrete(path)
        anonymous = await attempt(role_clients[None], method, url)
        expected_anonymous = 302 if method == "GET" and not path.startswith("/api/") else 401
        assert anonymous.status_code == expected_anonymous, f"anonymous {method} {url}"
        for role in ROLE_USERS:
            if path == "/logout":
                continue  # would end the shared session; covered in test_auth
            response = await attempt(role_clients[role], method, url)
            if role in allowed:
                assert response.status_code not in (401, 403), f"{role} {method} {url}: {response.status_code}"
            else:
                assert response.status_code == 403, f"{role} {method} {url} should be refused"
            checked += 1
    assert checked >= 6


async def test_a_refusal_is_logged(app, role_clients):
    before = await AuditLog.count().where(AuditLog.action == "access_denied")
    refused = await role_clients["unit_manager"].get("/admin/audit")
    assert refused.status_code == 403
    assert "không có quyền" in refused.text
    entries = await AuditLog.select().where(AuditLog.action == "access_denied").order_by(AuditLog.id, ascending=False)
    assert len(entries) == before + 1
    assert entries[0]["username"] == "so01" and entries[0]["target"] == "GET /admin/audit"


def test_only_public_routes_go_without_the_guard(app):
    unguarded = {(path, method) for path, method, handler in routes(app) if not handler.resolve_guards()}
    assert ("/q/{token:str}", "POST") in unguarded  # the citizen's form skips the guard's per-request cost
    assert all(handler.opt["access"] == "public" for path, method, handler in routes(app)
               if (path, method) in unguarded)


def test_an_app_with_an_unguarded_staff_route_does_not_start():
    @get("/staff-only", opt=access("admin"))
    async def staff_only() -> str:
        return "secret"

    @get("/open", opt=PUBLIC)
    async def open_page() -> str:
        return "hello"

    guarded = Router("/", route_handlers=[staff_only], guards=[check_access])
    refuse_unguarded_routes(Litestar([open_page, guarded], openapi_config=None))
    with pytest.raises(ImproperlyConfiguredException, match="staff_only"):
        refuse_unguarded_routes(Litestar([open_page, staff_only], openapi_config=None))
