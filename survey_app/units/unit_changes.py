"""Unit merges and splits with their date. An administrator records that units were merged into (or split from)
another on a date; trends then count, for campaigns before that date, the predecessors' answers under the
successor, and say so on the page."""

from __future__ import annotations

import datetime as dt

from survey_app.accounts import audit
from survey_app.core import db
from survey_app.accounts.admin_forms import FieldErrors, FormRefused, nfc
from survey_app.core.tables import Unit, UnitChange

KINDS = {"merge": "sáp nhập vào", "split": "tách ra thành"}


def parse_date(text: str | None) -> dt.date | None:
    """yyyy-mm-dd (a browser's date field) or dd/mm/yyyy (typed)."""
    for layout in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime((text or "").strip(), layout).date()
        except ValueError:
            continue
    return None


async def checked_change(form) -> dict:
    """Predecessor codes, successor, kind and date, every bad field named in Vietnamese (FormRefused)."""
    errors = FieldErrors()
    codes = [code.strip() for code in nfc(form.get("predecessors")).replace(";", ",").split(",") if code.strip()]
    successor_code = nfc(form.get("successor"))
    units = {row["code"]: row for row in await Unit.select(Unit.id, Unit.code, Unit.name).where(
        Unit.code.is_in([*codes, successor_code] or ["-"]))}
    if not codes:
        errors.add("predecessors", "Đơn vị cũ: nhập ít nhất một mã đơn vị.")
    elif unknown := [code for code in codes if code not in units]:
        errors.add("predecessors", f"Đơn vị cũ: không có mã {', '.join(unknown)}.")
    elif successor_code in codes:
        errors.add("predecessors", "Đơn vị cũ: không được trùng đơn vị mới.")
    if successor_code not in units:
        errors.add("successor", f"Đơn vị mới: không có mã “{successor_code[:32]}”." if successor_code
                   else "Đơn vị mới: bắt buộc nhập.")
    kind = form.get("kind", "")
    if kind not in KINDS:
        errors.add("kind", "Hình thức: chọn sáp nhập hoặc chia tách.")
    effective_on = parse_date(form.get("effective_on"))
    if effective_on is None:
        errors.add("effective_on", "Ngày hiệu lực: chọn một ngày (dd/mm/yyyy).")
    if errors:
        raise FormRefused(errors)
    return {"predecessors": [units[code] for code in codes], "successor": units[successor_code], "kind": kind,
            "effective_on": effective_on}


async def record_change(change: dict, username: str) -> None:
    """One row per predecessor, with the audit entry, in one transaction."""
    async with db.write_transaction():
        await UnitChange.insert(*[UnitChange(predecessor=unit["id"], successor=change["successor"]["id"],
                                             kind=change["kind"], effective_on=change["effective_on"],
                                             recorded_by=username) for unit in change["predecessors"]])
        await audit.record(username, f"unit_{change['kind']}", f"unit:{change['successor']['code']}", after={
            "predecessors": [unit["code"] for unit in change["predecessors"]], "kind": change["kind"],
            "effective_on": change["effective_on"].isoformat()})


async def changes() -> list[dict]:
    return await UnitChange.select(
        UnitChange.kind, UnitChange.effective_on, UnitChange.recorded_by,
        UnitChange.predecessor.code.as_alias("predecessor_code"), UnitChange.predecessor.name.as_alias("predecessor"),
        UnitChange.successor.code.as_alias("successor_code"), UnitChange.successor.name.as_alias("successor"),
    ).order_by(UnitChange.effective_on, ascending=False)


async def predecessors_of(unit_codes: set[str]) -> list[dict]:
    """Changes whose successor is one of these units (followed back through earlier changes too)."""
    found, frontier = [], set(unit_codes)
    every = await changes()
    while frontier:
        step = [change for change in every if change["successor_code"] in frontier and change not in found]
        found += step
        frontier = {change["predecessor_code"] for change in step}
    return found


def mapped_codes(unit_codes: set[str], starts_on: dt.date, earlier: list[dict]) -> tuple[set[str], list[dict]]:
    """The codes whose answers count for these units in a campaign starting on `starts_on`: a predecessor counts
    for campaigns before its change took effect. Returns the codes and the changes that were used."""
    used = [change for change in earlier if starts_on < change["effective_on"]]
    return set(unit_codes) | {change["predecessor_code"] for change in used}, used
