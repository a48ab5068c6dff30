"""Dangerous actions (close a campaign, deactivate a counter or account, rotate a signing key, exclude a response):
the first click shows a page that names the consequence and asks for a reason; only the form sent from that page,
with its reason, acts. Plain HTML forms, so it works without JavaScript; the reason goes into the audit log."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from litestar import Request
from litestar.response import Template

CONFIRMED = "yes"
MAX_REASON = 500


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation page says and where its form goes."""

    title: str                 # the question: "Đóng đợt khảo sát QUAY-2026?"
    consequence: str           # what stops working, and whether it can be undone
    action: str                # the URL the confirmed form posts to
    button: str                # the danger button's text
    back: str                  # where "Hủy" leads
    hidden: dict[str, str] = field(default_factory=dict)  # the fields of the first form, sent again


def confirmed_reason(form) -> str | None:
    """The reason typed on the confirmation page; None while the action is not confirmed with a reason."""
    if form.get("confirm") != CONFIRMED:
        return None
    reason = unicodedata.normalize("NFC", form.get("reason") or "").strip()
    return reason[:MAX_REASON] or None


def asked_again(form) -> bool:
    """The confirmation page was sent without a reason: show it again with the problem named."""
    return form.get("confirm") == CONFIRMED


def confirmation_page(request: Request, confirmation: Confirmation, form) -> Template:
    """The page asking to confirm; 422 when it comes back without a reason (nothing was done)."""
    problem = "Lý do: bắt buộc nhập (được ghi vào nhật ký thay đổi)." if asked_again(form) else None
    return Template(template_name="confirm.html", status_code=422 if problem else 200,
                    context={"user": request.user, "confirmation": confirmation, "problem": problem})


def with_reason(reason: str, detail: str = "") -> str:
    """The audit entry's detail: the reason first, then what the action adds."""
    return f"lý do: {reason}" + (f"; {detail}" if detail else "")
