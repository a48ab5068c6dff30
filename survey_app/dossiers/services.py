"""Checking and storing completed dossiers, all or nothing per batch or file.

Both doors use this: the API (`POST /api/v1/dossiers`), the staff import page and `survey dossiers import`. Every
bad row is reported with its row number, field and a Vietnamese reason; one bad row stores nothing of its batch.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import sqlite3
from dataclasses import dataclass, field

from survey_app.core.db import fetch_tuples
from survey_app.core.engines import WriterSQLiteEngine
from survey_app.core.dossier_tables import CHANNELS, Dossier, Procedure
from survey_app.core.tables import Domain, Unit
from survey_app.core.vietnam_time import VIETNAM_TIME, today_in_vietnam
from survey_app.public.services import dossier_hash

FIELDS = ("code", "procedure", "domain", "unit", "channel", "received_on", "due_on", "returned_on")
REQUIRED = ("code", "procedure", "unit", "channel", "received_on", "returned_on")
FIELD_NAMES_VI = {"code": "mã hồ sơ", "procedure": "mã thủ tục", "domain": "lĩnh vực", "unit": "mã đơn vị",
                  "channel": "kênh", "received_on": "ngày tiếp nhận", "due_on": "ngày hẹn trả",
                  "returned_on": "ngày trả kết quả"}
MAX_CODE_LENGTH = 64
MAX_BATCH = 5000  # dossiers per API call; a bigger set goes as a file import
HASH_LOOKUP_CHUNK = 900


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based position in the batch, or the spreadsheet row of an imported file
    field: str
    message: str  # Vietnamese

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": self.message}


class DossiersRefused(Exception):
    """Nothing was stored; `problems` says every row, field and reason."""

    def __init__(self, problems: list[RowProblem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Catalogue:
    """What a dossier may refer to: units, domains and procedures by their codes."""

    units: dict[str, int]
    domains: dict[str, int]
    procedures: dict[str, tuple[int, int]]  # procedure code → (procedure id, its domain id)


@dataclass
class StoredDossier:
    row: int
    code: str
    link_id: str


@dataclass
class CheckedRows:
    rows: list[dict] = field(default_factory=list)  # ready to insert, with "_row" and "_code"
    problems: list[RowProblem] = field(default_factory=list)


async def load_catalogue() -> Catalogue:
    units = await Unit.select(Unit.id, Unit.code)
    domains = await Domain.select(Domain.id, Domain.code)
    procedures = await Procedure.select(Procedure.id, Procedure.code, Procedure.domain)
    return Catalogue(units={row["code"]: row["id"] for row in units},
                     domains={row["code"]: row["id"] for row in domains},
                     procedures={row["code"]: (row["id"], row["domain"]) for row in procedures})


def parse_date(value) -> dt.date | None:
    """dd/mm/yyyy, yyyy-mm-dd, an ISO date-time (its day in Vietnam) or a date cell; None when unreadable."""
    if isinstance(value, dt.datetime):
        return value.astimezone(VIETNAM_TIME).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            pass
    try:
        return parse_date(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def text_of(value) -> str:
    return "" if value is None else str(value).strip()


def check_row(number: int, raw: dict, catalogue: Catalogue, today: dt.date) -> tuple[dict | None, list[RowProblem]]:
    """One dossier's fields → the row to store, or the problems of this row (in field order)."""
    values = {name: raw.get(name) for name in FIELDS}
    problems = [RowProblem(number, name, f"Thiếu {FIELD_NAMES_VI[name]}.")
                for name in REQUIRED if text_of(values[name]) == ""]
    missing = {problem.field for problem in problems}
    code = text_of(values["code"])
    if "code" not in missing and (len(code) > MAX_CODE_LENGTH or not code.isprintable()):
        problems.append(RowProblem(number, "code", f"Mã hồ sơ dài quá {MAX_CODE_LENGTH} ký tự hoặc có ký tự lạ."))
    unit = text_of(values["unit"])
    if "unit" not in missing and unit not in catalogue.units:
        problems.append(RowProblem(number, "unit", f"Không có đơn vị mã “{unit[:40]}”."))
    procedure_id, domain_id = check_procedure(number, values, catalogue, missing, problems)
    channel = text_of(values["channel"])
    if "channel" not in missing and channel not in CHANNELS:
        problems.append(RowProblem(number, "channel", f"Kênh “{channel[:20]}” không có; dùng {', '.join(CHANNELS)}."))
    dates = check_dates(number, values, missing, today, problems)
    if problems:
        return None, problems
    return {"_row": number, "_code": code, "unit": catalogue.units[unit], "domain": domain_id,
            "procedure": procedure_id, "channel": channel, **dates}, []


