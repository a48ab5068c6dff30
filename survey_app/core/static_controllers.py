"""The fingerprinted static files (/s/app.1a2b3c4d5e.css): cached a year as immutable, as the address changes with
the content (core/static_assets.py); and the kiosk's service worker at its fixed address."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from survey_app.accounts import PUBLIC
from survey_app.core.static_assets import IMMUTABLE


@get("/s/{address:str}", include_in_schema=False, opt=PUBLIC)
async def fingerprinted_file(request: Request, address: FromPath[str]) -> Response[bytes]:
    asset = request.app.state.static_assets.by_address.get(address)
    if asset is None:  # an old release's address: the page that asked for it is stale, not this server
        raise NotFoundException()
    return Response(asset.body, media_type=asset.media_type, headers={"Cache-Control": IMMUTABLE})


# The kiosk's service worker (static/kiosk.js) at a fixed address, as a registration is tied to its script's URL;
# the browser checks it for updates itself. Its scope is the citizens' forms, /q/, which lies outside /kiosk/.
SERVICE_WORKER_HEADERS = {"Service-Worker-Allowed": "/q/", "Cache-Control": "no-cache"}


@get("/kiosk/sw.js", include_in_schema=False, opt=PUBLIC)
async def kiosk_service_worker(request: Request) -> Response[bytes]:
    asset = request.app.state.static_assets.by_name["kiosk.js"]
    return Response(asset.body, media_type=asset.media_type, headers=SERVICE_WORKER_HEADERS)
