"""The fingerprinted static files (/s/app.1a2b3c4d5e.css): cached a year as immutable, as the address changes with
the content (core/static_assets.py)."""

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
