"""Compress text responses only: exports, PDFs and images are already compressed and would only cost CPU."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import Message, Scope, Send

COMPRESSIBLE_MARKS = ("text/", "json", "javascript", "xml", "svg")


def compressible(start_message: Message) -> bool:
    content_type = MutableScopeHeaders(start_message).get("content-type", "").lower()
    return any(mark in content_type for mark in COMPRESSIBLE_MARKS)


class TextOnlyCompressionMiddleware(CompressionMiddleware):
    """Litestar's compression, skipped when the response's media type is binary (xlsx, sav, dta, pdf, png)."""

    def create_compression_send_wrapper(self, send: Send, compression_encoding, scope: Scope) -> Send:
        compressing_send = super().create_compression_send_wrapper(send, compression_encoding, scope)
        chosen_send: Send | None = None

        async def send_wrapper(message: Message) -> None:
            nonlocal chosen_send
            if message["type"] == "http.response.start":
                chosen_send = compressing_send if compressible(message) else send
            await (chosen_send or compressing_send)(message)

        return send_wrapper
