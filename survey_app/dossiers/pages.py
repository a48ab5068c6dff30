"""The staff page importing completed dossiers from a CSV or XLSX file: every bad row listed, nothing half-stored."""

from __future__ import annotations

import asyncio

from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from survey_app.accounts import access
from survey_app.accounts.admin_forms import staff_page
from survey_app.dossiers.imports import import_file, links_csv
from survey_app.dossiers.services import DossiersRefused, RowProblem

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # some 200,000 dossiers a year for a province, as CSV


class DossierImportController(Controller):
    path = "/analyst/dossiers/import"
    opt = access("analyst", "admin")

    @get()
    async def page(self, request: Request) -> Template:
        return staff_page(request, "analyst_dossier_import.html")

    @post(status_code=200, request_max_body_size=MAX_UPLOAD_BYTES + 64 * 1024)
    async def upload(self, request: Request) -> Template | Response:
        """Stored: the file of each dossier's code and rating link downloads at once (the codes are not kept, so
        it cannot be made again later). Refused: the page again with every row's problem."""
        form = await request.form()
        upload = form.get("file")
        filename = getattr(upload, "filename", "") or ""
        try:
            if upload is None or not hasattr(upload, "read"):
                raise DossiersRefused([RowProblem(0, "file", "Hãy chọn một tệp .csv hoặc .xlsx.")])
            stored = await import_file(await upload.read(), filename, request.app.state.settings.secret_key)
        except DossiersRefused as refusal:
            return staff_page(request, "analyst_dossier_import.html", True, problems=refusal.problems,
                              filename=filename)
        settings = request.app.state.settings
        links = await asyncio.to_thread(links_csv, stored, settings.base_url, settings.secret_key)  # an HMAC a row
        return Response(links, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="dossier-links.csv"',
                                 "Cache-Control": "no-store"})