def check_procedure(number: int, values: dict, catalogue: Catalogue, missing: set, problems: list):
    """The procedure and its domain; a domain given must be the procedure's own."""
    procedure, domain = text_of(values["procedure"]), text_of(values["domain"])
    if domain and domain not in catalogue.domains:
        problems.append(RowProblem(number, "domain", f"Không có lĩnh vực mã “{domain[:40]}”."))
        return None, None
    if "procedure" in missing:
        return None, None
    if procedure not in catalogue.procedures:
        problems.append(RowProblem(number, "procedure", f"Không có thủ tục mã “{procedure[:64]}” trong danh mục."))
        return None, None
    procedure_id, domain_id = catalogue.procedures[procedure]
    if domain and catalogue.domains[domain] != domain_id:
        problems.append(RowProblem(number, "domain", f"Thủ tục “{procedure[:64]}” không thuộc lĩnh vực “{domain}”."))
    return procedure_id, domain_id


def check_dates(number: int, values: dict, missing: set, today: dt.date, problems: list) -> dict:
    dates = {}
    for name in ("received_on", "due_on", "returned_on"):
        if name in missing or text_of(values[name]) == "":
            dates[name] = None
            continue
        dates[name] = parse_date(values[name])
        if dates[name] is None:
            problems.append(RowProblem(number, name, f"{FIELD_NAMES_VI[name].capitalize()} “{text_of(values[name])[:30]}”"
                                       " không đúng dạng ngày (dd/mm/yyyy hoặc yyyy-mm-dd)."))
    received, due, returned = dates["received_on"], dates["due_on"], dates["returned_on"]
    if received and returned and returned < received:
        problems.append(RowProblem(number, "returned_on", "Ngày trả kết quả trước ngày tiếp nhận."))
    if received and due and due < received:
        problems.append(RowProblem(number, "due_on", "Ngày hẹn trả trước ngày tiếp nhận."))
    if returned and returned > today:
        problems.append(RowProblem(number, "returned_on", "Ngày trả kết quả sau ngày hôm nay: hồ sơ chưa hoàn thành."))
    return dates


def check_rows(numbered_rows: list[tuple[int, dict]], catalogue: Catalogue, secret_key: str) -> CheckedRows:
    """Every row checked; a code given twice in the batch is reported on each of its rows."""
    checked, today = CheckedRows(), today_in_vietnam()
    rows_of_hash: dict[str, list[int]] = {}
    for number, raw in numbered_rows:
        row, problems = check_row(number, raw, catalogue, today)
        checked.problems += problems
        if row is not None:
            row["code_hash"] = dossier_hash(secret_key, row["_code"])
            row["link_id"] = secrets.token_urlsafe(12)  # 96 random bits; the link also carries its signature
            rows_of_hash.setdefault(row["code_hash"], []).append(number)
            checked.rows.append(row)
    for numbers in rows_of_hash.values():
        if len(numbers) > 1:
            others = ", ".join(str(number) for number in numbers)
            checked.problems += [RowProblem(number, "code", f"Mã hồ sơ trùng trong cùng tệp/lô (dòng {others}).")
                                 for number in numbers]
    return checked


async def stored_hashes(hashes: list[str]) -> set[str]:
    """Which of these codes are stored already (plain SQL in chunks: Piccolo builds a 900-value IN slowly)."""
    found: set[str] = set()
    for start in range(0, len(hashes), HASH_LOOKUP_CHUNK):
        chunk = hashes[start:start + HASH_LOOKUP_CHUNK]
        marks = ", ".join(f"${number}" for number in range(1, len(chunk) + 1))
        found |= {row[0] for row in await fetch_tuples(
            f'SELECT "code_hash" FROM "dossier" WHERE "code_hash" IN ({marks})', *chunk)}
    return found


async def store_dossiers(numbered_rows: list[tuple[int, dict]], secret_key: str, source: str) -> list[StoredDossier]:
    """Check every row, then store them all in one transaction; DossiersRefused (nothing stored) otherwise."""
    if not numbered_rows:
        raise DossiersRefused([RowProblem(0, "dossiers", "Không có hồ sơ nào để nhận.")])
    # a big file's rows take seconds to check: in a thread, so citizens' posts are served meanwhile
    checked = await asyncio.to_thread(check_rows, numbered_rows, await load_catalogue(), secret_key)
    await drop_stale_holds()
    already = await stored_hashes([row["code_hash"] for row in checked.rows])
    checked.problems += [RowProblem(row["_row"], "code", "Mã hồ sơ đã được gửi trước đây (đã có trong hệ thống).")
                         for row in checked.rows if row["code_hash"] in already]
    if checked.problems:
        raise DossiersRefused(sorted(checked.problems, key=lambda problem: (problem.row, FIELDS.index(problem.field)
                                                                           if problem.field in FIELDS else 99)))
    await insert_all(checked.rows, source)
    return [StoredDossier(row["_row"], row["_code"], row["link_id"]) for row in checked.rows]


