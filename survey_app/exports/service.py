"""A campaign's responses as CSV, JSON lines, XLSX, SPSS .sav or Stata .dta (docs/exports.md).

Responses are read in chunks by keyset pagination over Response.id, so every format uses flat memory whatever
the campaign's size. Files are written beside the target and renamed into place only when complete:
a failed export never leaves a broken file. The web layer streams CSV/JSON with `stream_export` and writes the
other formats as jobs (survey_app/exports/jobs.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator, Callable, Iterable, TypeVar

from analysis import export_writers as writers
from survey_app.core import db
from survey_app.campaigns.catalog import definition_of
from survey_app.exports.codebook import (MEMBER_DESIGN_VARIABLES, Column, Lookups, answer_columns, codebook_of,
                                         encode_chunk, encode_members, member_columns, repeat_sections)
from survey_app.core.settings import SMALL_GROUP_DEFAULT
from survey_app.core.tables import Campaign, Counter, Domain, Questionnaire, Response, Unit

T = TypeVar("T")

FORMATS = ("csv", "xlsx", "sav", "dta", "json", "members_csv")
STREAMED_FORMATS = ("csv", "json", "members_csv")
MEDIA_TYPES = {"csv": "text/csv", "members_csv": "text/csv", "json": "application/x-ndjson; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "sav": "application/x-spss-sav", "dta": "application/x-stata-dta"}
SUFFIXES = {"csv": ".csv", "members_csv": "_thanh_vien.csv", "json": ".jsonl", "xlsx": ".xlsx", "sav": ".sav", "dta": ".dta"}
CHUNK_SIZE = 5000
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit less the header row


class ExportError(Exception):
    """A refusal with a message for the user; nothing is written."""


@dataclass
class ExportPlan:
    """Everything an export needs before reading responses: what to read, the columns and what to tell."""

    campaign: dict
    response_count: int
    columns: list[Column]
    lookups: Lookups
    notes: list[str] = field(default_factory=list)
    weight_version: int | None = None  # the weight version in use when the export was planned (issue #24)
    member_columns: list[Column] = field(default_factory=list)  # the long table of repeats (one row per member)

    @property
    def member_codebook(self) -> list[writers.Variable]:
        return [*MEMBER_DESIGN_VARIABLES, *(column.variable for column in self.member_columns)]

    @property
    def codebook(self) -> list[writers.Variable]:
        """The columns' variables; the weight's label names its version, so a file says which weights it holds."""
        from dataclasses import replace

        version = f"phiên bản {self.weight_version}" if self.weight_version else "chưa gia quyền, mọi phiếu 1"
        version_en = f"version {self.weight_version}" if self.weight_version else "never weighted, all 1"
        return [replace(variable, label_vi=f"{variable.label_vi} ({version})", label_en=f"{variable.label_en} ({version_en})")
                if variable.name == "weight" else variable for variable in codebook_of(self.columns)]


async def plan_export(campaign_code: str, minimum: int = SMALL_GROUP_DEFAULT) -> ExportPlan:
    """The campaign, its columns and lookups; refuses an unknown or empty campaign with a clear message.
    Officials' answers of a unit with fewer than `minimum` responses (SUPPRESS_BELOW) are never exported."""
    campaign = await Campaign.select().where(Campaign.code == campaign_code).first()
    if campaign is None:
        raise ExportError(f"Không có đợt khảo sát với mã {campaign_code!r} / no campaign with code {campaign_code!r}")
    response_count = await Response.count().where(Response.campaign == campaign["id"])
    if response_count == 0:
        raise ExportError(f"Đợt khảo sát {campaign_code} chưa có phiếu trả lời nào, không có gì để xuất / "
                          f"campaign {campaign_code} has no responses: nothing to export")
    questionnaires = await _questionnaires_used(campaign)
    definitions = [definition_of(row) for row in questionnaires]
    from survey_app.results.weighting import version_in_use

    lookups = await _lookups(campaign, questionnaires, minimum)
    version = await version_in_use(campaign["id"])
    member_counts = await most_members(campaign["id"], repeat_sections(definitions))
    return ExportPlan(campaign, response_count, answer_columns(definitions, member_counts), lookups,
                      _version_notes(campaign, questionnaires) + _suppression_notes(lookups, minimum)
                      + _weight_notes(version) + _member_notes(member_counts), version["number"] if version else None,
                      member_columns(definitions))


def _member_notes(member_counts: dict[str, int]) -> list[str]:
    if not member_counts:
        return []
    widths = ", ".join(f"{key}: {count}" for key, count in member_counts.items())
    return [f"Nhóm lặp: bảng chính có cột theo từng thành viên ({widths} thành viên); bảng thanh_vien có một dòng "
            f"mỗi thành viên, nối với bảng chính qua response_id / repeat groups: columns per member in the main "
            f"table ({widths} members); the thanh_vien table has one row per member, joined by response_id"]


