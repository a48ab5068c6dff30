"""Staff sign-in: passwords, lockout, sessions, CSRF, password change, tokens, headers, and the CLI."""

from __future__ import annotations

import httpx
import pytest_asyncio
from typer.testing import CliRunner

from survey_app.accounts.services import units_below
from survey_app.accounts.users import UserCommandError, create_user
from survey_app.core.tables import AuditLog, Unit, User
from tests.app.helpers import csrf_token, post_form, sign_in

import pytest

PASSWORD = "rất-bí-mật-2026"


@pytest_asyncio.fixture
async def fresh(app):
    clients = []

    def make(address: str = "127.0.0.1"):  # wrong sign-ins are counted per client address
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 123)),
                                   base_url="http://testserver")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def new_user(name: str, role: str = "analyst", unit: str | None = None) -> int:
    return await create_user(name, PASSWORD, role, unit)


async def test_sign_in_reaches_the_staff_page_and_sign_out_ends_the_session(fresh):
    client = fresh()
    assert (await client.get("/staff")).headers["location"] == "/login?next=/staff"
    signed_in = await sign_in(client, "analyst")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/staff"
    cookie = signed_in.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = await client.get("/staff")
    assert home.status_code == 200 and "Chuyên viên phân tích" in home.text
    session_id = client.cookies["sid"]

    assert (await post_form(client, "/logout")).status_code == 303
    replay = fresh()
    replay.cookies.set("sid", session_id)  # the old cookie, kept by an attacker, no longer works
    assert (await replay.get("/staff")).status_code == 302


async def test_wrong_password_is_refused_and_counted_without_locking_the_account(fresh):
    await new_user("khoa.thu")
    client = fresh("198.51.100.5")
    for attempt in range(5):
        refused = await sign_in(client, "khoa.thu", "sai-mat-khau-123")
        assert refused.status_code == 401 and "không đúng" in refused.text
    assert "sid" not in client.cookies
    row = await User.select().where(User.username == "khoa.thu").first()
    assert row["failed_logins"] == 5 and "locked_until" not in row  # counted, never locked
    assert (await sign_in(fresh(), "khoa.thu", PASSWORD)).status_code == 303  # its owner is not locked out
    actions = [entry["action"] for entry in await AuditLog.select(AuditLog.action).where(
        AuditLog.target == f"user:{row['id']}")]
    assert actions.count("sign_in_failed") == 5 and actions[-1] == "sign_in"


async def test_unknown_user_gets_the_same_answer_as_a_wrong_password(fresh):
    refused = await sign_in(fresh(), "khong-ton-tai", "whatever-12345")
    assert refused.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng" in refused.text


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(fresh):
    await new_user("csrf.thu")
    client = fresh()
    await sign_in(client, "csrf.thu", PASSWORD)
    before = (await User.select(User.password_hash).where(User.username == "csrf.thu").first())["password_hash"]
    forged = await client.post("/account/password", data={"current": PASSWORD, "new": "x" * 12 + "abcde",
                                                         "repeat": "x" * 12 + "abcde"})
    assert forged.status_code == 403
    after = (await User.select(User.password_hash).where(User.username == "csrf.thu").first())["password_hash"]
    assert after == before


async def test_password_change_ends_other_sessions_but_keeps_this_one(fresh):
    await new_user("doi.matkhau")
    laptop, phone = fresh(), fresh()
    await sign_in(laptop, "doi.matkhau", PASSWORD)
    await sign_in(phone, "doi.matkhau", PASSWORD)
    new = "mật-khẩu-mới-ABC-99"
    short = await post_form(laptop, "/account/password", {"current": PASSWORD, "new": "ngan", "repeat": "ngan"},
                            page_path="/account/password")
    assert short.status_code == 422 and "ít nhất 10" in short.text
    changed = await post_form(laptop, "/account/password", {"current": PASSWORD, "new": new, "repeat": new},
                              page_path="/account/password")
    assert changed.status_code == 200 and "Đã đổi mật khẩu" in changed.text
    assert (await laptop.get("/staff")).status_code == 200
    assert (await phone.get("/staff")).status_code == 302
    assert (await sign_in(fresh(), "doi.matkhau", new)).status_code == 303


async def test_sign_in_never_redirects_off_site(fresh):
    client = fresh()
    page = await client.get("/login?next=//evil.example/x")
    assert 'value="/staff"' in page.text
    response = await client.post("/login", data={"username": "analyst", "password": "demo-sipas-2026",
                                                 "_csrf_token": csrf_token(page.text),
                                                 "next": "https://evil.example/"})
    assert response.headers["location"] == "/staff"


async def test_unit_manager_scope_is_their_unit_and_the_units_below(app):
    huyen = await Unit.select(Unit.id).where(Unit.code == "H01").first()
    below = await units_below(huyen["id"])
    codes = {row["code"] for row in await Unit.select(Unit.code).where(Unit.id.is_in(list(below)))}
    assert "H01" in codes and all(code.startswith("H01") for code in codes)
    assert "H02" not in codes and "DEMO" not in codes


async def test_security_headers_and_no_cookie_on_the_citizen_form(client, counter_form):
    page = await client.get(counter_form)
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in page.headers
    assert "strict-transport-security" not in page.headers  # only under HTTPS


async def test_cli_creates_the_first_admin_and_refuses_bad_input(app):
    with pytest.raises(UserCommandError, match="unit manager needs --unit"):
        await create_user("ql.khong.donvi", PASSWORD, "unit_manager")
    with pytest.raises(UserCommandError, match="ít nhất 10"):
        await create_user("ngan", "abc", "admin")
    with pytest.raises(UserCommandError, match="already exists"):
        await create_user("admin", PASSWORD, "admin")
    with pytest.raises(UserCommandError, match="no unit"):
        await create_user("ql.x", PASSWORD, "unit_manager", "KHONG-CO")
    assert not await User.exists().where(User.username.is_in(["ql.khong.donvi", "ngan", "ql.x"]))


def test_user_create_command_reads_the_password_from_stdin(tmp_path, monkeypatch):
    from survey_app.cli import app as cli

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SECRET_KEY", "cli-test")
    result = CliRunner().invoke(cli, ["user", "create", "quantri", "--role", "admin", "--password-stdin"],
                                input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    listed = CliRunner().invoke(cli, ["user", "list"])
    assert "quantri" in listed.output and "admin" in listed.output
    again = CliRunner().invoke(cli, ["user", "create", "quantri", "--role", "admin", "--password-stdin"],
                               input=PASSWORD + "\n")
    assert again.exit_code == 1 and "already exists" in again.output


async def test_sessions_are_kept_in_a_folder_that_has_no_var_yet(tmp_path, monkeypatch):
    # `survey serve` started in a fresh folder answered 500 on the first sign-in: var/ did not exist yet
    from types import SimpleNamespace

    from survey_app.accounts.middleware import session_store

    monkeypatch.chdir(tmp_path)
    store = session_store(SimpleNamespace(redis_url=""))
    await store.set("some-session", b"signed-in", expires_in=60)
    assert await store.get("some-session") == b"signed-in"
