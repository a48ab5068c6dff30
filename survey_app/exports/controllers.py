"""Downloads for analysts: a campaign's responses in every export format, and the report as PDF or HTML.

CSV and JSON lines stream chunk by chunk (memory stays flat); XLSX, .sav and .dta are written by a job (a large
campaign's download shows a progress page, survey_app/exports/jobs.py), kept in the database and deleted once sent. A
refusal (unknown or empty campaign, unknown format) comes back as a page with the reason, never as a broken file.
"""

from __future__ import annotations

import asyncio
import re

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Stream, Template

from survey_app.accounts.admin_forms import staff_page
from survey_app.accounts import access
from survey_app.core import worker_process
from survey_app.exports import jobs
from survey_app.exports.report import ReportError, build_report
from survey_app.core.security import CSP, csp_allowing_style
from survey_app.exports.service import MEDIA_TYPES, STREAMED_FORMATS, ExportError, download_name, stream_export

FORMAT_NAMES = {"xlsx": "Excel", "sav": "SPSS", "dta": "Stata"}
NO_SUCH_EXPORT = ("Không có tệp xuất này (đã tải về, đã quá một giờ, hoặc của người khác) / no such export "
                  "(already downloaded, older than an hour, or someone else's)")


def attachment(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


class DownloadController(Controller):
    path = "/analyst/campaigns"
    opt = access("analyst")

    @get("/{code:str}/export/{fmt:str}")
    async def export(self, request: Request, state: State, code: FromPath[str], fmt: FromPath[str]) -> Response:
        """CSV/JSON stream; other formats are sent at once when written within a moment, else the page shows
        the job's progress (that of the user's running export of this campaign and format, if there is one)."""
        minimum = state.settings.suppress_below
        try:
            if fmt in STREAMED_FORMATS:
                return Stream(await stream_export(code, fmt, minimum), media_type=MEDIA_TYPES[fmt],
                              headers=attachment(download_name(code, fmt)))
            job, started = await jobs.start(code, fmt, request.user.id, minimum)
        except ExportError as refused:
            raise HTTPException(status_code=422, detail=str(refused)) from refused
        if started and (ended := await jobs.finished_soon(job)) and ended.state == "done":
            return await export_file(ended)
        return Redirect(f"/analyst/exports/{job.id}", status_code=303)

    @get("/{code:str}/report.pdf")
    async def report_pdf(self, request: Request, state: State, code: FromPath[str]) -> Response | Template:
        report = await self._report(code, state.settings.suppress_below)
        if report is None:
            return _report_in_progress(request, code)
        return Response(report.pdf, media_type="application/pdf", headers=attachment(f"bao-cao-{code}.pdf"))

    @get("/{code:str}/report.html")
    async def report_html(self, request: Request, state: State, code: FromPath[str]) -> Response | Template:
        report = await self._report(code, state.settings.suppress_below)
        if report is None:
            return _report_in_progress(request, code)
        style = re.search(r"<style>(.*?)</style>", report.html, re.S)
        return Response(report.html, media_type="text/html",  # Litestar adds "; charset=utf-8" to text/ types
                        headers={"Content-Security-Policy": csp_allowing_style(style.group(1)) if style else CSP})

    async def _report(self, code: str, minimum: int):
        """The report, or None when it is still being built after progress_after() seconds (the build goes on: it
        is single-flight and shielded, and the page that says so reloads itself)."""
        try:
            return await asyncio.wait_for(build_report(code, minimum=minimum), progress_after())
        except asyncio.TimeoutError:
            return None
        except ReportError as refused:
            raise HTTPException(status_code=422, detail=str(refused)) from refused


def progress_after() -> float | None:
    """Under `survey serve` the report is built in the worker process: a request waits this long, then gets a page
    saying it is being built. Elsewhere (tests, scripts) it waits for the report."""
    return REPORT_PROGRESS_AFTER_SECONDS if worker_process.ENABLED else None


REPORT_PROGRESS_AFTER_SECONDS = 1.0


def _report_in_progress(request: Request, code: str) -> Template:
    return Template(template_name="report_progress.html", status_code=202,
                    context={"user": request.user, "code": code, "path": request.url.path})


class ExportJobController(Controller):
    path = "/analyst/exports"
    opt = access("analyst")

    @get("/{job_id:str}")
    async def progress(self, request: Request, job_id: FromPath[str]) -> Template:
        return staff_page(request, "analyst_export.html", job=await _own_job(request, job_id),
                          format_names=FORMAT_NAMES)

    @get("/{job_id:str}/file")
    async def file(self, request: Request, job_id: FromPath[str]) -> Response:
        job = await _own_job(request, job_id)
        if job.state != "done":
            raise HTTPException(status_code=404, detail=NO_SUCH_EXPORT)
        return await export_file(job)


async def _own_job(request: Request, job_id: str) -> jobs.Job:
    job = await jobs.find(job_id, request.user.id)
    if job is None:
        raise HTTPException(status_code=404, detail=NO_SUCH_EXPORT)
    return job


async def export_file(job: jobs.Job) -> Response:
    """The job's file, removed (with its job) once sent."""
    content = await jobs.file_content(job)
    if content is None:  # sent meanwhile through another worker
        raise HTTPException(status_code=404, detail=NO_SUCH_EXPORT)
    return Response(content, media_type=MEDIA_TYPES[job.format], headers=attachment(job.download_name),
                    background=BackgroundTask(jobs.remove, job))