async def most_members(campaign_id: int, sections: list) -> dict[str, int]:
    """Repeat key → the most members one response of the campaign has: how many wide columns to write."""
    counts = {}
    for section in sections:
        if Response._meta.db.engine_type == "sqlite":  # 0 for a value that is not an array
            rows = await Response.raw("SELECT MAX(json_array_length(answers, '$.' || {})) AS most FROM response "
                                      "WHERE campaign = {}", section.key, campaign_id)
        else:  # an older version may hold a plain answer under the key: json_array_length would fail on it
            rows = await Response.raw("SELECT MAX(json_array_length(answers::json -> {})) AS most FROM response "
                                      "WHERE campaign = {} AND json_typeof(answers::json -> {}) = 'array'",
                                      section.key, campaign_id, section.key)
        counts[section.key] = int(rows[0]["most"] or 0) if rows else 0
    return counts


def _weight_notes(version: dict | None) -> list[str]:
    if version is None:
        return ["Cột weight: chưa gia quyền, mọi phiếu có trọng số 1 / weight: never weighted, every weight is 1"]
    return [f"Cột weight: phiên bản trọng số {version['number']} ({version['created_by']}); "
            + " ".join(version["method"]) + f" / weight: weight version {version['number']}"]


async def _questionnaires_used(campaign: dict) -> list[dict]:
    """The campaign's questionnaire first, then any other version its responses were given on."""
    used = await Response.select(Response.questionnaire).where(Response.campaign == campaign["id"]).distinct()
    ids = [campaign["questionnaire"]] + sorted({row["questionnaire"] for row in used} - {campaign["questionnaire"]})
    rows = {row["id"]: row for row in await Questionnaire.select().where(Questionnaire.id.is_in(ids))}
    return [rows[identifier] for identifier in ids]


def _version_notes(campaign: dict, questionnaires: list[dict]) -> list[str]:
    if len(questionnaires) < 2:
        return []
    versions = ", ".join(f"{row['key']} v{row['version']}" for row in questionnaires)
    return [f"Đợt {campaign['code']} có phiếu trả lời theo nhiều phiên bản phiếu hỏi ({versions}); cột "
            f"questionnaire_version cho biết phiên bản của từng phiếu / responses of campaign {campaign['code']} "
            f"come from several questionnaire versions ({versions}); see questionnaire_version"]


def _suppression_notes(lookups: Lookups, minimum: int) -> list[str]:
    if not lookups.suppressed_units:
        return []
    codes = ", ".join(sorted(lookups.units[unit][0] for unit in lookups.suppressed_units))
    return [f"Câu trả lời của công chức ở đơn vị có dưới {minimum} phiếu bị ẩn: {codes} / officials' "
            f"answers hidden for units with fewer than {minimum} responses: {codes}"]


async def _lookups(campaign: dict, questionnaires: list[dict], minimum: int) -> Lookups:
    units = {row["id"]: (row["code"], row["level"]) for row in await Unit.select(Unit.id, Unit.code, Unit.level)}
    counters = {row["id"]: row["code"] for row in await Counter.select(Counter.id, Counter.code)}
    domains = {row["id"]: row["code"] for row in await Domain.select(Domain.id, Domain.code)}
    versions = {row["id"]: str(row["version"]) for row in questionnaires}
    return Lookups(units, counters, domains, versions, await officials_groups_below(campaign, minimum))


async def officials_groups_below(campaign: dict, minimum: int) -> frozenset:
    """Units whose officials' responses in this campaign are fewer than `minimum` (invitation mode only)."""
    if campaign["mode"] != "invitation":
        return frozenset()
    from piccolo.query.functions.aggregate import Count

    from survey_app.results.dashboard import not_excluded

    counts = await Response.select(Response.unit, Count(Response.id, alias="responses")).where(
        (Response.campaign == campaign["id"]) & not_excluded()).group_by(Response.unit)  # as published pages count
    return frozenset(row["unit"] for row in counts if row["responses"] < minimum)


# The day of submission in Vietnam (UTC+7; stored in UTC), formatted by the database: far cheaper than a datetime
# per row. An official's stored Monday 00:00 UTC stays that Monday.
SUBMITTED_ON = {"sqlite": "strftime('%d/%m/%Y', submitted_at, '+7 hours')",
                "postgres": "to_char((submitted_at AT TIME ZONE 'UTC') + interval '7 hours', 'DD/MM/YYYY')"}
