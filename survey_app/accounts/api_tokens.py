"""API tokens for machine clients: named, scoped, expiring, listed, revoked one by one or all of a user at once.

A token is shown once, at issue; only its HMAC is stored. It acts as its user (role and unit scope still apply)
but only on the routes its scopes open (TOKEN_ROUTES): a token for reading results cannot download an export.
Deactivating a user or resetting or changing their password revokes every token of theirs for good, so
reactivating the account revives none of them. The admin page (/admin/tokens) and `survey token` both call this.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from survey_app.accounts import audit
from survey_app.core import db
from survey_app.core.tables import ApiToken, User
from survey_app.core.vietnam_time import VIETNAM_TIME

# Scope → (Vietnamese name, roles whose users may hold it). "dossiers" is the one-stop system's dossier feed.
SCOPES = {
    "results": ("Đọc kết quả", ("admin", "analyst", "unit_manager")),
    "export": ("Tải tệp xuất dữ liệu", ("analyst",)),
    "admin": ("Quản trị", ("admin",)),
    "dossiers": ("Nguồn danh sách hồ sơ", ("analyst",)),
    "metrics": ("Số liệu vận hành (/metrics)", ("admin",)),
    "webhooks": ("Quản lý webhook của đợt khảo sát", ("admin", "analyst")),
}
# The routes a token may use, first match wins; any other route refuses every token (fail closed).
TOKEN_ROUTES = [
    (re.compile(r"^/api/v1/campaigns/[^/]+/webhook"), {"webhooks"}),
    (re.compile(r"^/metrics$"), {"metrics", "admin"}),
    (re.compile(r"^/api/v1/dossiers(/|$)"), {"dossiers"}),
    (re.compile(r"^/api/v1/decision-766(\.csv)?$"), {"results"}),
    (re.compile(r"^/admin/"), {"admin"}),
    (re.compile(r"^/analyst/(exports/|campaigns/[^/]+/(export/|report\.)|sampling/[^/]+/members\.csv$)"), {"export"}),
    (re.compile(r"^/(analyst|manager)(/|$)"), {"results"}),
]
DEFAULT_DAYS, MAX_DAYS = 90, 366


class TokenRefused(Exception):
    """A token request with a problem (Vietnamese, naming the field); nothing was stored."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def token_hash(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode(), f"api-token:{token}".encode(), hashlib.sha256).hexdigest()


def token_may_use(scopes: frozenset[str], path: str) -> bool:
    """Whether a token with these scopes opens this path."""
    for pattern, opening in TOKEN_ROUTES:
        if pattern.match(path):
            return bool(scopes & opening)
    return False


def checked_scopes(requested: list[str], role: str) -> list[str]:
    """The requested scopes in a fixed order, or TokenRefused for an unknown one or one the user's role lacks."""
    if not requested:
        raise TokenRefused("scopes", "Chọn ít nhất một phạm vi quyền cho mã truy cập.")
    for scope in requested:
        if scope not in SCOPES:
            raise TokenRefused("scopes", f"Phạm vi “{scope[:40]}” không có; chọn trong: {', '.join(SCOPES)}.")
        if role not in SCOPES[scope][1]:
            raise TokenRefused("scopes", f"Vai trò {role} không được cấp phạm vi “{scope}”.")
    return [scope for scope in SCOPES if scope in requested]


def checked_days(days: object) -> int:
    try:
        number = int(str(days).strip())
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_DAYS:
        raise TokenRefused("days", f"Số ngày hiệu lực phải từ 1 đến {MAX_DAYS}.")
    return number


