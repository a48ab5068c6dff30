"""Today is Vietnam's day whatever the server's zone."""

import datetime as dt

import pytest

from survey_app.core.vietnam_time import today_in_vietnam

UTC = dt.timezone.utc


@pytest.mark.parametrize("moment,day", [
    (dt.datetime(2026, 2, 28, 16, 59, tzinfo=UTC), dt.date(2026, 2, 28)),  # 23:59 in Vietnam
    (dt.datetime(2026, 2, 28, 17, 0, tzinfo=UTC), dt.date(2026, 3, 1)),  # midnight there, still 28/02 in UTC
    (dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))), dt.date(2026, 3, 1)),  # 18:00 there
])
def test_today_is_the_day_in_vietnam_whatever_the_servers_zone(moment, day):
    """Campaign periods, QR expiry dates and export days are Vietnam's days, also on a server set to UTC."""
    assert today_in_vietnam(moment) == day
