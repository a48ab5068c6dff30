"""Vietnam's calendar: the day a campaign opens or closes, a QR code expires or an answer was given is the day in
Vietnam (UTC+7, no daylight saving time), whatever time zone the server runs in (containers usually run in UTC,
where 00:00–07:00 in Vietnam is still yesterday)."""

from __future__ import annotations

import datetime as dt

VIETNAM_TIME = dt.timezone(dt.timedelta(hours=7), "ICT")


def today_in_vietnam(now: dt.datetime | None = None) -> dt.date:
    """The date in Vietnam at `now` (an aware datetime; the current time when None)."""
    return (now or dt.datetime.now(dt.timezone.utc)).astimezone(VIETNAM_TIME).date()
