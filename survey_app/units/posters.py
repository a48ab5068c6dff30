"""A counter's QR code or poster, or a ZIP of posters for every active counter of a unit or campaign: what
`survey qr` and the counters' admin page both call.

`build` runs on an already connected database and builds everything in memory; the caller writes only on success.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


from survey_app.units import qr as render
from survey_app.core.tables import Campaign, Counter, Unit
from survey_app.core.tokens import form_url

OUTPUT_FORMATS = ("png", "svg", "pdf", "zip")


class QrCommandError(Exception):
    """A clear message for the person at the terminal; nothing is written."""


@dataclass
class QrOutput:
    data: bytes
    format: str
    counters: list[str]
    warnings: list[str] = field(default_factory=list)


def parse_expiry(text: str | None, today: dt.date | None = None) -> dt.date | None:
    """dd/mm/yyyy (as printed on Vietnamese documents), today or later."""
    if not text:
        return None
    try:
        day = dt.datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        raise QrCommandError(f"--expires {text!r} is not a date written dd/mm/yyyy, e.g. 31/12/2026") from None
    if day < (today or dt.date.today()):
        raise QrCommandError(f"--expires {text} is already past: posters would be refused from the start")
    return day


def choose_format(format: str | None, output: Path | None, many: bool) -> str:
    if format is None:
        suffix = output.suffix.lower().lstrip(".") if output else ""
        format = suffix if suffix in OUTPUT_FORMATS else ("zip" if many else "png")
    format = format.lower()
    if format not in OUTPUT_FORMATS:
        raise QrCommandError(f"--format {format!r}: choose one of {', '.join(OUTPUT_FORMATS)}")
    if many and format != "zip":
        raise QrCommandError(f"a unit or a whole campaign gives one poster per counter: use --format zip, "
                             f"not {format}")
    return format


async def poster_entries(settings, campaign_code: str, counter_code: str | None = None, unit_code: str | None = None,
                         expires_on: dt.date | None = None) -> tuple[dict, list[render.PosterEntry]]:
    """The campaign and one entry per counter asked for: one counter, a unit's active counters, or all of them."""
    if counter_code and unit_code:
        raise QrCommandError("give --counter or --unit, not both")
    campaign = await Campaign.select().where(Campaign.code == campaign_code).first()
    if campaign is None:
        raise QrCommandError(f"no campaign with code {campaign_code!r}")
    if campaign["mode"] != "open_qr":
        raise QrCommandError(f"campaign {campaign_code} is answered with invitation codes, not at a counter")
    query = Counter.select(Counter.code, Counter.name, Counter.active, Counter.unit.name.as_alias("unit_name"))
    if counter_code:
        counters = await query.where(Counter.code == counter_code)
        if not counters:
            raise QrCommandError(f"no counter with code {counter_code!r}")
        if not counters[0]["active"]:
            raise QrCommandError(f"counter {counter_code} is inactive: its QR code would be refused")
    elif unit_code:
        unit = await Unit.select(Unit.id).where(Unit.code == unit_code).first()
        if unit is None:
            raise QrCommandError(f"no unit with code {unit_code!r}")
        counters = await query.where((Counter.unit == unit["id"]) & (Counter.active == True)).order_by(  # noqa: E712
            Counter.code)
        if not counters:
            raise QrCommandError(f"unit {unit_code} has no active counter")
    else:
        counters = await query.where(Counter.active == True).order_by(Counter.code)  # noqa: E712
        if not counters:
            raise QrCommandError("there is no active counter")
    keys = settings.signing_keys
    entries = [
        render.PosterEntry(url=form_url(settings.base_url, keys, row["code"], campaign["code"], expires_on),
                           counter_code=row["code"], counter_name=row["name"], unit_name=row["unit_name"],
                           campaign_name=campaign["name"])
        for row in counters
    ]
    return campaign, entries


async def build(settings, campaign_code: str, counter_code: str | None = None, unit_code: str | None = None,
                format: str | None = None, size: str = "A4", expires_on: dt.date | None = None,
                code_only: bool = False, output: Path | None = None) -> QrOutput:
    """Everything `survey qr` writes, in memory. Raises QrCommandError for anything the user must fix."""
    size = size.upper()
    if size not in render.PAGE_SIZES:
        raise QrCommandError(f"--size {size!r}: choose one of {', '.join(render.PAGE_SIZES)}")
    format = choose_format(format, output, many=not counter_code)
    if code_only and format not in ("png", "svg"):
        raise QrCommandError("--code-only gives the bare code as png or svg")
    campaign, entries = await poster_entries(settings, campaign_code, counter_code, unit_code, expires_on)
    warnings = []
    if campaign["status"] in ("closed", "paused"):
        warnings.append(f"campaign {campaign_code} is {campaign['status']}: the form refuses answers until it opens")
    if expires_on and campaign["ends_on"] and expires_on > campaign["ends_on"]:
        warnings.append(f"the codes stay valid after the campaign ends on {campaign['ends_on']:%d/%m/%Y}")
    codes = [entry.counter_code for entry in entries]
    if format == "zip":
        return QrOutput(render.zip_of_posters(entries, size, expires_on), format, codes, warnings)
    entry = entries[0]
    if format == "svg":
        data = render.qr_svg(entry.url)
    elif code_only:
        data = render.qr_png(entry.url)
    else:
        data = render.poster(entry.url, entry.unit_name, entry.counter_name, entry.campaign_name, size, format,
                             expires_on)
    return QrOutput(data, format, codes, warnings)



def write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target and rename, so a failure never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp makes it private; the file is a normal output
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


