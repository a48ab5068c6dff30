"""Security headers on every response, the unmatched route's 404 and the 413 included: a CSP without inline script
or style, no framing, no sniffing, HSTS under HTTPS, and `Cache-Control: no-store` unless the response says
otherwise (staff pages, exports and the audit CSV must not stay in a shared or browser cache)."""

from __future__ import annotations

import base64
import hashlib

from litestar.types import Message, Scope

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # a form URL carries a counter token; never pass it on
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
NO_STORE = (b"cache-control", b"no-store")
CACHEABLE_PREFIXES = ("/static/", "/s/")  # the same for everyone; they set their own Cache-Control


def encoded_headers(uses_https: bool, policy: str = CSP) -> list[tuple[bytes, bytes]]:
    headers = {"Content-Security-Policy": policy, **COMMON}
    if uses_https:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


def csp_allowing_style(style: str) -> str:
    """The CSP with one inline <style> block allowed by its hash (the standalone report keeps its style inline,
    so the saved file shows the same offline)."""
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    return CSP.replace("style-src 'self'", f"style-src 'self' 'sha256-{digest}'")


def security_headers_hook(uses_https: bool, inline_style_hash: str = ""):
    """A before-send hook (it sees every response, also those Litestar answers before any middleware runs). The
    headers are added in one pass over the response's own, replacing any of the same name except a CSP the
    response set itself; built once, since a header-by-header set is a measurable share of a form post."""
    # the citizen pages' inline stylesheet is allowed by its hash (core/static_assets.py), no other inline style
    ours = encoded_headers(uses_https, CSP.replace("style-src 'self'", f"style-src 'self' {inline_style_hash}".rstrip()))
    names = {name for name, _ in ours}
    without_csp = [header for header in ours if header[0] != b"content-security-policy"]

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        own = message.get("headers", ())
        kept = [header for header in own if header[0].lower() not in names]
        has_csp = len(kept) != len(own) and any(name.lower() == b"content-security-policy" for name, _ in own)
        if has_csp:
            kept += [header for header in own if header[0].lower() == b"content-security-policy"]
        if not scope["path"].startswith(CACHEABLE_PREFIXES) and not any(
                name.lower() == b"cache-control" for name, _ in own):
            kept.append(NO_STORE)
        message["headers"] = kept + (without_csp if has_csp else ours)

    return add_headers
