"""GET /metrics: the Prometheus page (survey_app.core.metrics), for administrators and `metrics` tokens."""

from __future__ import annotations

from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from survey_app.accounts import access
from survey_app.core.metrics import WRITE_QUEUE, count_export_jobs, registry, write_queue_depth


@get("/metrics", opt=access("admin"), include_in_schema=False, cache_control=None)
async def metrics(request: Request) -> Response:
    WRITE_QUEUE.set(write_queue_depth(request.app.state.engine))
    await count_export_jobs()
    found = registry()
    body = generate_latest(found) if found else generate_latest()
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
