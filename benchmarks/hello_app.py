"""The anchor for benchmarks/load.py: a Litestar hello-world served by uvicorn with the same options as `survey serve`."""

from litestar import Litestar, MediaType, get


@get("/", media_type=MediaType.TEXT)
async def hello() -> str:
    return "Xin chào"


app = Litestar(route_handlers=[hello])
