"""The OpenAPI schema (/api/docs) lists every status a route can answer, not only its success (issue #17: a
schemathesis run found 118 undocumented ones). Which statuses follows from what the route is, so they are added
here for every route at once rather than declared by each handler; a handler's own `responses` win."""

from __future__ import annotations

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec

EVERY_ROUTE = {400: "a parameter or the body failed validation",
               404: "no such unit, campaign, counter, form, job or page",
               503: "the database is unavailable: nothing was stored; try again"}
SIGNED_IN_ROUTE = {302: "a browser without a staff session is sent to /login",
                   401: "no staff session or API token (JSON clients get WWW-Authenticate: Bearer)",
                   403: "the role, the unit scope or the API token's scopes do not allow it, or no CSRF token",
                   422: "a value is refused (e.g. an unknown export format); the page says which and why"}
SIGN_IN_PAGE = {302: "someone already signed in is sent on to the page they asked for"}
POSTED_FORM = {303: "stored; on to the next page", 403: "no or wrong CSRF token, or a refused QR token",
               409: "already stored with other answers, or the dossier was already rated",
               413: "the body is larger than the app accepts", 422: "a field was refused; the page names it",
               429: "too many posts from this client or to this counter; Retry-After says when to try again"}
PUBLIC_FORM_PAGE = {403: "a forged, expired or revoked QR token", 410: "the campaign or counter is closed",
                    429: "too many tries from this client; Retry-After says when to try again"}


def statuses_of(handler: HTTPRouteHandler, path: str) -> dict[int, str]:
    public, posted = handler.opt.get("access") == "public", "POST" in handler.http_methods
    found = {status: text for status, text in EVERY_ROUTE.items() if status != 404 or "{" in path}
    if public and path.startswith(("/q/", "/o")):
        found.update(PUBLIC_FORM_PAGE)
    if public and not handler.opt.get("exclude_from_auth") and not posted:  # public pages that see the user
        found.update(SIGN_IN_PAGE)
    if not public:
        found.update({status: text for status, text in SIGNED_IN_ROUTE.items() if status != 302 or not posted})
    if posted:
        found.update({status: text for status, text in POSTED_FORM.items() if status != 429 or public})
    return found


def document_statuses(app: Litestar) -> None:
    """Give every route of the schema its possible statuses (before the schema is first built)."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or not handler.include_in_schema:
                continue
            documented = {status: ResponseSpec(data_container=None, description=text, generate_examples=False)
                          for status, text in statuses_of(handler, route.path).items()}
            handler.responses = {**documented, **(handler.responses or {})}
