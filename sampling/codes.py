"""One-time invitation codes: unguessable, easy to type, with a check character; stored only as a hash.

Codes use Crockford's base-32 alphabet (no I, L, O, U), so a typed O is read as 0 and I or L as 1. The last
character is a Luhn mod-32 check: every single wrong character and almost every swap of two neighbours is
caught before any lookup. 10 characters = 9 random (45 bits) + 1 check, printed as ABCD-EFGH-JK.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sampling.errors import refuse

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
GROUP_SIZE = 4
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", " -_.\t")


def generate_code(length: int = CODE_LENGTH) -> str:
    """A new random code, grouped for printing (e.g. 7KQ2-M9XD-4T)."""
    payload = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length - 1))
    return format_code(payload + check_character(payload))


def generate_codes(count: int, length: int = CODE_LENGTH) -> list[str]:
    """`count` distinct codes (one per sampled person)."""
    codes: dict[str, None] = {}
    while len(codes) < count:
        codes[generate_code(length)] = None
    return list(codes)


def format_code(code: str) -> str:
    """Group a code in fours with dashes, for slips and screens."""
    canonical = normalize_code(code)
    return "-".join(canonical[start:start + GROUP_SIZE] for start in range(0, len(canonical), GROUP_SIZE))


def normalize_code(text: str) -> str:
    """Canonical form of what a person typed: upper case, no spaces or dashes, O→0, I/L→1."""
    return str(text).upper().translate(_SEPARATORS).translate(_LOOK_ALIKES)


def check_character(payload: str) -> str:
    """Luhn mod-32 check character for a canonical payload."""
    return CODE_ALPHABET[(-_luhn_sum(payload, double_first=True)) % len(CODE_ALPHABET)]


def check_code(text: str, length: int = CODE_LENGTH) -> str:
    """Normalise and verify a typed code; return the canonical code or raise a bilingual error."""
    canonical = normalize_code(text)
    if len(canonical) != length or any(character not in CODE_ALPHABET for character in canonical):
        raise refuse("code", f"Mã phải gồm {length} ký tự chữ và số; hãy kiểm tra lại.",
                     f"a code has {length} letters and digits; please check it.")
    if _luhn_sum(canonical, double_first=False) % len(CODE_ALPHABET) != 0:
        raise refuse("code", "Mã có ký tự gõ sai; hãy kiểm tra lại.",
                     "the code has a typing mistake; please check it.")
    return canonical


def is_valid_code(text: str, length: int = CODE_LENGTH) -> bool:
    """True when the typed code is well formed and its check character matches."""
    try:
        check_code(text, length)
    except ValueError:
        return False
    return True


def hash_code(secret_key: bytes, code: str) -> str:
    """HMAC-SHA256 (hex) of the canonical code: the only form ever stored, so a leaked table reveals no code."""
    if not isinstance(secret_key, bytes) or len(secret_key) < 16:
        raise refuse("secret_key", "Khóa bí mật phải là bytes, ít nhất 16 byte.",
                     "the secret key must be bytes, at least 16 long.")
    return hmac.new(secret_key, check_code(code).encode("ascii"), hashlib.sha256).hexdigest()


def _luhn_sum(text: str, double_first: bool) -> int:
    """Luhn mod N sum, from the right; `double_first` when the check character is not yet appended."""
    base, total, double = len(CODE_ALPHABET), 0, double_first
    for character in reversed(text):
        addend = CODE_ALPHABET.index(character) * (2 if double else 1)
        total += addend // base + addend % base
        double = not double
    return total
