"""`survey export` on the demo province: every format reads back, privacy rules hold, bad input gives a message."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import json
import os
import subprocess
import sys
import threading
import unicodedata
import uuid
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from questionnaires import load_shipped
from survey_app.core import db
from survey_app.campaigns.catalog import register
from survey_app.exports import service
from survey_app.exports.service import ExportError, export_campaign, plan_export, stream_export
from survey_app.core.tables import Campaign, Counter, Questionnaire, Response, Unit
from tests.app.analyst_helpers import signed_in_client
from tests.app.helpers import started_app
from tests.questionnaires.forms import form_yaml, section

SURVEY = Path(sys.executable).parent / "survey"


def run_survey(settings, *arguments, **variables) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": settings.database_url, "SECRET_KEY": settings.secret_key, **variables}
    return subprocess.run([str(SURVEY), *arguments], capture_output=True, text=True, env=environment, timeout=120)


async def make_campaign(code: str, questionnaire_key: str = "counter_rating", mode: str = "open_qr") -> dict:
    questionnaire = await Questionnaire.select().where(Questionnaire.key == questionnaire_key).first()
    if not await Campaign.exists().where(Campaign.code == code):
        await Campaign.insert(Campaign(code=code, name=f"Đợt thử {code}", questionnaire=questionnaire["id"],
                                       starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2026, 12, 31), mode=mode))
    return await Campaign.select().where(Campaign.code == code).first()


async def add_response(campaign: dict, unit_code: str, answers: dict, questionnaire_id: int | None = None, **extra):
    unit = await Unit.select(Unit.id).where(Unit.code == unit_code).first()
    await Response.insert(Response(
        campaign=campaign["id"], unit=unit["id"], questionnaire=questionnaire_id or campaign["questionnaire"],
        idempotency_key=uuid.uuid4().hex, answers_digest="x" * 64, answers=json.dumps(answers, ensure_ascii=False),
        **extra))


RATINGS = {"domain": "dat_dai", "reception": 5, "publicity": 4, "timeliness": "na", "attitude": 2}


async def test_csv_sav_dta_and_xlsx_hold_the_same_values_and_labels(app, tmp_path):
    paths = {fmt: tmp_path / f"sipas.{fmt}" for fmt in ("csv", "sav", "dta", "xlsx", "json")}
    for fmt, path in paths.items():
        await export_campaign("SIPAS-2026", fmt, path)
    expected = await Response.count().where(Response.campaign.code == "SIPAS-2026")
    csv = pd.read_csv(paths["csv"], encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    sav, sav_meta = pyreadstat.read_sav(str(paths["sav"]), user_missing=True)
    dta, dta_meta = pyreadstat.read_dta(str(paths["dta"]), user_missing=True)
    assert len(csv) == len(sav) == len(dta) == expected
    for column in ("response_id", "weight", "access_seats", "gender", "improve_first_1"):
        assert np.allclose(csv[column].to_numpy(float), sav[column].to_numpy(float), equal_nan=True), column
        dta_codes = dta[column].replace({"a": 9}).to_numpy(float)  # Stata's .a is the export's 9 (N/A)
        assert np.allclose(csv[column].to_numpy(float), dta_codes, equal_nan=True), column
    assert (dta["access_seats"] == "a").sum() == (csv["access_seats"] == 9).sum() > 0
    assert csv["unit_code"].tolist() == sav["unit_code"].tolist() == dta["unit_code"].tolist()
    assert set(csv["access_seats"].dropna()) <= {1, 2, 3, 4, 5, 9}
    assert sav_meta.variable_value_labels["gender"] == dta_meta.variable_value_labels["gender"]
    label = sav_meta.column_names_to_labels["access_seats"]
    assert "chỗ ngồi" in label and unicodedata.is_normalized("NFC", label)
    workbook = openpyxl.load_workbook(paths["xlsx"], read_only=True)
    assert workbook.sheetnames[:2] == ["du_lieu", "so_ma"]
    codebook = {row[0]: row for row in workbook["so_ma"].iter_rows(min_row=2, values_only=True)}
    assert codebook["access_seats"][2] and "4 = Hài lòng" in codebook["access_seats"][4]
    assert sum(1 for _ in paths["json"].open(encoding="utf-8")) == expected


async def test_design_columns_carry_weight_psu_level_and_no_identities(app, tmp_path):
    campaign = await make_campaign("EXP-DESIGN")
    counter = await Counter.select(Counter.id).where(Counter.code == "SO02-Q1").first()
    await add_response(campaign, "SO02", {**RATINGS, "dossier_code": "HS-000123", "why": "=cmd|'/c calc'!A1"},
                       counter=counter["id"], weight=2.5, quality_flags=json.dumps(["speeding"]))
    await add_response(campaign, "H01X1", RATINGS, weight=0.5)
    path = tmp_path / "design.csv"
    await export_campaign("EXP-DESIGN", "csv", path)
    text = path.read_text(encoding="utf-8-sig")
    assert "HS-000123" not in text and "dossier" not in text
    table = pd.read_csv(io.StringIO(text), keep_default_na=False)
    first, second = table.iloc[0], table.iloc[1]
    assert (first["psu"], first["unit_level"], first["weight"]) == ("SO02-Q1", "so", 2.5)
    assert (second["psu"], second["unit_level"], second["weight"]) == ("H01X1", "xa", 0.5)
    assert (first["quality_flags"], first["flagged"], second["flagged"]) == ("speeding", 1, 0)
    assert (first["reception"], first["timeliness"], first["domain"]) == (5, 9, 1)
    assert first["why"] == "'=cmd|'/c calc'!A1"
    codes = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert codes.loc[0, ["reception", "timeliness", "flagged"]].tolist() == ["5", "9", "1"]  # codes, never 5.0
    assert dt.datetime.strptime(first["submitted_on"], "%d/%m/%Y")


@pytest.mark.parametrize("export_format", ["csv", "sav", "dta"])
async def test_the_submission_day_is_vietnams(app, tmp_path, export_format):
    """Stored in UTC, dated in Vietnam (UTC+7): 20:30 UTC on 1 March is 03:30 on 2 March at the counter. An
    official's stored Monday 00:00 UTC (the week only) stays that Monday."""
    code = f"EXP-DAY-{export_format}"
    campaign = await make_campaign(code)
    utc = dt.timezone.utc
    for moment in (dt.datetime(2026, 3, 1, 16, 59, tzinfo=utc), dt.datetime(2026, 3, 1, 20, 30, tzinfo=utc),
                   dt.datetime(2026, 11, 16, 0, 0, tzinfo=utc)):
        await add_response(campaign, "SO02", RATINGS, submitted_at=moment)
    path = tmp_path / f"day.{export_format}"
    await export_campaign(code, export_format, path)
    if export_format == "csv":
        assert pd.read_csv(path, dtype=str)["submitted_on"].tolist() == ["01/03/2026", "02/03/2026", "16/11/2026"]
        return
    days, meta = (pyreadstat.read_sav if export_format == "sav" else pyreadstat.read_dta)(str(path))
    assert days["submitted_on"].tolist() == [dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 11, 16)]
    assert meta.original_variable_types["submitted_on"] in ("EDATE10", "%td")  # SPSS shows dd.mm.yyyy