RESPONSES_SQL = ("SELECT id, unit, counter, domain, questionnaire, answers, channel, {submitted_on}, quality_flags, "
                 "weight, stratum FROM response WHERE campaign = $1 AND id > $2 ORDER BY id LIMIT $3")  # the order encode_chunk unpacks


async def response_chunks(plan: ExportPlan, on_progress: Callable[[int], None] = lambda rows: None,
                          then: Callable[[object], T] = lambda chunk: chunk,
                          chunk_size: int = CHUNK_SIZE) -> AsyncIterator[T]:
    """then(encoded chunk) for each page of the campaign's responses in id order; the index (campaign, id) makes
    each page cheap. Coding and `then` (tens of ms a page) run in a thread: citizens' forms on the same worker
    are not held up by an analyst's export."""
    sql = RESPONSES_SQL.format(submitted_on=SUBMITTED_ON[Response._meta.db.engine_type])
    async for rows in pages_by_id(sql, plan.campaign["id"], chunk_size):
        yield await asyncio.to_thread(_encoded_then, rows, plan, then)
        on_progress(len(rows))


async def pages_by_id(sql: str, campaign_id: int, chunk_size: int) -> AsyncIterator[list[tuple]]:
    """The rows of `sql` (campaign $1, after id $2, limit $3; id first) a page at a time."""
    last_id = 0
    while rows := await db.fetch_tuples(sql, campaign_id, last_id, chunk_size):
        last_id = rows[-1][0]
        yield rows


MEMBERS_SQL = "SELECT id, unit, answers FROM response WHERE campaign = $1 AND id > $2 ORDER BY id LIMIT $3"


async def member_chunks(plan: ExportPlan, chunk_size: int = CHUNK_SIZE) -> AsyncIterator:
    """The long table of repeats, a page of responses at a time (flat memory, as response_chunks)."""
    async for rows in pages_by_id(MEMBERS_SQL, plan.campaign["id"], chunk_size):
        yield await asyncio.to_thread(encode_members, rows, plan.member_columns, plan.lookups.suppressed_units)


def _encoded_then(rows: list[tuple], plan: ExportPlan, then: Callable[[object], T]) -> T:
    return then(encode_chunk(rows, plan.columns, plan.lookups))


# Writing files.

async def export_campaign(campaign_code: str, export_format: str, out: Path,
                          on_progress: Callable[[int], None] | None = None,
                          minimum: int = SMALL_GROUP_DEFAULT) -> ExportPlan:
    """Write the export to `out` (renamed into place when complete); `on_progress` gets rows done per chunk."""
    plan = await plan_for_format(campaign_code, export_format, minimum)
    await write_export(plan, export_format, out, on_progress)
    return plan


async def plan_for_format(campaign_code: str, export_format: str, minimum: int = SMALL_GROUP_DEFAULT) -> ExportPlan:
    """plan_export, also refusing an unknown format and more rows than an Excel sheet holds."""
    check_format(export_format)
    plan = await plan_export(campaign_code, minimum)
    refuse_members_without_repeats(plan, export_format)
    refuse_long_names(plan, export_format)
    if export_format == "xlsx" and plan.response_count > XLSX_MAX_ROWS:
        raise ExportError(f"{plan.response_count} phiếu vượt giới hạn {XLSX_MAX_ROWS} dòng của Excel; hãy xuất csv "
                          f"hoặc sav / more rows than an Excel sheet holds: export csv or sav")
    return plan


async def write_export(plan: ExportPlan, export_format: str, out: Path,
                       on_progress: Callable[[int], None] | None = None) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    try:
        await _write(plan, export_format, partial, on_progress or (lambda rows: None))
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


NAME_LIMITS = {"dta": ("Stata", writers.STATA_NAME_LIMIT), "sav": ("SPSS", 64)}


def refuse_long_names(plan: ExportPlan, export_format: str) -> None:
    """Stata names have at most 32 characters and SPSS names 64: a repeat's wide columns (`members_12_age`) can be
    longer; refused before any work, naming them, rather than failing half-way through the file."""
    if export_format not in NAME_LIMITS:
        return
    program, limit = NAME_LIMITS[export_format]
    too_long = [variable.name for variable in plan.codebook if len(variable.name) > limit]
    if too_long:
        names = ", ".join(too_long[:5]) + (f" (và {len(too_long) - 5} cột khác)" if len(too_long) > 5 else "")
        raise ExportError(f"{program} chỉ nhận tên cột tối đa {limit} ký tự; các cột {names} dài hơn. Hãy xuất csv "
                          f"hoặc xlsx, hoặc đặt khóa ngắn hơn cho nhóm lặp / {program} variable names have at most "
                          f"{limit} characters")


