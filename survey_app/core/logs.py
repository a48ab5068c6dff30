"""Log lines safe to read: text that came with a request (a path, a token) cannot forge a second line."""

from __future__ import annotations

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: object, limit: int = 200) -> str:
    """`text` cut to `limit` characters with every control character (newline, NUL, escape...) as \\xNN."""
    return CONTROL_CHARACTERS.sub(lambda found: f"\\x{ord(found.group()):02x}", str(text)[:limit])