async def issue(secret_key: str, username: str, name: str, scopes: list[str], days: object, actor: str) -> str:
    """A new token for this user; the token itself is returned here and never again."""
    name = name.strip()
    if not 1 <= len(name) <= 255:
        raise TokenRefused("name", "Tên mã truy cập: bắt buộc nhập, tối đa 255 ký tự.")
    user = await User.select(User.id, User.role, User.active).where(User.username == username.strip()).first()
    if user is None or not user["active"]:
        raise TokenRefused("username", f"Không có tài khoản đang hoạt động “{username.strip()[:64]}”.")
    scopes, days = checked_scopes(scopes, user["role"]), checked_days(days)
    token = "sv_" + secrets.token_urlsafe(32)
    expires_at = utc_now() + dt.timedelta(days=days)
    async with db.write_transaction():
        row = (await ApiToken.insert(ApiToken(
            user=user["id"], name=name, token_hash=token_hash(secret_key, token), scopes=",".join(scopes),
            expires_at=expires_at)).returning(ApiToken.id))[0]
        await audit.record(actor, "api_token_issued", f"api_token:{row['id']}",
                           after={"user": username, "name": name, "scopes": scopes, "days": days})
    return token


def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite hands back naive UTC times
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment


def state_of(row: dict, now: dt.datetime) -> str:
    if row["revoked_at"] or not row["active"]:
        return "Đã thu hồi"
    if as_utc(row["expires_at"]) is None or as_utc(row["expires_at"]) <= now:
        return "Hết hạn"
    return "Còn hiệu lực"


async def listed(username: str | None = None) -> list[dict]:
    """Every token (newest first), with its user, scopes, dates in Vietnam and state; never the hash."""
    query = ApiToken.select(ApiToken.id, ApiToken.name, ApiToken.scopes, ApiToken.active, ApiToken.created_at,
                            ApiToken.expires_at, ApiToken.revoked_at, ApiToken.user.username.as_alias("username"))
    if username:
        query = query.where(ApiToken.user.username == username)
    now = utc_now()
    return [{**row, "scopes": [scope for scope in row["scopes"].split(",") if scope], "state": state_of(row, now),
             "created_on": as_utc(row["created_at"]).astimezone(VIETNAM_TIME).date(),
             "expires_on": row["expires_at"] and as_utc(row["expires_at"]).astimezone(VIETNAM_TIME).date()}
            for row in await query.order_by(ApiToken.id, ascending=False)]


async def revoke(token_id: int, actor: str) -> None:
    """Revoke one token; TokenRefused when there is no such token or it is already revoked."""
    async with db.write_transaction():
        row = await ApiToken.select(ApiToken.id, ApiToken.name, ApiToken.active).where(
            ApiToken.id == token_id).first()
        if row is None or not row["active"]:
            raise TokenRefused("token", f"Không có mã truy cập số {token_id} còn hiệu lực.")
        await ApiToken.update({ApiToken.active: False, ApiToken.revoked_at: utc_now()}).where(ApiToken.id == token_id)
        await audit.record(actor, "api_token_revoked", f"api_token:{token_id}", detail=row["name"])


async def revoke_all_of(user_id: int, actor: str, reason: str) -> None:
    """Revoke every live token of a user, logged when there was one; call it inside the transaction of the change
    that requires it."""
    revoked = await ApiToken.update({ApiToken.active: False, ApiToken.revoked_at: utc_now()}).where(
        (ApiToken.user == user_id) & (ApiToken.active == True)).returning(ApiToken.id)  # noqa: E712
    if revoked:
        await audit.record(actor, "api_tokens_revoked", f"user:{user_id}",
                           detail=f"{reason}: {', '.join(str(row['id']) for row in revoked)}")


async def token_owner(secret_key: str, token: str) -> tuple[dict, frozenset[str]] | None:
    """The user row and the scopes of a live token (active, not revoked, not expired) of an active user."""
    found = await ApiToken.select(ApiToken.user, ApiToken.scopes, ApiToken.expires_at).where(
        (ApiToken.token_hash == token_hash(secret_key, token)) & (ApiToken.active == True)  # noqa: E712
        & ApiToken.revoked_at.is_null()).first()
    if found is None or as_utc(found["expires_at"]) is None or as_utc(found["expires_at"]) <= utc_now():
        return None
    row = await User.select().where(User.id == found["user"]).first()
    if row is None or not row["active"]:
        return None
    return row, frozenset(scope for scope in found["scopes"].split(",") if scope)