async def test_an_empty_campaign_is_refused_and_nothing_is_written(app, tmp_path, settings):
    await make_campaign("EXP-EMPTY")
    with pytest.raises(ExportError, match="chưa có phiếu trả lời"):
        await export_campaign("EXP-EMPTY", "sav", tmp_path / "empty.sav")
    result = run_survey(settings, "export", "EXP-EMPTY", "--format", "csv", "--out", str(tmp_path / "empty.csv"))
    assert result.returncode == 1 and "no responses" in result.stderr
    assert list(tmp_path.iterdir()) == []


async def test_unknown_campaign_and_format_give_messages(app, tmp_path):
    with pytest.raises(ExportError, match="no campaign"):
        await export_campaign("NO-SUCH", "csv", tmp_path / "x.csv")
    with pytest.raises(ExportError, match="format must be one of"):
        await export_campaign("SIPAS-2026", "pdf", tmp_path / "x.pdf")
    assert list(tmp_path.iterdir()) == []


async def test_a_questionnaire_version_change_mid_campaign_is_reported(app, tmp_path):
    campaign = await make_campaign("EXP-VERSIONS")
    changed = dataclasses.replace(load_shipped()["counter_rating"], version="2-test")
    new_id = await register(changed)
    await add_response(campaign, "SO03", RATINGS)
    await add_response(campaign, "SO03", RATINGS, questionnaire_id=new_id)
    plan = await plan_export("EXP-VERSIONS")
    assert any("nhiều phiên bản" in note and "v2-test" in note for note in plan.notes)
    path = tmp_path / "versions.xlsx"
    await export_campaign("EXP-VERSIONS", "xlsx", path)
    workbook = openpyxl.load_workbook(path)
    versions = [row[7] for row in workbook["du_lieu"].iter_rows(min_row=2, values_only=True)]
    assert versions == ["1", "2-test"] and "v2-test" in workbook["ghi_chu"]["A2"].value


