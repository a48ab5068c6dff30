"""`survey worker`: run background jobs in a process of its own (queues on PostgreSQL or Redis; docs/integration.md)."""

from __future__ import annotations

import asyncio
import signal

import typer


def worker() -> None:
    """Run background jobs (webhook deliveries, e-mail) until stopped with Ctrl+C or SIGTERM."""
    from survey_app.core import jobs
    from survey_app.core.settings import Settings

    settings = Settings.from_env()
    if jobs.engine_kind(settings) == "in-process":
        typer.echo("Trên SQLite, việc nền chạy trong chính tiến trình `survey serve` / on SQLite background jobs run "
                   "inside `survey serve`; a separate worker needs PostgreSQL or JOB_QUEUE=redis", err=True)
        raise typer.Exit(code=1)
    asyncio.run(_work(settings))


async def _work(settings) -> None:
    from survey_app import background
    from survey_app.core import db

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stopping.set)

    async def run_until_stopped() -> None:
        await background.start(settings, run_worker=True)
        typer.echo(f"worker running ({settings.job_queue} queue); Ctrl+C stops it")
        try:
            await stopping.wait()
        finally:
            await background.stop()

    await db.run_connected(settings, run_until_stopped)


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
