"""With several workers uvicorn binds the socket itself (protocol number 0) and asyncio then leaves Nagle's
algorithm on: responses stalled 40 ms on the client's delayed ACK. survey serve's protocol sets TCP_NODELAY."""

from __future__ import annotations

import asyncio
import socket

from uvicorn import Config
from uvicorn.server import ServerState

from survey_app.core.http_protocol import NoDelayH11Protocol


async def nodelay_of_accepted_connection(protocol_class) -> int:
    async def app(scope, receive, send):  # never called: only the connection is looked at
        raise AssertionError

    config = Config(app=app, http=protocol_class)
    config.load()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as uvicorn binds for --workers N
    listener.bind(("127.0.0.1", 0))
    protocols = []

    def make_protocol():
        protocols.append(protocol_class(config=config, server_state=ServerState(), app_state={}))
        return protocols[-1]

    server = await asyncio.get_running_loop().create_server(make_protocol, sock=listener)
    _, writer = await asyncio.open_connection(*listener.getsockname())
    try:
        for _ in range(500):  # at most 5 s for the accept
            if protocols and getattr(protocols[0], "transport", None) is not None:
                break
            await asyncio.sleep(0.01)
        accepted = protocols[0].transport.get_extra_info("socket")
        return accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        writer.close()
        server.close()


async def test_our_protocol_turns_nagle_off_on_a_socket_uvicorn_bound_itself():
    assert await nodelay_of_accepted_connection(NoDelayH11Protocol)
