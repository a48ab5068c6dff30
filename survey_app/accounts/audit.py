"""The audit log: every change by a signed-in user (who, what, when, before/after) and every refused attempt."""

from __future__ import annotations

import logging

from survey_app.core.tables import AuditLog

logger = logging.getLogger("survey_app.accounts.audit")


async def record(username: str, action: str, target: str = "", before: dict | None = None,
                 after: dict | None = None, detail: str = "") -> None:
    """Write one entry. Call it inside the transaction of the change it describes, so both land or neither."""
    await AuditLog.insert(AuditLog(username=username, action=action, target=target[:255], before=before,
                                   after=after, detail=detail))
    logger.info("audit %s %s %s %s", username or "-", action, target, detail)


def without_secrets(row: dict) -> dict:
    """A row as the log may keep it: no password hashes, token hashes or code hashes."""
    return {key: (value.isoformat() if hasattr(value, "isoformat") else value) for key, value in row.items()
            if not key.endswith("_hash")}
