"""Signed counter tokens: the QR code's URL carries counter, campaign, key id and an optional expiry, signed.

A token reads `<counter>.<campaign>.<key id>.<expiry yyyymmdd or 0>.<signature>`: short enough for a QR code
and for the printed short URL. Rotation: sign with the newest key; every key still listed verifies, so old
posters stay valid until their expiry; removing a key id revokes every poster signed with it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

SIGNATURE_BYTES = 12  # 96 bits: forging by guessing is hopeless, and the token stays short
CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class TokenError(Exception):
    """Why a token is refused; `reason` is one of forged, malformed, expired, revoked."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CounterToken:
    counter_code: str
    campaign_code: str
    key_id: str
    expires_on: dt.date | None


DERIVED_KEY_ID = "k1"


def parse_signing_keys(text: str, secret_key: str) -> dict[str, bytes]:
    """SIGNING_KEYS="k2:secret2,k1:secret1" (newest first); without it one key 'k1' derived from SECRET_KEY.

    The derived key stays last, verifying only, unless SIGNING_KEYS names k1 itself: moving to SIGNING_KEYS must
    not revoke every poster printed before (list k1 with a new secret to revoke those)."""
    derived = {DERIVED_KEY_ID: hashlib.sha256(b"counter-token:" + secret_key.encode()).digest()}
    if not text.strip():
        return derived
    keys = {}
    for entry in text.split(","):
        key_id, _, secret = entry.strip().partition(":")
        if not CODE.match(key_id) or not secret:
            raise ValueError(f"SIGNING_KEYS entry {entry.strip()!r} must read key_id:secret")
        keys[key_id] = secret.encode()
    return keys if DERIVED_KEY_ID in keys else {**keys, **derived}


def _signature(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(keys: dict[str, bytes], counter_code: str, campaign_code: str, expires_on: dt.date | None = None) -> str:
    """Token for one counter in one campaign, signed with the newest key."""
    if not (CODE.match(counter_code) and CODE.match(campaign_code)):
        raise ValueError("counter and campaign codes may hold only letters, digits, '-' and '_'")
    key_id = next(iter(keys))
    payload = ".".join([counter_code, campaign_code, key_id, expires_on.strftime("%Y%m%d") if expires_on else "0"])
    return f"{payload}.{_signature(keys[key_id], payload)}"


def verify(keys: dict[str, bytes], token: str, today: dt.date) -> CounterToken:
    """The token's content, or TokenError saying why it is refused."""
    parts = token.split(".")
    if len(parts) != 5:
        raise TokenError("malformed")
    counter_code, campaign_code, key_id, expiry, signature = parts
    if key_id not in keys:
        raise TokenError("revoked")
    # compared as bytes: compare_digest refuses a str with non-ASCII letters (TypeError, a 500)
    if not hmac.compare_digest(_signature(keys[key_id], ".".join(parts[:4])).encode(), signature.encode()):
        raise TokenError("forged")
    expires_on = None if expiry == "0" else dt.datetime.strptime(expiry, "%Y%m%d").date()
    if expires_on and expires_on < today:
        raise TokenError("expired")
    return CounterToken(counter_code, campaign_code, key_id, expires_on)


def form_url(base_url: str, keys: dict[str, bytes], counter_code: str, campaign_code: str,
             expires_on: dt.date | None = None) -> str:
    """The address a counter's QR code and poster carry."""
    return f"{base_url.rstrip('/')}/q/{sign(keys, counter_code, campaign_code, expires_on)}"


def newest_key_id(keys: dict[str, bytes]) -> str:
    """The key new posters are signed with (SIGNING_KEYS lists the newest first)."""
    return next(iter(keys))


def accepted_key_ids(keys: dict[str, bytes], counter_key_id: str) -> list[str]:
    """Key ids a counter's posters may carry: its own key and newer ones. Rotating a counter moves its key to the
    newest, which refuses that counter's posters signed with older keys while other counters keep theirs. A key
    id no longer listed (or never listed) leaves every listed key accepted."""
    key_ids = list(keys)
    if counter_key_id not in key_ids:
        return key_ids
    return key_ids[: key_ids.index(counter_key_id) + 1]