def refuse_members_without_repeats(plan: ExportPlan, export_format: str) -> None:
    if export_format == "members_csv" and not plan.member_columns:
        raise ExportError(f"Phiếu hỏi của đợt {plan.campaign['code']} không có nhóm lặp: không có bảng thành viên / "
                          "the campaign's questionnaire has no repeat group: there is no members table")


def check_format(export_format: str) -> None:
    if export_format not in FORMATS:
        raise ExportError(f"định dạng {export_format!r} không hỗ trợ; chọn một trong {', '.join(FORMATS)} / "
                          f"format must be one of {', '.join(FORMATS)}")


async def _write(plan: ExportPlan, export_format: str, path: Path, on_progress) -> None:
    if export_format in STREAMED_FORMATS:
        with path.open("wb") as output:
            async for piece in _byte_pieces(plan, export_format, on_progress):
                output.write(piece)
    elif export_format == "xlsx":
        await _write_from_thread(plan, on_progress, lambda chunks, members: writers.write_xlsx(
            path, plan.codebook, chunks, plan.notes, [("thanh_vien", plan.member_codebook, members)]
            if plan.member_columns else ()))
    else:
        write = writers.write_sav if export_format == "sav" else writers.write_dta
        await _write_from_thread(plan, on_progress, lambda chunks, _members: write(path, plan.codebook, chunks,
                                                                                    file_label=plan.campaign["name"]))


async def _write_from_thread(plan: ExportPlan, on_progress, write: Callable[[Iterable], object]) -> None:
    """write(chunks) runs in a thread (seconds of XLSX or pyreadstat work at a million rows: the worker keeps
    serving forms meanwhile) and pulls each chunk from this event loop as it goes, so memory stays flat."""
    loop, stop, waiting = asyncio.get_running_loop(), threading.Event(), []

    def chunks_from_loop(chunks):
        while not stop.is_set():
            waiting[:] = [asyncio.run_coroutine_threadsafe(anext(chunks, None), loop)]
            if stop.is_set():  # cancelled between the check above and `waiting` naming this read
                waiting[0].cancel()
            if (chunk := waiting[0].result()) is None:
                return
            yield chunk
        raise ExportError("the export was cancelled")  # the writer stops before saving anything

    def cancel() -> None:
        stop.set()
        for pending in waiting:
            pending.cancel()  # a chunk being read: the writer's wait for it ends with CancelledError

    await finished_in_own_thread(lambda: write(chunks_from_loop(response_chunks(plan, on_progress)),
                                               chunks_from_loop(member_chunks(plan))), on_cancel=cancel)


async def finished_in_own_thread(function: Callable[[], T], on_cancel: Callable[[], None] = lambda: None) -> T:
    """function() in a thread of its own, not asyncio's shared pool: the SQLite reads an XLSX writer waits for run
    there too, so as many exports at once as the pool has threads would wait on each other for ever. If the
    caller is cancelled (the browser went away), the thread is told (on_cancel) and awaited before the
    cancellation goes on, so nothing it writes appears after the caller has removed its partial file."""
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")
    running = asyncio.get_running_loop().run_in_executor(executor, function)
    executor.shutdown(wait=False)  # the submitted call still runs; the thread ends with it
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        on_cancel()
        with contextlib.suppress(Exception):
            await running
        raise


async def _byte_pieces(plan: ExportPlan, export_format: str, on_progress) -> AsyncIterator[bytes]:
    if export_format == "members_csv":
        yield writers.csv_header(plan.member_codebook)
        async for chunk in member_chunks(plan):
            yield await asyncio.to_thread(writers.csv_chunk, chunk, plan.member_codebook)
        return
    codebook = plan.codebook
    if export_format == "csv":
        yield writers.csv_header(codebook)
    as_bytes = (lambda chunk: writers.csv_chunk(chunk, codebook)) if export_format == "csv" else writers.jsonl_chunk
    async for piece in response_chunks(plan, on_progress, as_bytes):
        yield piece


# For the web layer ("Tải về" buttons).

async def stream_export(campaign_code: str, export_format: str,
                        minimum: int = SMALL_GROUP_DEFAULT) -> AsyncIterator[bytes]:
    """CSV or JSON lines as an async iterator of bytes; errors (unknown/empty campaign) are raised before the
    first byte, so a page can still answer with a message instead of a truncated download."""
    if export_format not in STREAMED_FORMATS:
        raise ExportError(f"chỉ csv và json được truyền trực tiếp, không phải {export_format} / only csv and json stream")
    plan = await plan_export(campaign_code, minimum)
    refuse_members_without_repeats(plan, export_format)
    return _byte_pieces(plan, export_format, lambda rows: None)


def download_name(campaign_code: str, export_format: str) -> str:
    return f"{campaign_code}{SUFFIXES[export_format]}"
