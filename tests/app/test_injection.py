"""SQL and script payloads in every text field of the admin forms and in query parameters: each is refused or
stored as plain text and shown escaped, and nothing else in the database changes. A unit manager asking for
another unit's data gets 403, written to the audit log."""

from __future__ import annotations

import itertools

import pytest_asyncio

from survey_app.core.tables import AuditLog, Counter, Domain, Unit, User
from tests.app.helpers import csrf_token, post_form, signed_in

PAYLOADS = ("'; DROP TABLE unit;--", "<script>alert(1)</script>", "\" onfocus=\"alert(1)\" x=\"",
            "Robert'); DELETE FROM app_user WHERE '1'='1")
ESCAPED = {"<script>alert(1)</script>": "&lt;script&gt;alert(1)&lt;/script&gt;",
           "\" onfocus=\"alert(1)\" x=\"": "&#34; onfocus=&#34;alert(1)&#34; x=&#34;"}
TABLES = (Unit, Counter, Domain, User)
PASSWORD = "mật-khẩu-thử-2026"
numbers = itertools.count(1)


@pytest_asyncio.fixture(scope="module")
async def admin(app):
    async with signed_in(app, "admin") as client:
        await Unit.insert(Unit(code="INJ-H", name="Huyện Thử", level="huyen", parent=None))
        yield client


async def snapshot() -> dict:
    """Every row of the tables the admin forms write, without the columns sign-in itself updates."""
    rows = {}
    for table in TABLES:
        for row in await table.select():
            for volatile in ("failed_logins",):
                row.pop(volatile, None)
            rows[(table._meta.tablename, row["id"])] = row
    return rows


def form_cases() -> list[tuple[str, dict, str, str]]:
    """(path, form, field holding the payload, page that lists the result) for every text field."""
    cases = []
    for payload in PAYLOADS:
        number = next(numbers)
        domain = {"code": f"inj_d{number}", "name": "Lĩnh vực thử", "name_en": ""}
        counter = {"code": f"INJ-Q{number}", "name": "Quầy thử", "unit_code": "INJ-H"}
        account = {"username": f"inj.user{number}", "display_name": "Người thử", "role": "analyst",
                   "unit_code": "", "password": PASSWORD}
        unit = {"name": "Huyện Thử", "name_en": "", "level": "huyen", "parent_code": "DEMO"}
        for field in domain:
            cases.append(("/admin/domains", {**domain, field: payload}, field, "/admin/domains"))
        for field in ("name", "name_en"):
            cases.append(("/admin/domains/thu_nghiem_inj", {"name": "Tên", "name_en": "", field: payload}, field,
                          "/admin/domains"))
        for field in counter:
            cases.append(("/admin/counters", {**counter, field: payload}, field, "/admin/counters?unit=INJ-H"))
        for field in ("username", "display_name", "role", "unit_code"):
            cases.append(("/admin/users", {**account, field: payload}, field, "/admin/users"))
        for field in unit:
            cases.append(("/admin/units/INJ-H/edit", {**unit, field: payload}, field, "/admin/units/INJ-H/edit"))
    return cases


def changed_rows(before: dict, after: dict) -> list[dict]:
    assert set(before) <= set(after), "a row was deleted"
    return [row for key, row in after.items() if before.get(key) != row]


async def test_payloads_in_admin_forms_are_refused_or_stored_inert(admin):
    await Domain.insert(Domain(code="thu_nghiem_inj", name="Tên", name_en=""))
    stored = 0
    for path, form, field, listing in form_cases():
        payload = form[field]
        before = await snapshot()
        response = await post_form(admin, path, form, listing)
        assert response.status_code in (200, 422), f"{path} {field}: {response.status_code}"
        changed = changed_rows(before, await snapshot())
        if response.status_code == 422:
            assert changed == [], f"{path} {field}: refused, yet rows changed"
        else:
            stored += 1
            assert len(changed) == 1 and payload in changed[0].values(), f"{path} {field}: {changed}"
        page = (await admin.get(listing)).text
        assert "<script>alert(1)" not in page and 'onfocus="alert(1)"' not in page
        if response.status_code == 200 and payload in ESCAPED:
            assert ESCAPED[payload] in page, f"{path} {field}: the stored text is not shown"
    assert stored >= 20  # names and display names are free text: kept as typed, shown escaped
    assert await Unit.count() > 30  # the table is still there, with the demo province in it


async def test_payloads_in_a_unit_file_are_refused_or_stored_as_text(admin):
    for payload in PAYLOADS:
        for column in range(5):
            cells = ["INJ-F1", "Sở Thử", "", "so", "DEMO"]
            cells[column] = payload
            data = ("code,name,name_en,level,parent_code\n" + ",".join(
                '"' + cell.replace('"', '""') + '"' for cell in cells) + "\n").encode()
            before = await snapshot()
            page = await admin.get("/admin/units")
            preview = await admin.post("/admin/units/import", data={"_csrf_token": csrf_token(page.text)},
                                       files={"file": ("units.csv", data)})
            assert preview.status_code in (200, 422)
            assert "<script>alert(1)" not in preview.text and 'onfocus="alert(1)"' not in preview.text
            assert changed_rows(before, await snapshot()) == []  # a preview never writes


async def test_payloads_in_query_parameters_change_nothing_and_are_not_reflected_raw(admin):
    before = await snapshot()
    for payload in PAYLOADS:
        for path, params in (("/admin/audit", {"user": payload, "action": payload}),
                             ("/admin/audit/audit.csv", {"user": payload}),
                             ("/admin/counters", {"unit": payload}),
                             ("/results/SO01", {"campaign": payload}),
                             ("/api/v1/units/SO01/index", {"campaign": payload}),
                             ("/staff/units/SO01/counters/SO01-Q1/poster", {"campaign": payload, "format": payload})):
            response = await admin.get(path, params=params)
            assert response.status_code < 500, f"{path} {payload}: {response.status_code}"
            if response.headers.get("content-type", "").startswith("text/html"):
                assert "<script>alert(1)" not in response.text and 'onfocus="alert(1)"' not in response.text
        assert (await admin.get(f"/results/{payload}")).status_code in (404, 200)
    assert changed_rows(before, await snapshot()) == []


async def test_a_unit_manager_asking_for_another_units_data_gets_403_and_is_logged(app):
    async with signed_in(app, "so01") as manager:
        assert (await manager.get("/staff/units/SO01/counters")).status_code == 200
        for path in ("/staff/units/H01/counters", "/staff/units/H01/counters/H01-Q1/poster?campaign=QUAY-2026"):
            before = await AuditLog.count().where(AuditLog.action == "access_denied")
            refused = await manager.get(path)
            assert refused.status_code == 403 and "không có quyền" in refused.text
            entry = await AuditLog.select().where(AuditLog.action == "access_denied").order_by(
                AuditLog.id, ascending=False).first()
            assert await AuditLog.count().where(AuditLog.action == "access_denied") == before + 1
            assert entry["username"] == "so01" and entry["target"] == f"GET {path.split('?')[0]}"
            assert "outside the scope" in entry["detail"]
        assert (await manager.get("/admin/units")).status_code == 403
