"""Backups and restores of the whole database, checked before they are trusted (docs/deploy.md).

SQLite: the online backup API copies a consistent snapshot while the app keeps serving (a read transaction: the
writer goes on appending to the WAL meanwhile). PostgreSQL: pg_dump's custom format, one consistent snapshot too;
pg_restore in a single transaction, so a failed restore leaves the database as it was.
Verifying a backup: SQLite's integrity check and the migrations it carries; for PostgreSQL pg_restore reads the
whole archive's table of contents, which must hold the data of every table.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from survey_app.core.db import APP_NAME, migration_ids
from survey_app.core.engines import sqlite_path

SQLITE_MAGIC, PG_DUMP_MAGIC = b"SQLite format 3\x00", b"PGDMP"
# Tables a backup must hold: the answers and what gives them meaning.
ESSENTIAL_TABLES = ("unit", "counter", "questionnaire", "campaign", "response", "app_user", "audit_log",
                    "migration")


class BackupError(Exception):
    """A backup or restore that cannot be trusted or done; the message says why."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size_bytes: int
    responses: int | None  # None where the archive cannot tell without restoring it (PostgreSQL)
    migrations: int | None


def is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite:")


def backup(database_url: str, target: Path) -> BackupReport:
    """Write a backup of the database to `target` (never over an existing file), then verify it."""
    if target.exists():
        raise BackupError(f"{target} exists already: choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    try:
        if is_sqlite(database_url):
            _sqlite_backup(sqlite_path(database_url), partial)
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}"], database_url)
        os.chmod(partial, 0o600)  # answers and staff accounts: readable by the service account only
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return verify(target)


def _sqlite_backup(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"no database at {source}")
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as live, \
            closing(sqlite3.connect(target)) as copy:
        live.backup(copy)  # all pages in one step: one consistent snapshot, even while the app writes
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it


def verify(path: Path) -> BackupReport:
    """Check a backup file; BackupError says what is wrong with it."""
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    with path.open("rb") as file:
        head = file.read(16)
    if head.startswith(SQLITE_MAGIC):
        responses, migrations = _verify_sqlite(path)
    elif head.startswith(PG_DUMP_MAGIC):
        responses, migrations = _verify_pg_dump(path), None
    else:
        raise BackupError(f"{path} is neither a SQLite database nor a pg_dump archive")
    return BackupReport(path, path.stat().st_size, responses, migrations)


def _verify_sqlite(path: Path) -> tuple[int, int]:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            problems = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"{path} is damaged: {'; '.join(problems[:5])}")
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            missing = [table for table in ESSENTIAL_TABLES if table not in tables]
            if missing:
                raise BackupError(f"{path} lacks the tables {', '.join(missing)}")
            applied = {row[0] for row in connection.execute("SELECT name FROM migration WHERE app_name = ?",
                                                            (APP_NAME,))}
            responses = connection.execute("SELECT count(*) FROM response").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} cannot be read as a database: {error}") from error
    _check_migrations(path, applied)
    return responses, len(applied)


def _check_migrations(path: Path, applied: set[str]) -> None:
    newer = applied - set(migration_ids())
    if newer:  # restoring it under this release would run code that does not know its tables
        raise BackupError(f"{path} comes from a newer release (migrations {', '.join(sorted(newer))})")


def _verify_pg_dump(path: Path) -> None:
    listing = _run(["pg_restore", "--list", str(path)])
    with_data = {found.group(1) for found in re.finditer(r" TABLE DATA \S+ (\S+)", listing)}
    missing = [table for table in ESSENTIAL_TABLES if table not in with_data]
    if missing:
        raise BackupError(f"{path} lacks the data of the tables {', '.join(missing)}")
    return None


def restore(backup_file: Path, database_url: str) -> BackupReport:
    """Replace the database with a verified backup. The app must be stopped (docs/deploy.md)."""
    report = verify(backup_file)
    with backup_file.open("rb") as file:
        sqlite_file = file.read(16).startswith(SQLITE_MAGIC)
    if sqlite_file != is_sqlite(database_url):
        raise BackupError(f"{backup_file} is a {'SQLite' if sqlite_file else 'PostgreSQL'} backup; "
                          f"DATABASE_URL points at {'SQLite' if is_sqlite(database_url) else 'PostgreSQL'}")
    if sqlite_file:
        _restore_sqlite(backup_file, sqlite_path(database_url))
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
              str(backup_file)], database_url)
    return report


def _restore_sqlite(backup_file: Path, target: Path) -> None:
    """Copy beside the database, sync, then swap in one rename; the old WAL and shared memory go with it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".restore-")
    os.close(handle)
    try:
        shutil.copyfile(backup_file, temporary)
        os.chmod(temporary, 0o600)
        with open(temporary, "rb") as file:
            os.fsync(file.fileno())
        for leftover in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            leftover.unlink(missing_ok=True)
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _run(command: list[str], database_url: str | None = None) -> str:
    """A PostgreSQL client tool; BackupError with its message when it is missing or fails. The password goes in
    the environment, not on the command line, where every user of the machine could read it."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: apt-get install postgresql-client)")
    environment = dict(os.environ)
    if database_url:
        parts = urlsplit(database_url)
        if parts.password:
            environment["PGPASSWORD"] = unquote(parts.password)
            parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[0].split(":")[0] + "@"
                                   + parts.netloc.rsplit("@", 1)[1])
        command = [*command, f"--dbname={urlunsplit(parts)}"]
    finished = subprocess.run(command, capture_output=True, text=True, env=environment)
    if finished.returncode != 0:
        raise BackupError(f"{command[0]} failed: {finished.stderr.strip()[-2000:]}")
    return finished.stdout
