"""The questionnaire upload refuses an XLSForm whose logic cannot be kept, listing every reason by row in
Vietnamese, and stores nothing; a legacy .xls form that keeps its logic is stored with it."""

from __future__ import annotations

import html
import io
import json

import pytest
import pytest_asyncio
from openpyxl import Workbook
from typer.testing import CliRunner

from survey_app.core.tables import Questionnaire
from tests.app.helpers import csrf_token, signed_in
from tests.questionnaires.test_pyxform_fixtures import FIXTURES
from tests.questionnaires.test_xlsform import BROKEN, YES_NO


@pytest_asyncio.fixture(scope="module")
async def admin(app):
    async with signed_in(app, "admin") as client:
        yield client


async def upload(client, filename: str, data: bytes):
    page = await client.get("/admin/questionnaires")
    return await client.post("/admin/questionnaires", data={"_csrf_token": csrf_token(page.text)},
                             files={"file": (filename, data)})


def workbook_bytes(sheets: dict) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_an_xlsform_with_invalid_expressions_lists_every_reason_by_row_and_stores_nothing(admin):
    before = await Questionnaire.count()
    page = await upload(admin, "hong.xlsx", workbook_bytes({"survey": BROKEN, "choices": YES_NO}))
    assert page.status_code == 422
    text = html.unescape(page.text)
    for row in ("4", "5", "6", "7", "8", "9", "10", "11", "14", "15"):
        assert f"hong.xlsx:{row}: survey." in text, row
    assert "'${q1} = = 'yes' and (' không phải biểu thức hợp lệ" in text
    assert "'${nosuch} > 1' nhắc tới ${nosuch}, nhưng không dòng nào của trang survey có tên này" in text
    assert "'${q3} >>> 5' không phải biểu thức hợp lệ: cột 8: cần một giá trị" in text
    assert "is not a valid expression" not in text  # Vietnamese on the page, not the English catalogue
    assert await Questionnaire.count() == before


async def test_a_legacy_xls_form_is_stored_with_its_condition(admin):
    data = (FIXTURES / "bug_example_xls/badly_named_choices_sheet.xls").read_bytes()
    page = await upload(admin, "badly_named_choices_sheet.xls", data)
    assert page.status_code == 200 and "Đã lưu badly_named_choices_sheet phiên bản 1" in page.text
    row = await Questionnaire.select(Questionnaire.definition).where(
        Questionnaire.key == "badly_named_choices_sheet").first()
    definition = row["definition"] if isinstance(row["definition"], dict) else json.loads(row["definition"])
    items = {item["key"]: item for section in definition["sections"] for item in section["items"]}
    assert items["name"]["show_if"] == "age >= 18"


async def test_a_stored_version_downloads_as_an_xlsform_that_uploads_back_unchanged(admin):
    from survey_app.campaigns.catalog import register_shipped

    ids = await register_shipped()
    page = await admin.get("/admin/questionnaires")
    assert f'href="/admin/questionnaires/{ids["counter_rating"]}/xlsform"' in page.text
    download = await admin.get(f"/admin/questionnaires/{ids['counter_rating']}/xlsform")
    assert download.status_code == 200 and download.content.startswith(b"PK")
    assert 'filename="counter_rating-1.xlsx"' in download.headers["content-disposition"]
    again = await upload(admin, "counter_rating-1.xlsx", download.content)
    assert again.status_code == 200 and "nội dung giống hệt: không thay đổi gì" in again.text
    assert (await admin.get("/admin/questionnaires/999999/xlsform")).status_code == 404


def test_export_xlsform_writes_a_workbook_that_imports_back_and_refuses_an_unknown_key(cli_env, tmp_path):
    from questionnaires import load_shipped
    from questionnaires.xlsform import load_xlsform
    from survey_app.cli import app as cli

    target = tmp_path / "sipas.xlsx"
    result = CliRunner().invoke(cli, ["export-xlsform", "sipas_citizen", "-o", str(target)], env=cli_env)
    assert result.exit_code == 0, result.output
    assert load_xlsform(target)[0].to_dict() == load_shipped()["sipas_citizen"].to_dict()
    missing = tmp_path / "missing.xlsx"
    result = CliRunner().invoke(cli, ["export-xlsform", "no_such_form", "-o", str(missing)], env=cli_env)
    assert result.exit_code == 1 and "no questionnaire 'no_such_form'" in result.output and not missing.exists()
