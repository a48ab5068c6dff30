"""The `survey` command: demo, serve, migrate, validate, import-xlsform here, the rest in survey_app/commands
(docs/cli.md).

A door, not a home: every command imports the service it calls inside its function, so `survey estimate --help`
or `survey validate` never load the web stack or the database layer (benchmarks/cli_start.py measures it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import typer

from survey_app.commands import analysis as _analysis_commands
from survey_app.commands import backup as _backup_commands
from survey_app.commands.dossiers import dossiers_app as _dossiers_app
from survey_app.commands import exports as _export_commands
from survey_app.commands.estimate import estimate as _estimate_command
from survey_app.commands.paper import paper_app as _paper_app
from survey_app.commands.par_index import par_index as _par_index
from survey_app.commands.qr import qr as _qr_command
from survey_app.commands.retention import retention as _retention_command
from survey_app.commands.sampling import sample_app as _sample_app
from survey_app.commands.tokens import token_app as _token_app
from survey_app.commands.users import user_app as _user_app
from survey_app.commands import worker as _worker_commands

app = typer.Typer(help="SIPAS and PAR INDEX survey system.", no_args_is_help=True, add_completion=False)


async def _migrate(settings) -> list[str]:
    from survey_app.core import db, server_key

    async def migrate_and_remember_key() -> list[str]:
        applied = await db.migrate()
        await server_key.remember(settings.secret_key)  # commands run elsewhere compare their key with it
        return applied

    return await db.run_connected(settings, migrate_and_remember_key, migrate_first=False)


async def _fold_figures(settings) -> None:
    from survey_app.core import db
    from survey_app.results.dashboard import warm_figures

    await db.run_connected(settings, lambda: warm_figures(settings.suppress_below), migrate_first=False)


async def _load_demo(settings) -> bool:
    from survey_app.campaigns.demo import load_demo_with_officials
    from survey_app.core import db

    return await db.run_connected(settings, lambda: load_demo_with_officials(settings))


# The server options every `survey serve` uses; benchmarks/load.py serves its hello-world anchor with the same.
# No access log: a line with the client's address, the counter's form path and the second it was sent would
# tie an address to an answer, which nothing else here keeps (docs/privacy.md).
def uvicorn_options() -> dict:
    from survey_app.core.http_protocol import NoDelayH11Protocol

    return {"log_level": "info", "proxy_headers": False, "access_log": False, "http": NoDelayH11Protocol}


def _serve(settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from survey_app.core.logs import uvicorn_log_config

    logging_options = {"log_config": config} if (config := uvicorn_log_config(settings.log_format)) else {}
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # /metrics then adds up every worker
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="survey-metrics-")
    uvicorn.run("survey_app.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
                **{**uvicorn_options(), **proxy_options(settings)}, **logging_options)


def proxy_options(settings) -> dict:
    """Believe X-Forwarded-For/-Proto only from FORWARDED_ALLOW_IPS: then the client address (the per-client
    limits) is the citizen's, not the proxy's. From anyone else the headers are ignored (they could be forged)."""
    if not settings.forwarded_allow_ips:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}


def _migrate_or_exit(settings) -> list[str]:
    """Migrate; when the database cannot be reached, one line saying so (not a traceback) and exit code 1."""
    from survey_app.core.errors import DATABASE_ERRORS

    # Piccolo warns (with its file and line) when it cannot read the server's version: the line below says it once
    warnings.filterwarnings("ignore", message=".*Unable to connect to database")
    try:
        return asyncio.run(_migrate(settings))
    except (*DATABASE_ERRORS, OSError) as error:
        detail = " ".join(str(error).split())[:300] or type(error).__name__
        typer.echo(f"Không kết nối được cơ sở dữ liệu / cannot reach the database (DATABASE_URL): {detail}", err=True)
        raise typer.Exit(code=1)


@app.command()
def migrate() -> None:
    """Apply pending database migrations."""
    from survey_app.core.settings import Settings

    applied = _migrate_or_exit(Settings.from_env())
    typer.echo(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(1, help="worker processes"),
) -> None:
    """Serve the web app (migrating the database and bringing the stored figures up to date first)."""
    from survey_app.core.logs import migrations_logged
    from survey_app.core.settings import Settings

    settings = Settings.from_env()
    with migrations_logged(settings.log_format):
        _migrate_or_exit(settings)
        asyncio.run(_fold_figures(settings))  # only the responses since the last fold: pages then never wait for many
    _serve(settings, host, port, workers)


def demo_base_url(settings: Settings, host: str, port: int, serving: bool) -> str:
    """Where the printed links point: BASE_URL (the public address, e.g. behind a proxy) unless this command
    serves on host:port itself and no BASE_URL was set."""
    return settings.base_url if not serving or os.environ.get("BASE_URL") else f"http://{host}:{port}"


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    reset: bool = typer.Option(False, help="delete the SQLite demo database first"),
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="serve after loading"),
) -> None:
    """Create the database, load the demo province with synthetic answers, and serve it."""
    from sampling.codes import format_code
    from survey_app.campaigns.demo import DEMO_PASSWORD, demo_codes, demo_codes_file
    from survey_app.core.settings import Settings
    from survey_app.core.engines import sqlite_path
    from survey_app.core.tokens import form_url

    settings = Settings.from_env()
    if reset and settings.is_sqlite:
        shutil.rmtree(sqlite_path(settings.database_url).parent, ignore_errors=True)
    started = time.perf_counter()
    loaded = asyncio.run(_load_demo(settings))
    typer.echo(("Loaded the demo province" if loaded else "Demo province already loaded")
               + f" in {time.perf_counter() - started:.1f} s into {settings.database_url}")
    base = demo_base_url(settings, host, port, serve_after)
    typer.echo(f"  Counter form (QR target): {form_url(base, settings.signing_keys, 'SO01-Q1', 'QUAY-2026')}")
    typer.echo(f"  SIPAS form:               {form_url(base, settings.signing_keys, 'H01-Q1', 'SIPAS-2026')}")
    typer.echo(f"  Results:                  {base}/results/DEMO")
    typer.echo(f"  Index API:                {base}/api/v1/units/SO01/index")
    typer.echo(f"  API docs:                 {base}/api/docs")
    typer.echo(f"  Staff sign-in:            {base}/login  (admin, analyst, so01, h01; password {DEMO_PASSWORD})")
    codes = demo_codes(settings)
    if codes:
        typer.echo(f"  Officials' survey:        {base}/o  with a one-time code, e.g. "
                   + ", ".join(f"{format_code(row['code'])} ({row['unit']})" for row in codes)
                   + f"  (all codes: {demo_codes_file(settings)})")
    if serve_after:
        _serve(settings, host, port, 1)


@app.command()
def validate(files: list[Path] = typer.Argument(..., help="YAML definitions or XLSForm workbooks")) -> None:
    """Check questionnaire definitions; print every problem as file:line: field: message."""
    from questionnaires.validate import validate_files

    problems = validate_files(files)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        raise typer.Exit(code=1)
    typer.echo(f"{len(files)} file(s) valid")


@app.command("import-xlsform")
def import_xlsform(
    workbook: Path = typer.Argument(..., help="XLSForm .xlsx or .xls file"),
    output: Path = typer.Option(None, "-o", "--output", help="YAML file to write (default: print)"),
) -> None:
    """Convert an XLSForm into a YAML definition and list what could not be converted."""
    from questionnaires import DefinitionError
    from questionnaires.xlsform import import_xlsform as convert, to_yaml

    try:
        definition, notes = convert(workbook)
    except DefinitionError as error:
        for problem in error.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(code=1)
    for note in notes:
        typer.echo(f"not converted: {note}", err=True)
    text = to_yaml(definition)
    if output:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")
    else:
        typer.echo(text)


app.command("qr")(_qr_command)
app.add_typer(_sample_app, name="sample")
app.add_typer(_paper_app, name="paper")
_analysis_commands.register(app)
app.add_typer(_user_app, name="user")
app.command("par-index")(_par_index)
app.command("estimate")(_estimate_command)
_export_commands.register(app)
app.command("retention")(_retention_command)
app.add_typer(_token_app, name="token")
app.add_typer(_dossiers_app, name="dossiers")
_backup_commands.register(app)
_worker_commands.register(app)
