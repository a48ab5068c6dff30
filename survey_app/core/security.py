"""Security headers on every response: a CSP without inline script, no framing, no sniffing, HSTS under HTTPS."""

from __future__ import annotations

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


def encoded_headers(policy: str, uses_https: bool) -> list[tuple[bytes, bytes]]:
    headers = {"Content-Security-Policy": policy, **COMMON}
    if uses_https:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


def security_headers_middleware(uses_https: bool, inline_style_hash: str = ""):
    """The inline stylesheet of the citizen pages is allowed by its hash (core/static_assets.py), no other inline style.
    Adds the headers in one pass over the response's own, replacing any of the same name (built once: a
    header-by-header set rescans the list for each, a measurable share of a form post)."""
    policy = CSP.replace("style-src 'self'", f"style-src 'self' {inline_style_hash}".rstrip())
    pages, docs = encoded_headers(policy, uses_https), encoded_headers(DOCS_CSP, uses_https)
    names = {name for name, _ in pages}

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            ours = docs if scope["path"].startswith("/api/docs") else pages

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    own = [header for header in message.get("headers", ()) if header[0].lower() not in names]
                    message["headers"] = own + ours
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return factory
