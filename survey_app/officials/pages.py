"""The analyst's view of officials' samples: response tracking per stratum (AAPOR RR1, RR3), the reminders list
(unit, role and staff-reference prefix only, never answers) and the members file without identities.

The same tables as `survey sample show` and `survey sample export` (survey_app/officials/draws.py).
"""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from sampling.errors import SamplingError
from survey_app.accounts import access
from survey_app.officials import draws
from survey_app.core.sampling_tables import SampleDraw
from survey_app.core.tables import Campaign

TRACKING_COLUMNS = {"invited": "Được mời", "not_started": "Chưa bắt đầu", "started": "Đang trả lời",
                    "completed": "Đã gửi", "refused": "Từ chối", "replaced": "Đã thay", "not_reached": "Không liên lạc được",
                    "ineligible": "Không đủ điều kiện", "e": "e", "rr1": "RR1", "rr3": "RR3"}


class SamplingController(Controller):
    path = "/analyst/sampling"
    opt = access("analyst")

    @get()
    async def index(self, request: Request) -> Template:
        drawn = {row["campaign"] for row in await SampleDraw.select(SampleDraw.campaign)}
        campaigns = await Campaign.select().where(Campaign.mode == "invitation").order_by(Campaign.code)
        return Template(template_name="analyst_sampling_list.html", context={
            "user": request.user, "campaigns": [{**row, "drawn": row["id"] in drawn} for row in campaigns]})

    @get("/{code:str}")
    async def show(self, request: Request, code: FromPath[str]) -> Template:
        members = await self._members(code)
        tracking = draws.tracking_table(members) if len(members) else None
        return Template(template_name="analyst_sampling.html", context={
            "user": request.user, "code": code, "columns": TRACKING_COLUMNS,
            "tracking": [] if tracking is None else [(str(stratum), row) for stratum, row in tracking.iterrows()],
            "reminders": draws.reminders(members).to_dict("records") if len(members) else []})

    @get("/{code:str}/members.csv", media_type="text/csv")
    async def members_csv(self, code: FromPath[str]) -> Response:
        members = await self._members(code)
        text = draws.export_frame(members).to_csv(index=False) if len(members) else ""
        return Response("\ufeff" + text, media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{code}-members.csv"'})

    async def _members(self, code: str):
        try:
            return await draws.members_frame(code)
        except SamplingError as refused:
            raise NotFoundException(detail="; ".join(problem.message_vi for problem in refused.problems)) from refused
