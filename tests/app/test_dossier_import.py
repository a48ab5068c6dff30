"""Completed dossiers from a CSV or XLSX file (the staff page and `survey dossiers import`): every bad row reported
with its spreadsheet row, field and a Vietnamese reason, nothing half-stored; a good file gives each dossier a
working rating link. And `survey sample draw-dossiers --stored` draws from the stored dossiers, reproducibly."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from survey_app.core.dossier_tables import Dossier
from survey_app.core.vietnam_time import today_in_vietnam
from tests.app.helpers import csrf_token
from tests.app.test_sample_cli import SURVEY
from tests.workbooks import real_workbook

TODAY = today_in_vietnam()
HEADER = ("Mã hồ sơ", "Mã thủ tục", "Lĩnh vực", "Mã đơn vị", "Kênh", "Ngày tiếp nhận", "Ngày hẹn trả",
          "Ngày trả kết quả")


def a_code() -> str:
    return f"H12.{uuid.uuid4().hex[:12].upper()}"


def good_row(code: str, unit: str = "SO05", returned: dt.date | None = None) -> tuple:
    returned = returned or TODAY - dt.timedelta(days=2)
    return (code, "1.001193", "ho_tich", unit, "truc_tiep", (returned - dt.timedelta(days=5)).strftime("%d/%m/%Y"),
            "", returned.strftime("%d/%m/%Y"))


def csv_bytes(rows: list[tuple], header=HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def bad_rows() -> tuple[list[tuple], set[tuple[int, str]]]:
    """Rows with one problem each (spreadsheet rows: the header is row 1) and the (row, field) each must give."""
    twice = a_code()
    rows = [good_row(a_code()),  # row 2: good, but stored only with the rest
            good_row(a_code(), unit="KHONG-CO"),  # 3
            (a_code(), "0.000000", "ho_tich", "SO05", "truc_tiep", "01/10/2026", "", "02/10/2026"),  # 4
            (a_code(), "1.001193", "ho_tich", "SO05", "truc_tiep", "05/10/2026", "", "03/10/2026"),  # 5
            (a_code(), "1.001193", "ho_tich", "SO05", "truc_tiep", "ngày 5", "", "03/10/2026"),  # 6
            good_row(twice), good_row(twice)]  # 7, 8
    return rows, {(3, "unit"), (4, "procedure"), (5, "returned_on"), (6, "received_on"), (7, "code"), (8, "code")}


async def upload(client, name: str, data: bytes):
    page = await client.get("/analyst/dossiers/import")
    assert page.status_code == 200 and "Nhập danh sách hồ sơ đã giải quyết" in page.text
    return await client.post("/analyst/dossiers/import", data={"_csrf_token": csrf_token(page.text)},
                             files={"file": (name, data)})


async def test_a_file_with_bad_rows_lists_each_and_stores_nothing(analyst):
    rows, expected = bad_rows()
    before = await Dossier.count()
    refused = await upload(analyst, "hoso.csv", csv_bytes(rows))
    assert refused.status_code == 422 and "có 6 lỗi; chưa lưu hồ sơ nào" in refused.text
    shown = {(int(row), field) for row, field in __import__("re").findall(
        r'<tr><td class="num">(\d+)</td><td>([a-z_]+)</td>', refused.text)}
    assert shown == expected
    for words in ("Không có đơn vị mã “KHONG-CO”", "Ngày trả kết quả trước ngày tiếp nhận", "không đúng dạng ngày",
                  "Không có thủ tục mã “0.000000”", "trùng trong cùng tệp/lô (dòng 7, 8)"):
        assert words in refused.text, words
    assert await Dossier.count() == before


async def test_a_file_without_a_needed_column_says_which(analyst):
    refused = await upload(analyst, "hoso.csv", csv_bytes([good_row(a_code())[:4]], header=HEADER[:4]))
    assert refused.status_code == 422 and "Tệp thiếu cột “channel” (kênh)" in refused.text
    assert (await upload(analyst, "hoso.pdf", b"%PDF")).status_code == 422


async def test_a_good_xlsx_gives_every_dossier_a_working_link_and_a_second_import_is_refused(analyst, client):
    codes = [a_code() for _ in range(3)]
    data = real_workbook(HEADER, *[good_row(code) for code in codes])
    stored = await upload(analyst, "hoso.xlsx", data)
    assert stored.status_code == 200 and stored.headers["content-type"].startswith("text/csv")
    links = list(csv.DictReader(io.StringIO(stored.content.decode("utf-8-sig"))))
    assert [row["code"] for row in links] == codes and [row["row"] for row in links] == ["2", "3", "4"]
    for row in links:
        assert (await client.get(urlsplit(row["rating_url"]).path)).status_code == 200
    again = await upload(analyst, "hoso.xlsx", data)
    assert again.status_code == 422 and again.text.count("đã được gửi trước đây") == 3


def run_survey(settings, *arguments) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key}
    return subprocess.run([str(SURVEY), *arguments], capture_output=True, text=True, env=environment, timeout=120)


async def test_the_command_imports_all_or_nothing_and_writes_the_links_once(app, settings, tmp_path):
    rows, expected = bad_rows()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(rows))
    before = await Dossier.count()
    result = run_survey(settings, "dossiers", "import", str(bad))
    assert result.returncode == 1 and "nothing stored" in result.stderr
    for row, field in expected:
        assert f"dòng {row}, {field}:" in result.stderr
    assert await Dossier.count() == before and not (tmp_path / "bad.links.csv").exists()

    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([good_row(a_code()) for _ in range(4)]))
    result = run_survey(settings, "dossiers", "import", str(good))
    assert result.returncode == 0, result.stderr
    links = tmp_path / "good.links.csv"
    assert "stored 4 dossier(s)" in result.stdout and oct(links.stat().st_mode & 0o777) == "0o600"
    assert await Dossier.count() == before + 4


async def test_draw_dossiers_reads_the_stored_dossiers_reproducibly(app, settings, tmp_path):
    """Dossiers of a past month (no other test stores any), drawn twice with one seed: the same selection."""
    month = [dt.date(2025, 3, day) for day in range(3, 9)]
    rows = [good_row(a_code(), unit=unit, returned=day) for unit in ("SO11", "SO12", "H05", "H06")
            for day in month for _ in range(3)]
    source = tmp_path / "march.csv"
    source.write_bytes(csv_bytes(rows))
    assert run_survey(settings, "dossiers", "import", str(source)).returncode == 0
    outputs = []
    for name in ("first.csv", "second.csv"):
        result = run_survey(settings, "sample", "draw-dossiers", "--stored", "--returned-from", "01/03/2025",
                            "--returned-to", "31/03/2025", "-o", str(tmp_path / name), "--units", "2", "--days",
                            "2", "--dossiers", "2", "--seed", "7")
        assert result.returncode == 0, result.stderr
        assert "read 72 row(s): 72 drawn from" in result.stdout
        outputs.append((tmp_path / name).read_text(encoding="utf-8-sig"))
    assert outputs[0] == outputs[1]
    selected = [row for row in csv.DictReader(io.StringIO(outputs[0])) if row["status"] == "selected"]
    assert len(selected) == 8 and sum(float(row["design_weight"]) for row in selected) == pytest.approx(72)
    references = {row["link_id"] for row in await Dossier.select(Dossier.link_id)}
    assert {row["dossier_code"] for row in selected} <= references  # a reference, never a code
    refused = run_survey(settings, "sample", "draw-dossiers", "--stored", "-o", str(tmp_path / "x.csv"),
                         "--units", "1", "--days", "1", "--dossiers", "1")
    assert refused.returncode == 1 and "--returned-from" in refused.stderr


def numbered_rows(count: int) -> list[tuple[int, dict]]:
    from survey_app.dossiers.services import FIELDS

    return [(number, dict(zip(FIELDS, good_row(a_code())))) for number in range(2, count + 2)]


async def test_a_large_import_lets_other_writes_through_and_shows_nothing_until_all_is_stored(app, settings):
    """SQLite has one writer: a 50,000-row file in one transaction held every citizen's post for 1.7 s. The rows go
    in small transactions, held (unseen by every reader) until the last is in."""
    import asyncio

    from survey_app.core import db
    from survey_app.dossiers import services

    visible_before = await Dossier.count().where(Dossier.held_by.is_null())
    task = asyncio.create_task(services.store_dossiers(numbered_rows(12_000), settings.secret_key, "import"))
    if settings.is_sqlite:
        for _ in range(2000):
            if await Dossier.count().where(Dossier.held_by.is_not_null()):
                break
            await asyncio.sleep(0.005)
        # a write meanwhile, through the one writer as a citizen's post goes
        await db.write_returning('UPDATE "domain" SET "name_en" = $1 WHERE "code" = $2', "Civil status", "ho_tich")
        assert not task.done()  # it went through between two chunks, not behind the whole file
        assert await Dossier.count().where(Dossier.held_by.is_null()) == visible_before
    assert len(await task) == 12_000
    assert await Dossier.count().where(Dossier.held_by.is_null()) == visible_before + 12_000
    assert await Dossier.count().where(Dossier.held_by.is_not_null()) == 0


async def test_an_import_failing_part_way_leaves_no_row_behind(app, settings, monkeypatch):
    from survey_app.dossiers import services

    monkeypatch.setattr(services, "HELD_CHUNK", 100)
    first = await services.store_dossiers(numbered_rows(1), settings.secret_key, "import")
    before = await Dossier.count()
    checked = services.check_rows(numbered_rows(500), await services.load_catalogue(), settings.secret_key)
    taken = (await Dossier.select(Dossier.code_hash).where(Dossier.link_id == first[0].link_id).first())["code_hash"]
    checked.rows[350]["code_hash"] = taken  # stored by another batch since the check: the 4th chunk fails
    with pytest.raises(services.DossiersRefused):
        await services.insert_all(checked.rows, "import")
    assert await Dossier.count() == before
