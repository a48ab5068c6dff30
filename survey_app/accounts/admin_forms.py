"""What every administration form shares: cleaning text fields, field errors, the unit-scope refusal."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from litestar import Request
from litestar.exceptions import PermissionDeniedException
from litestar.response import Template

from survey_app.accounts import audit
from survey_app.core import db
from survey_app.accounts import SignedInUser

CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class FieldErrors:
    """Problems found in one form (or one import row), in Vietnamese, keyed by field name."""

    messages: dict[str, str] = field(default_factory=dict)

    def add(self, field_name: str, message: str) -> None:
        self.messages.setdefault(field_name, message)

    def __bool__(self) -> bool:
        return bool(self.messages)


def staff_page(request: Request, template_name: str, refused: bool = False, **context) -> Template:
    """A staff page with the signed-in user for its menu; 422 when it shows a refused form or file again."""
    return Template(template_name=template_name, status_code=422 if refused else 200,
                    context={"user": request.user, **context})


class FormRefused(Exception):
    """A form whose fields have problems: nothing was stored; the page shows each message by its field."""

    def __init__(self, errors: FieldErrors | dict[str, str]):
        self.errors = errors.messages if isinstance(errors, FieldErrors) else dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


def nfc(value: object) -> str:
    """A form or file value as NFC text without surrounding spaces (Vietnamese typed as decomposed letters too)."""
    return unicodedata.normalize("NFC", "" if value is None else str(value)).strip()


def clean_text(errors: FieldErrors, field_name: str, label_vi: str, value: object, max_length: int = 255,
               required: bool = True) -> str:
    """NFC text of a free-text field; control characters and over-long text are refused, markup is kept as
    text (every template escapes it)."""
    text = nfc(value)
    if required and not text:
        errors.add(field_name, f"{label_vi}: bắt buộc nhập.")
    elif len(text) > max_length:
        errors.add(field_name, f"{label_vi}: dài quá {max_length} ký tự ({len(text)}).")
    elif CONTROL_CHARACTERS.search(text):
        errors.add(field_name, f"{label_vi}: chứa ký tự điều khiển không hợp lệ.")
    return text


def clean_code(errors: FieldErrors, field_name: str, label_vi: str, value: object, required: bool = True) -> str:
    """A code (unit, counter, domain): 1–32 letters, digits, '-' or '_', because codes go into URLs and QR tokens."""
    code = nfc(value)
    if not code:
        if required:
            errors.add(field_name, f"{label_vi}: bắt buộc nhập.")
    elif not CODE_PATTERN.match(code):
        errors.add(field_name, f"{label_vi} “{code[:40]}”: chỉ gồm chữ không dấu, chữ số, '-' hoặc '_' "
                               "(tối đa 32 ký tự).")
    return code


async def refuse_outside_scope(user: SignedInUser, method: str, path: str, unit_code: str) -> None:
    """403 for a unit outside the user's scope, written to the audit log like every refused attempt."""
    async with db.write_transaction():
        await audit.record(user.username, "access_denied", f"{method} {path}",
                           detail=f"unit {unit_code[:40]} is outside the scope of {user.username}")
    raise PermissionDeniedException("Ông/bà không có quyền xem dữ liệu của đơn vị này.")
