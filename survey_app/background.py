"""The background work of every area, started on the deployment's job engine (survey_app.core.jobs).

Importing an area's task module declares its tasks; the server (app.py) and `survey worker` both start the engine
through here, so they run the same tasks. An area's new task module is added to TASK_MODULES below.
"""

from __future__ import annotations

from survey_app.core import jobs
from survey_app.exports import jobs as _export_jobs
from survey_app.paper import print_jobs as _print_jobs
from survey_app.results import weighting as _weighting
from survey_app.webhooks import delivery as _webhook_delivery

TASK_MODULES = (_webhook_delivery, _weighting, _export_jobs, _print_jobs)


async def start(settings, run_worker: bool | None = None) -> jobs.Engine:
    """Open the engine; a worker runs in this process unless JOB_WORKER=off (the server) or told otherwise."""
    return await jobs.start(settings, settings.job_worker if run_worker is None else run_worker)


async def stop(engine: jobs.Engine | None = None) -> None:
    await jobs.stop(engine)
