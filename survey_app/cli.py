"""The `survey` command: demo, serve, migrate, validate, import-xlsform (docs/cli.md)."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path

import typer
import uvicorn

from sampling.codes import format_code
from survey_app import db, server_key
from survey_app.http_protocol import NoDelayH11Protocol
from survey_app.settings import Settings
from survey_app.tokens import form_url

app = typer.Typer(help="SIPAS and PAR INDEX survey system.", no_args_is_help=True, add_completion=False)


async def _migrate(settings: Settings) -> list[str]:
    async def migrate_and_remember_key() -> list[str]:
        applied = await db.migrate()
        await server_key.remember(settings.secret_key)  # commands run elsewhere compare their key with it
        return applied

    return await db.run_connected(settings, migrate_and_remember_key, migrate_first=False)


def demo_codes_file(settings: Settings) -> Path:
    """Beside the SQLite demo database (or in var/): the demo officials' invitation codes."""
    folder = db.sqlite_path(settings.database_url).parent if settings.is_sqlite else Path("var")
    return folder / "demo-invitation-codes.csv"


def write_demo_codes(path: Path, slips: list[dict]) -> None:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["unit", "role", "code"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(slips)
    path.chmod(0o600)  # invitation codes are bearer secrets, even in a demo


def demo_codes(settings: Settings, count: int = 3) -> list[dict]:
    import csv

    path = demo_codes_file(settings)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))[:count]


async def _load_demo(settings: Settings) -> bool:
    from survey_app.demo import load_demo, load_officials_demo

    async def load_and_remember_key() -> bool:
        loaded = await load_demo()
        await server_key.remember(settings.secret_key)
        slips = await load_officials_demo(settings.secret_key)
        if slips:  # the one time the codes exist in plain text: kept for the demo's own use only
            write_demo_codes(demo_codes_file(settings), slips)
        return loaded

    return await db.run_connected(settings, load_and_remember_key)


# The server options every `survey serve` uses; benchmarks/load.py serves its hello-world anchor with the same.
# No access log: a line with the client's address, the counter's form path and the second it was sent would
# tie an address to an answer, which nothing else here keeps (docs/privacy.md).
UVICORN_OPTIONS = {"log_level": "info", "proxy_headers": False, "access_log": False, "http": NoDelayH11Protocol}


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    uvicorn.run(
        "survey_app.app:create_app_from_env", factory=True, host=host, port=port, workers=workers, **UVICORN_OPTIONS
    )


@app.command()
def migrate() -> None:
    """Apply pending database migrations."""
    applied = asyncio.run(_migrate(Settings.from_env()))
    typer.echo(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(1, help="worker processes"),
) -> None:
    """Serve the web app (migrating the database first)."""
    settings = Settings.from_env()
    asyncio.run(_migrate(settings))
    _serve(settings, host, port, workers)


@app.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    reset: bool = typer.Option(False, help="delete the SQLite demo database first"),
    serve_after: bool = typer.Option(True, "--serve/--no-serve", help="serve after loading"),
) -> None:
    """Create the database, load the demo province with synthetic answers, and serve it."""
    from survey_app.demo import DEMO_PASSWORD

    settings = Settings.from_env()
    if reset and settings.is_sqlite:
        shutil.rmtree(db.sqlite_path(settings.database_url).parent, ignore_errors=True)
    started = time.perf_counter()
    loaded = asyncio.run(_load_demo(settings))
    typer.echo(("Loaded the demo province" if loaded else "Demo province already loaded")
               + f" in {time.perf_counter() - started:.1f} s into {settings.database_url}")
    base = f"http://{host}:{port}"
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
    workbook: Path = typer.Argument(..., help="XLSForm .xlsx file"),
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


from survey_app.commands.qr import qr as _qr_command  # noqa: E402

app.command("qr")(_qr_command)

from survey_app.commands.sampling import sample_app as _sample_app  # noqa: E402

app.add_typer(_sample_app, name="sample")

from survey_app.commands import analysis as _analysis_commands  # noqa: E402

_analysis_commands.register(app)

from survey_app.commands.users import user_app as _user_app  # noqa: E402

app.add_typer(_user_app, name="user")

from survey_app.commands.par_index import par_index as _par_index  # noqa: E402

app.command("par-index")(_par_index)

from survey_app.commands.estimate import estimate as _estimate_command  # noqa: E402

app.command("estimate")(_estimate_command)

from survey_app.commands import exports as _export_commands  # noqa: E402

_export_commands.register(app)

from survey_app.commands.retention import retention as _retention_command  # noqa: E402

app.command("retention")(_retention_command)
