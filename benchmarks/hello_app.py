"""The anchors for benchmarks/load.py, served by uvicorn with the same options as `survey serve`:
a Litestar hello-world (the ratio's denominator), and a bare form post that parses the same form body and
answers 303 without validating or storing anything (the ceiling any form handler on this stack can reach)."""

from litestar import Litestar, MediaType, Request, get, post
from litestar.response import Redirect


@get("/", media_type=MediaType.TEXT)
async def hello() -> str:
    return "Xin chào"


@post("/q/{token:str}", status_code=303)
async def bare_form(request: Request, token: str) -> Redirect:
    await request.form()
    return Redirect(path=f"/q/{token}/thanks", status_code=303)


app = Litestar(route_handlers=[hello, bare_form])
