"""Who may use what: staff sign-in, roles, unit scope.

Every route handler (or its controller) declares its rule in `opt["access"]`, and one guard enforces it
(survey_app.accounts.middleware.check_access, on every route but survey_app.app.PUBLIC_HANDLERS, whose handlers are
all PUBLIC; create_app refuses to start if a route that is not PUBLIC has no guard):

    @get("/analyst/x", opt=access("analyst", "admin"))     # these roles only
    @get("/results", opt=PUBLIC)                            # anyone, signed in or not
    class AdminController(Controller): opt = access("admin")

A guarded handler without a rule answers 500 (fails closed), and tests/app/test_access.py fails for it. Signed-in
staff are `request.user` (a SignedInUser, or None on the sign-in page; not set on PUBLIC pages); a unit manager's
`unit_ids` are their unit and all units below it, and queries must filter on them (`user.sees(unit_id)`,
`user.unit_ids`), not only templates.
Forms of signed-in pages carry `{{ csrf_input | safe }}`.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "analyst", "unit_manager")
ROLE_NAMES_VI = {"admin": "Quản trị hệ thống", "analyst": "Chuyên viên phân tích", "unit_manager": "Lãnh đạo đơn vị"}
# Citizens' and officials' pages: no CSRF cookie, and no session lookup (request.user is not set on them)
PUBLIC = {"access": "public", "exclude_from_csrf": True, "exclude_from_auth": True}
SIGNED_IN = ROLES


def access(*roles: str) -> dict:
    """The opt that lets only these roles in; admins are not implied (each rule names who may use it)."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"access() needs roles from {ROLES}, got {roles}")
    return {"access": tuple(roles)}


@dataclass(frozen=True)
class SignedInUser:
    id: int
    username: str
    display_name: str
    role: str
    unit_id: int | None
    unit_ids: frozenset[int] | None  # None: every unit (admin, analyst)
    token_scopes: frozenset[str] | None = None  # None: signed in with a password; else an API token's scopes

    @property
    def via_token(self) -> bool:
        return self.token_scopes is not None

    def sees(self, unit_id: int | None) -> bool:
        return self.unit_ids is None or unit_id in self.unit_ids

    @property
    def role_vi(self) -> str:
        return ROLE_NAMES_VI[self.role]
