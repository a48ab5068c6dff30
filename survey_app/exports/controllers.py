"""Downloads for analysts: a campaign's responses in every export format, and the report as PDF or HTML.

CSV and JSON lines stream chunk by chunk (memory stays flat); XLSX, .sav and .dta are written to a temporary file
first (their writers need the whole file) and deleted once sent. A refusal (unknown or empty campaign, unknown
format) comes back as a page with the reason, never as a broken file.
"""

from __future__ import annotations

from litestar import Controller, get
from litestar.datastructures import State
from litestar.background_tasks import BackgroundTask
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import File, Response, Stream

from survey_app.auth import access
from survey_app.exports.report import ReportError, build_report
from survey_app.exports.service import (
    MEDIA_TYPES, STREAMED_FORMATS, ExportError, download_name, export_to_temporary_file, stream_export,
)

FILE_MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "sav": "application/x-spss-sav", "dta": "application/x-stata-dta"}


def attachment(name: str) -> dict:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


class DownloadController(Controller):
    path = "/analyst/campaigns"
    opt = access("analyst")

    @get("/{code:str}/export/{fmt:str}")
    async def export(self, state: State, code: FromPath[str], fmt: FromPath[str]) -> Response:
        minimum = state.settings.suppress_below
        try:
            if fmt in STREAMED_FORMATS:
                return Stream(await stream_export(code, fmt, minimum), media_type=MEDIA_TYPES[fmt],
                              headers=attachment(download_name(code, fmt)))
            path = await export_to_temporary_file(code, fmt, minimum)
        except ExportError as refused:
            raise HTTPException(status_code=422, detail=str(refused)) from refused
        return File(path=path, filename=download_name(code, fmt), media_type=FILE_MEDIA_TYPES[fmt],
                    background=BackgroundTask(path.unlink, missing_ok=True))

    @get("/{code:str}/report.pdf")
    async def report_pdf(self, state: State, code: FromPath[str]) -> Response:
        report = await self._report(code, state.settings.suppress_below)
        return Response(report.pdf, media_type="application/pdf", headers=attachment(f"bao-cao-{code}.pdf"))

    @get("/{code:str}/report.html")
    async def report_html(self, state: State, code: FromPath[str]) -> Response:
        report = await self._report(code, state.settings.suppress_below)
        return Response(report.html, media_type="text/html; charset=utf-8")

    async def _report(self, code: str, minimum: int):
        try:
            return await build_report(code, minimum=minimum)
        except ReportError as refused:
            raise HTTPException(status_code=422, detail=str(refused)) from refused