async def test_officials_answers_are_hidden_for_units_with_fewer_than_five(app, tmp_path):
    campaign = await make_campaign("EXP-OFFICIALS", "par_index_so", mode="invitation")
    for _ in range(3):
        await add_response(campaign, "SO04", {"q_answer": "x"}, channel="invitation", stratum="SO04:leader")
    rating_key = next(item.key for item in load_shipped()["par_index_so"].items if item.type == "rating5")
    for _ in range(5):
        await add_response(campaign, "SO05", {rating_key: 4}, channel="invitation", stratum="SO05:staff")
    path = tmp_path / "officials.csv"
    plan = await export_campaign("EXP-OFFICIALS", "csv", path)
    table = pd.read_csv(path, encoding="utf-8-sig")
    small, large = table[table["unit_code"] == "SO04"], table[table["unit_code"] == "SO05"]
    assert (small["suppressed"] == 1).all() and (large["suppressed"] == 0).all()
    assert small[rating_key].isna().all() and (large[rating_key] == 4).all()
    assert any("SO04" in note for note in plan.notes)


async def test_a_raised_suppress_below_hides_officials_in_web_and_command_line_exports(app, settings, tmp_path):
    campaign = await make_campaign("EXP-THRESHOLD", "par_index_so", mode="invitation")
    rating_key = next(item.key for item in load_shipped()["par_index_so"].items if item.type == "rating5")
    for _ in range(5):
        await add_response(campaign, "SO05", {rating_key: 4}, channel="invitation", stratum="SO05:staff")
    default = b"".join([piece async for piece in await stream_export("EXP-THRESHOLD", "csv")])
    assert (pd.read_csv(io.BytesIO(default), encoding="utf-8-sig")[rating_key] == 4).all()
    async with started_app(app, dataclasses.replace(settings, suppress_below=6)) as strict:
        analyst = await signed_in_client(strict, "analyst")
        web = (await analyst.get("/analyst/campaigns/EXP-THRESHOLD/export/csv")).content
        await analyst.aclose()
    result = run_survey(settings, "export", "EXP-THRESHOLD", "--out", str(tmp_path / "cli.csv"), SUPPRESS_BELOW="6")
    assert result.returncode == 0 and "fewer than 6 responses: SO05" in result.stderr
    for source in (io.BytesIO(web), tmp_path / "cli.csv"):
        table = pd.read_csv(source, encoding="utf-8-sig")
        assert len(table) == 5 and (table["suppressed"] == 1).all() and table[rating_key].isna().all()


async def test_csv_streams_for_the_web(app):
    pieces = [piece async for piece in await stream_export("QUAY-2026", "csv")]
    assert pieces[0].startswith("\ufeff".encode()) and len(pieces) >= 2
    expected = await Response.count().where(Response.campaign.code == "QUAY-2026")
    assert len(pd.read_csv(io.BytesIO(b"".join(pieces)), encoding="utf-8-sig")) == expected
    with pytest.raises(ExportError):
        await stream_export("NO-SUCH", "json")


