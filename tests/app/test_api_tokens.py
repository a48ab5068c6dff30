"""API tokens: scopes limit the routes, expiry and revocation end them, account changes revoke them for good,
the admin page and `survey token` issue, list and revoke them, and a new token is shown once."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
import pytest_asyncio
from typer.testing import CliRunner

from survey_app.accounts import api_tokens
from survey_app.accounts.users import create_user
from survey_app.core.tables import ApiToken, AuditLog, User
from tests.app.helpers import post_form, sign_in

PASSWORD = "rất-bí-mật-2026"
REPORT = "/analyst/campaigns/QUAY-2026/report.html"


@pytest_asyncio.fixture
async def fresh(app):
    clients = []

    def make():
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest_asyncio.fixture
async def admin(app, fresh):
    client = fresh()
    assert (await sign_in(client, "admin")).status_code == 303
    return client


async def issue(settings, username: str, *scopes: str, days: int = 30) -> str:
    return await api_tokens.issue(settings.secret_key, username, "kiểm thử", list(scopes), days, actor="test")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


async def user_id(username: str) -> int:
    return (await User.select(User.id).where(User.username == username).first())["id"]


async def test_a_token_opens_only_the_routes_of_its_scopes(app, fresh, settings):
    client = fresh()
    reader = await issue(settings, "analyst", "results")
    assert (await client.get("/analyst/campaigns", headers=bearer(reader))).status_code == 200
    refused = await client.get(REPORT, headers=bearer(reader))
    assert refused.status_code == 403 and "phạm vi" in refused.text
    exporter = await issue(settings, "analyst", "export")
    assert (await client.get(REPORT, headers=bearer(exporter))).status_code == 200
    assert (await client.get("/analyst/campaigns", headers=bearer(exporter))).status_code == 403
    # a route no scope opens refuses every token, even an admin's
    administrator = await issue(settings, "admin", "admin")
    assert (await client.get("/admin/audit/audit.csv", headers=bearer(administrator))).status_code == 200
    assert (await client.get("/account/password", headers=bearer(administrator))).status_code == 403
    # the scope never widens the role: an admin's results token is still refused analyst-only pages
    admin_reader = await issue(settings, "admin", "results")
    assert (await client.get("/analyst/campaigns", headers=bearer(admin_reader))).status_code == 403
    denied = await AuditLog.select(AuditLog.detail).where(AuditLog.action == "access_denied")
    assert any("API token scopes export" in row["detail"] for row in denied)


async def test_a_scope_the_role_may_not_hold_and_bad_fields_are_refused_and_nothing_stored(app, settings):
    before = await ApiToken.count()
    with pytest.raises(api_tokens.TokenRefused, match="không được cấp phạm vi “admin”"):
        await issue(settings, "analyst", "admin")
    with pytest.raises(api_tokens.TokenRefused, match="Phạm vi “everything” không có"):
        await issue(settings, "analyst", "everything")
    with pytest.raises(api_tokens.TokenRefused, match="ít nhất một phạm vi"):
        await issue(settings, "analyst")
    with pytest.raises(api_tokens.TokenRefused, match="từ 1 đến 366"):
        await issue(settings, "analyst", "results", days=0)
    with pytest.raises(api_tokens.TokenRefused, match="Không có tài khoản"):
        await issue(settings, "khong-co-ai", "results")
    assert await ApiToken.count() == before


async def test_an_expired_token_is_refused(app, fresh, settings):
    token = await issue(settings, "analyst", "results")
    client = fresh()
    assert (await client.get("/analyst/campaigns", headers=bearer(token))).status_code == 200
    await ApiToken.update({ApiToken.expires_at: dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)}).where(
        ApiToken.token_hash == api_tokens.token_hash(settings.secret_key, token))
    assert (await client.get("/analyst/campaigns", headers=bearer(token))).status_code == 401


async def test_the_admin_page_shows_a_new_token_once_and_revokes_one_token_only(app, admin, fresh, settings):
    created = await post_form(admin, "/admin/tokens", {"username": "analyst", "name": "Báo cáo tháng",
                                                       "scopes": ["results", "export"], "days": "30"})
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    token = re.search(r'id="new_token" value="(sv_[^"]+)"', created.text).group(1)
    other = await issue(settings, "analyst", "results")
    page = await admin.get("/admin/tokens")
    assert token not in page.text and "Báo cáo tháng" in page.text and "Tải tệp xuất dữ liệu" in page.text
    assert not await ApiToken.exists().where(ApiToken.token_hash == token)  # only its keyed hash is stored
    row = await ApiToken.select(ApiToken.id).where(ApiToken.name == "Báo cáo tháng").first()
    revoked = await post_form(admin, f"/admin/tokens/{row['id']}/revoke", page_path="/admin/tokens")
    assert revoked.status_code == 200 and f"Đã thu hồi mã truy cập số {row['id']}" in revoked.text
    client = fresh()
    assert (await client.get("/analyst/campaigns", headers=bearer(token))).status_code == 401
    assert (await client.get("/analyst/campaigns", headers=bearer(other))).status_code == 200
    again = await post_form(admin, f"/admin/tokens/{row['id']}/revoke", page_path="/admin/tokens")
    assert again.status_code == 422 and "Không có mã truy cập số" in again.text


async def test_the_admin_page_refuses_a_bad_request_in_vietnamese(admin):
    refused = await post_form(admin, "/admin/tokens", {"username": "analyst", "name": "", "scopes": ["results"],
                                                       "days": "30"}, page_path="/admin/tokens")
    assert refused.status_code == 422 and "Tên mã truy cập: bắt buộc nhập" in refused.text
    refused = await post_form(admin, "/admin/tokens", {"username": "analyst", "name": "x", "days": "400",
                                                       "scopes": ["results"]}, page_path="/admin/tokens")
    assert refused.status_code == 422 and "từ 1 đến 366" in refused.text


async def test_a_password_reset_revokes_every_token_of_the_user(app, admin, fresh, settings):
    await create_user("token.reset", PASSWORD, "analyst")
    token = await issue(settings, "token.reset", "results")
    client = fresh()
    assert (await client.get("/analyst/campaigns", headers=bearer(token))).status_code == 200
    reset = await post_form(admin, f"/admin/users/{await user_id('token.reset')}/password",
                            {"password": "mật-khẩu-mới-2026"}, page_path="/admin/users")
    assert reset.status_code == 200
    assert (await client.get("/analyst/campaigns", headers=bearer(token))).status_code == 401


async def test_changing_ones_own_password_revokes_ones_tokens(app, fresh, settings):
    await create_user("token.change", PASSWORD, "analyst")
    token = await issue(settings, "token.change", "results")
    person = fresh()
    await sign_in(person, "token.change", PASSWORD)
    changed = await post_form(person, "/account/password", {"current": PASSWORD, "new": "mật-khẩu-mới-2026",
                                                            "repeat": "mật-khẩu-mới-2026"},
                              page_path="/account/password")
    assert changed.status_code == 200 and "Đã đổi mật khẩu" in changed.text
    assert (await fresh().get("/analyst/campaigns", headers=bearer(token))).status_code == 401


async def test_reactivating_a_user_does_not_revive_their_tokens(app, admin, fresh, settings):
    await create_user("token.active", PASSWORD, "analyst")
    token = await issue(settings, "token.active", "results")
    account = await user_id("token.active")
    deactivated = await post_form(admin, f"/admin/users/{account}/deactivate", {"confirm": "yes", "reason": "nghỉ việc"},
                                  page_path="/admin/users")
    assert deactivated.status_code == 200
    assert (await fresh().get("/analyst/campaigns", headers=bearer(token))).status_code == 401
    await post_form(admin, f"/admin/users/{account}/activate", page_path="/admin/users")
    assert (await User.select(User.active).where(User.id == account).first())["active"]
    assert (await fresh().get("/analyst/campaigns", headers=bearer(token))).status_code == 401


def test_the_token_commands_issue_list_and_revoke(tmp_path, monkeypatch):
    from survey_app.cli import app as cli

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("SECRET_KEY", "cli-test")
    runner = CliRunner()
    assert runner.invoke(cli, ["user", "create", "may", "--role", "admin", "--password-stdin"],
                         input=PASSWORD + "\n").exit_code == 0
    created = runner.invoke(cli, ["token", "create", "may", "--name", "Prometheus", "--scope", "metrics",
                                  "--days", "10"])
    assert created.exit_code == 0, created.output
    assert created.output.startswith("sv_")
    listed = runner.invoke(cli, ["token", "list"])
    expires = (dt.datetime.now(dt.timezone(dt.timedelta(hours=7))) + dt.timedelta(days=10)).strftime("%d/%m/%Y")
    assert "Prometheus" in listed.output and "metrics" in listed.output and expires in listed.output
    assert "Còn hiệu lực" in listed.output and created.output.strip() not in listed.output
    token_id = listed.output.split()[0]
    assert runner.invoke(cli, ["token", "revoke", token_id]).exit_code == 0
    assert "Đã thu hồi" in runner.invoke(cli, ["token", "list", "--user", "may"]).output
    refused = runner.invoke(cli, ["token", "create", "may", "--name", "x", "--scope", "export"])
    assert refused.exit_code == 1 and "không được cấp phạm vi" in refused.output


async def test_an_odd_spelling_of_the_path_does_not_widen_a_token(app, fresh, settings):
    reader = await issue(settings, "analyst", "results")
    client = fresh()
    for path in ("/analyst//campaigns/QUAY-2026/report.html", "/analyst/campaigns/QUAY-2026//report.html",
                 "/analyst/campaigns/QUAY-2026/report.html/"):
        assert (await client.get(path, headers=bearer(reader))).status_code != 200, path


def test_the_command_lists_the_scopes_and_default_the_service_knows():
    from survey_app.commands.tokens import SCOPE_NAMES, create

    assert SCOPE_NAMES == ", ".join(api_tokens.SCOPES)
    assert create.__defaults__[-1].default == api_tokens.DEFAULT_DAYS
