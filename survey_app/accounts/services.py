"""Sign-in, lockout, unit scope and API tokens, on the database."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from survey_app.accounts import audit
from survey_app.core import db
from survey_app.accounts import SignedInUser, api_tokens
from survey_app.accounts.passwords import hash_password, password_matches
from survey_app.core.tables import Unit, User



@dataclass(frozen=True)
class SignInRefused(Exception):
    message_vi: str
    message_en: str


WRONG = SignInRefused("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong username or password.")


def too_many_failures(seconds: int) -> SignInRefused:
    """Wrong sign-ins are limited per client (survey_app.accounts.controllers), never per account: locking an account
    let anyone lock its owner out, and showing the lock only for real accounts told which names exist."""
    minutes = -(-seconds // 60)
    return SignInRefused(f"Đăng nhập sai quá nhiều lần từ máy này. Vui lòng thử lại sau {minutes} phút.",
                         f"Too many failed sign-ins from this device. Try again in {minutes} minutes.")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


async def units_below(unit_id: int) -> frozenset[int]:
    """The unit and every unit under it in the tree."""
    children: dict[int | None, list[int]] = {}
    for row in await Unit.select(Unit.id, Unit.parent):
        children.setdefault(row["parent"], []).append(row["id"])
    found, frontier = {unit_id}, [unit_id]
    while frontier:
        below = children.get(frontier.pop(), [])
        found.update(below)
        frontier.extend(below)
    return frozenset(found)


async def signed_in_user(row: dict, token_scopes: frozenset[str] | None = None) -> SignedInUser:
    scope = None
    if row["role"] == "unit_manager":
        scope = await units_below(row["unit"]) if row["unit"] else frozenset()
    return SignedInUser(id=row["id"], username=row["username"], display_name=row["display_name"] or row["username"],
                        role=row["role"], unit_id=row["unit"], unit_ids=scope, token_scopes=token_scopes)


async def user_for_session(user_id: int, epoch: int) -> SignedInUser | None:
    row = await User.select().where(User.id == user_id).first()
    if row is None or not row["active"] or row["session_epoch"] != epoch:
        return None
    return await signed_in_user(row)


def as_utc(moment):
    if moment is not None and moment.tzinfo is None:  # SQLite hands back naive UTC times
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment


async def sign_in(username: str, password: str) -> dict:
    """The user's row when the password is right; WRONG otherwise (the same for an unknown name)."""
    row = await User.select().where(User.username == username.strip()).first()
    # argon2 takes tens of milliseconds of CPU by design: off the event loop, so other requests keep flowing
    matches = await asyncio.to_thread(password_matches, row["password_hash"] if row else "", password)
    if row is None or not row["active"]:
        raise WRONG
    if not matches:
        async with db.write_transaction():
            await User.update({User.failed_logins: User.failed_logins + 1}).where(User.id == row["id"])
            await audit.record(row["username"], "sign_in_failed", f"user:{row['id']}")
        raise WRONG
    return row


async def record_sign_in(row: dict) -> None:
    """Once the session is stored: the audit log must not show a sign-in that a store outage stopped."""
    async with db.write_transaction():
        await User.update({User.failed_logins: 0}).where(User.id == row["id"])
        await audit.record(row["username"], "sign_in", f"user:{row['id']}")


async def change_password(user: SignedInUser, new_password: str) -> int:
    """Store the new hash and move the session epoch on, which ends the user's other sessions; the new epoch."""
    new_hash = await asyncio.to_thread(hash_password, new_password)  # before the write lock is taken
    async with db.write_transaction():
        row = await User.select(User.session_epoch).where(User.id == user.id).first()
        epoch = row["session_epoch"] + 1
        await User.update({User.password_hash: new_hash, User.session_epoch: epoch}).where(
            User.id == user.id)
        await audit.record(user.username, "password_changed", f"user:{user.id}")
        await api_tokens.revoke_all_of(user.id, user.username, "password changed")
    return epoch


async def user_for_token(secret_key: str, token: str) -> SignedInUser | None:
    """The user a live API token acts for, carrying the token's scopes; None for any other token."""
    owner = await api_tokens.token_owner(secret_key, token)
    if owner is None:
        return None
    row, scopes = owner
    return await signed_in_user(row, token_scopes=scopes)