UNIQUE_VIOLATIONS: tuple[type[Exception], ...] = (sqlite3.IntegrityError,)
try:
    import asyncpg

    UNIQUE_VIOLATIONS += (asyncpg.UniqueViolationError,)
except ImportError:  # pragma: no cover
    pass


INSERT_COLUMNS = ("code_hash", "link_id", "unit", "domain", "procedure", "channel", "received_on", "due_on",
                  "returned_on", "source", "created_at", "held_by")
HELD_CHUNK = 1000  # rows per SQLite write transaction of an import: ~20 ms, so citizens' posts slip in between
STALE_HOLD = dt.timedelta(minutes=10)  # held rows this old belong to an import whose process died


async def insert_all(rows: list[dict], source: str) -> None:
    """Store the rows all or nothing, without holding up citizens' posts. Rows are built in a thread (Piccolo
    spends ~0.6 ms building each row, on the event loop). PostgreSQL: one COPY in one transaction (it locks only
    these rows). SQLite has one writer, and a 50,000-row transaction held it for 1.7 s: see insert_held. A code
    stored by a concurrent batch since the check refuses this batch."""
    now = dt.datetime.now(dt.timezone.utc)
    held = secrets.token_hex(8) if isinstance(Dossier._meta.db, WriterSQLiteEngine) else None
    records = await asyncio.to_thread(lambda: [tuple(row[name] for name in INSERT_COLUMNS[:-3]) + (source, now, held)
                                               for row in rows])
    try:
        if held:
            await insert_held(records, held)
        else:
            async with Dossier._meta.db.pool.acquire() as connection, connection.transaction():
                await connection.copy_records_to_table("dossier", records=records, columns=INSERT_COLUMNS)
    except UNIQUE_VIOLATIONS as error:
        raise DossiersRefused([RowProblem(0, "code", "Một mã hồ sơ trong lô vừa được gửi bởi một lô khác; "
                                          "không hồ sơ nào của lô này được lưu. Vui lòng gửi lại.")]) from error


async def insert_held(records: list[tuple], held: str) -> None:
    """SQLite: insert in transactions of HELD_CHUNK rows marked `held_by`, which every reader skips, then release
    them all in one statement (50,000 rows: 60 ms); on any failure delete what was inserted. Other writes queue
    between chunks instead of behind the whole file."""
    writer = Dossier._meta.db.writer
    names = ", ".join(f'"{name}"' for name in INSERT_COLUMNS)
    insert = f'INSERT INTO "dossier" ({names}) VALUES ({", ".join("?" * len(INSERT_COLUMNS))})'
    try:
        for start in range(0, len(records), HELD_CHUNK):
            chunk = records[start:start + HELD_CHUNK]
            await writer.execute_write(lambda connection, chunk=chunk: connection.executemany(insert, chunk))
    except BaseException:
        await asyncio.shield(writer.execute_write(lambda connection: connection.execute(
            'DELETE FROM "dossier" WHERE "held_by" = ?', (held,))))
        raise
    if not await writer.execute_write(lambda connection: release(connection, held, len(records))):
        raise DossiersRefused([RowProblem(0, "dossiers", "Việc nhập bị gián đoạn; không hồ sơ nào được lưu. "
                                          "Vui lòng gửi lại.")])


def release(connection, held: str, expected: int) -> bool:
    """In one write transaction: show the held rows when all of them are there, else delete them (another
    import's clean-up took some for a dead import's: all or nothing)."""
    if connection.execute('SELECT COUNT(*) FROM "dossier" WHERE "held_by" = ?', (held,)).fetchone()[0] == expected:
        connection.execute('UPDATE "dossier" SET "held_by" = NULL WHERE "held_by" = ?', (held,))
        return True
    connection.execute('DELETE FROM "dossier" WHERE "held_by" = ?', (held,))
    return False


async def drop_stale_holds() -> None:
    """Rows an import left held when its process died (older than STALE_HOLD): deleted before a new batch is
    checked, so that sending the same file again is not refused for codes nobody received."""
    if isinstance(Dossier._meta.db, WriterSQLiteEngine):
        stale = dt.datetime.now(dt.timezone.utc) - STALE_HOLD
        await Dossier._meta.db.writer.execute_write(lambda connection: connection.execute(
            'DELETE FROM "dossier" WHERE "held_by" IS NOT NULL AND "created_at" < ?', (stale,)))
