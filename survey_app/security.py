"""Security headers on every response: a CSP without inline script, no framing, no sniffing, HSTS under HTTPS."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# The OpenAPI page (/api/docs) is Litestar's, with inline script and its viewer from a CDN; it shows no data.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://unpkg.com; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com https://unpkg.com; "
            "img-src 'self' data: https:; font-src https:; frame-ancestors 'none'")
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # a form URL carries a counter token; never pass it on
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def security_headers_middleware(uses_https: bool):
    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            policy = DOCS_CSP if scope["path"].startswith("/api/docs") else CSP

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableScopeHeaders.from_message(message)
                    headers["Content-Security-Policy"] = policy
                    for name, value in COMMON.items():
                        headers[name] = value
                    if uses_https:
                        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return factory
