"""An invited answer and its spent invitation record only the week (its Monday, Vietnam's calendar), never the day."""

import datetime as dt

import pytest

from survey_app.officials.services import submission_week
from survey_app.core.vietnam_time import today_in_vietnam

UTC = dt.timezone.utc
MONDAY_16_NOV = dt.datetime(2026, 11, 16, tzinfo=UTC)


@pytest.mark.parametrize("moment,monday", [
    (dt.datetime(2026, 11, 16, 0, 0, tzinfo=UTC), MONDAY_16_NOV),  # Monday 07:00 in Vietnam
    (dt.datetime(2026, 11, 18, 9, 41, 7, tzinfo=UTC), MONDAY_16_NOV),  # Wednesday
    (dt.datetime(2026, 11, 22, 16, 59, tzinfo=UTC), MONDAY_16_NOV),  # Sunday 23:59 in Vietnam
    (dt.datetime(2026, 11, 22, 17, 0, tzinfo=UTC), dt.datetime(2026, 11, 23, tzinfo=UTC)),  # Monday 00:00 there
    (dt.datetime(2026, 1, 1, 12, 0, tzinfo=UTC), dt.datetime(2025, 12, 29, tzinfo=UTC)),  # ISO week across a year
])
def test_submission_time_is_the_monday_of_its_week(moment, monday):
    assert submission_week(moment) == monday


def test_every_day_of_a_week_gives_the_same_stored_time():
    days = {submission_week(MONDAY_16_NOV + dt.timedelta(hours=hours)) for hours in range(0, 7 * 24 - 7)}
    assert days == {MONDAY_16_NOV}


@pytest.mark.parametrize("moment,day", [
    (dt.datetime(2026, 2, 28, 16, 59, tzinfo=UTC), dt.date(2026, 2, 28)),  # 23:59 in Vietnam
    (dt.datetime(2026, 2, 28, 17, 0, tzinfo=UTC), dt.date(2026, 3, 1)),  # midnight there, still 28/02 in UTC
    (dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))), dt.date(2026, 3, 1)),  # 18:00 there
])
def test_today_is_the_day_in_vietnam_whatever_the_servers_zone(moment, day):
    """Campaign periods, QR expiry dates and export days are Vietnam's days, also on a server set to UTC."""
    assert today_in_vietnam(moment) == day