async def test_export_command_writes_the_file_with_a_progress_bar(app, settings, tmp_path):
    out = tmp_path / "quay.sav"
    result = run_survey(settings, "export", "QUAY-2026", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "QUAY-2026 → sav" in result.stderr and "wrote" in result.stdout
    frame, meta = pyreadstat.read_sav(str(out))
    assert meta.column_names_to_labels["attitude"] == "Thái độ, tinh thần phục vụ của công chức"


@pytest.mark.parametrize("export_format", ["xlsx", "sav", "dta"])
async def test_a_failure_while_writing_leaves_no_file(app, tmp_path, monkeypatch, export_format):
    """These writers pull chunks from another thread: an error there still reaches the caller, and neither the
    partial file nor the .sav/.dta scratch chunks stay behind."""
    real_chunks = service.response_chunks

    async def failing_after_one_chunk(plan, *args):
        async for chunk in real_chunks(plan, *args):
            yield chunk
            raise RuntimeError("database went away")

    monkeypatch.setattr(service, "response_chunks", failing_after_one_chunk)
    with pytest.raises(RuntimeError, match="went away"):
        await export_campaign("QUAY-2026", export_format, tmp_path / f"quay.{export_format}")
    assert list(tmp_path.iterdir()) == []


async def test_export_pages_follow_the_campaign_id_index(app):
    """Without (campaign, id) each 5 000-row page sorted the rest of the campaign again (quadratic at 1 M)."""
    engine = Response._meta.db
    if engine.engine_type != "sqlite":  # PostgreSQL plans a small test table with a scan: check the index itself
        rows = await db.fetch_tuples("SELECT indexdef FROM pg_indexes WHERE indexname = $1", "response_campaign_id")
        assert len(rows) == 1 and rows[0][0].endswith("(campaign, id)")
        return
    sql = service.RESPONSES_SQL.format(submitted_on=service.SUBMITTED_ON["sqlite"])
    plan = await db.fetch_tuples("EXPLAIN QUERY PLAN " + sql, 1, 0, 10)
    details = " ".join(str(row[-1]) for row in plan)
    assert "response_campaign_id" in details and "TEMP B-TREE" not in details


async def test_more_xlsx_exports_at_once_than_asyncio_has_threads_all_finish(app, tmp_path):
    """Each XLSX writer waits in a thread for chunks whose SQLite reads need a thread too: in asyncio's shared
    pool, as many exports as it has threads used to wait on each other for ever."""
    at_once = min(32, (os.cpu_count() or 1) + 4) + 2  # the default pool's size, and then some
    exports = [export_campaign("QUAY-2026", "xlsx", tmp_path / f"quay-{number}.xlsx") for number in range(at_once)]
    await asyncio.wait_for(asyncio.gather(*exports), timeout=300)  # a bound for a hang, not a speed check
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(f"quay-{n}.xlsx" for n in range(at_once))


@pytest.mark.parametrize("export_format", ["xlsx", "sav", "dta"])
async def test_a_cancelled_export_leaves_no_file_behind(app, tmp_path, monkeypatch, export_format):
    """The browser went away: the thread writing the file is stopped or awaited before the partial file is
    removed, so an export (officials' answers included) never lingers on disk."""
    real_chunks, first_chunk_read = service.response_chunks, asyncio.Event()

    async def one_chunk_then_a_slow_database(plan, *args):
        async for chunk in real_chunks(plan, *args):
            yield chunk
            first_chunk_read.set()
            await asyncio.sleep(3600)

    monkeypatch.setattr(service, "response_chunks", one_chunk_then_a_slow_database)
    export = asyncio.ensure_future(export_campaign("QUAY-2026", export_format, tmp_path / f"quay.{export_format}"))
    await asyncio.wait_for(first_chunk_read.wait(), timeout=60)
    export.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(export, timeout=60)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("export_format", ["csv", "sav"])
async def test_answers_are_coded_off_the_event_loop(app, tmp_path, monkeypatch, export_format):
    """Coding a page takes tens of ms: on the loop it would hold up citizens' forms served by the same worker."""
    real_encode, coding_threads = service.encode_chunk, set()

    def recording_encode(*args):
        coding_threads.add(threading.get_ident())
        return real_encode(*args)

    monkeypatch.setattr(service, "encode_chunk", recording_encode)
    await export_campaign("QUAY-2026", export_format, tmp_path / f"quay.{export_format}")
    assert coding_threads and threading.get_ident() not in coding_threads


PIPED = form_yaml("piped", section("""
    - {key: weight, type: integer, label: {vi: Cân nặng, en: Weight}}
    - {key: name, type: text, label: {vi: Tên, en: Name}}
    - {key: why, type: single, label: {vi: "Vì sao ${name} nặng ${weight} kg?", en: "Why is ${name} ${weight} kg?"},
       choices: [{value: a, label: {vi: Ăn nhiều, en: Eats a lot}}]}
"""))


def test_a_piped_label_reads_as_the_piped_column_in_the_codebook_and_the_spss_stata_labels(tmp_path):
    from analysis.export_writers import write_dta, write_sav
    from questionnaires import load_definition
    from survey_app.exports.codebook import answer_columns

    [why] = [column.variable for column in answer_columns([load_definition(PIPED)]) if column.variable.name == "why"]
    assert (why.label_vi, why.label_en) == ("Vì sao [name] nặng [q_weight] kg?", "Why is [name] [q_weight] kg?")
    frame = pd.DataFrame({"why": [1.0]})
    write_sav(tmp_path / "p.sav", [why], [frame])
    write_dta(tmp_path / "p.dta", [why], [frame.copy()])
    assert pyreadstat.read_sav(str(tmp_path / "p.sav"))[1].column_names_to_labels["why"] == why.label_vi
    assert pyreadstat.read_dta(str(tmp_path / "p.dta"))[1].column_names_to_labels["why"] == why.label_vi


def test_time_and_datetime_answers_export_as_text_written_the_vietnamese_way():
    from questionnaires import load_definition
    from survey_app.exports.codebook import answer_columns

    definition = load_definition(PIPED.replace("{key: name, type: text,", "{key: name, type: datetime,")
                                 .replace("{key: weight, type: integer,", "{key: weight, type: time,"))
    columns = {column.variable.name: column for column in answer_columns([definition])}
    assert columns["name"].variable.kind == columns["q_weight"].variable.kind == "string"
    assert columns["name"].encode("2024-12-25T09:05") == "25/12/2024 09:05"
    assert columns["q_weight"].encode("14:30") == "14:30"
