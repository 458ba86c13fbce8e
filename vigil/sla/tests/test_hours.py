"""Business hours: working time between instants and the instant a span of working time ends,
across weekends and daylight-saving changes."""

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.sla.hours import AllHours, Calendar

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
paris = Calendar("Europe/Paris")
new_york = Calendar("America/New_York", start=dt.time(8, 30), end=dt.time(18, 0))


def local(zone, *args):
    return dt.datetime(*args, tzinfo=zone)


def test_a_weekend_does_not_count():
    friday_4pm, monday_10am = local(PARIS, 2026, 11, 27, 16), local(PARIS, 2026, 11, 30, 10)
    assert paris.seconds_between(friday_4pm, monday_10am) == 2 * 3600


def test_an_hour_of_work_started_late_on_friday_ends_on_monday_morning():
    assert paris.add(local(PARIS, 2026, 11, 27, 16, 30), 3600) == local(PARIS, 2026, 11, 30, 9, 30)


def test_public_holidays_and_closed_days_do_not_count():
    amsterdam = ZoneInfo("Europe/Amsterdam")
    # Friday 2026-04-24, 16:30: an hour of work. Monday the 27th is King's Day in the Netherlands.
    friday = local(amsterdam, 2026, 4, 24, 16, 30)
    assert Calendar("Europe/Amsterdam").add(friday, 3600) == local(amsterdam, 2026, 4, 27, 9, 30)
    dutch = Calendar("Europe/Amsterdam", holidays_of="NL")
    assert dutch.add(friday, 3600) == local(amsterdam, 2026, 4, 28, 9, 30)
    assert dutch.seconds_between(friday, local(amsterdam, 2026, 4, 28, 9, 30)) == 3600
    closed = Calendar("Europe/Amsterdam", holidays_of="NL", closed_days=("2026-04-28",))
    assert closed.add(friday, 3600) == local(amsterdam, 2026, 4, 29, 9, 30)
    # A region's own: Thanksgiving in California, not a working day there.
    assert Calendar("America/Los_Angeles", holidays_of="US-CA").is_working_day(dt.date(2026, 11, 26)) is False
    assert Calendar("America/Los_Angeles").is_working_day(dt.date(2026, 11, 26)) is True


def test_time_outside_the_window_does_not_count():
    assert paris.seconds_between(local(PARIS, 2026, 11, 24, 18), local(PARIS, 2026, 11, 25, 8)) == 0
    assert paris.add(local(PARIS, 2026, 11, 24, 18), 60) == local(PARIS, 2026, 11, 25, 9, 1)


def test_the_window_follows_the_local_clock_over_the_spring_change():
    # Paris moves to summer time on Sunday 29 March 2026: 09:00 is 08:00 UTC on Friday, 07:00 UTC on Monday.
    friday, monday = local(PARIS, 2026, 3, 27, 16), local(PARIS, 2026, 3, 30, 10)
    assert friday.astimezone(dt.timezone.utc).hour == 15 and monday.astimezone(dt.timezone.utc).hour == 8
    assert paris.seconds_between(friday, monday) == 2 * 3600
    ends = paris.add(local(PARIS, 2026, 3, 27, 16, 30), 3600)
    assert ends == local(PARIS, 2026, 3, 30, 9, 30)
    assert ends.astimezone(dt.timezone.utc) == dt.datetime(2026, 3, 30, 7, 30, tzinfo=dt.timezone.utc)


def test_the_window_follows_the_local_clock_over_the_autumn_change():
    # New York leaves summer time on Sunday 1 November 2026: a full 9.5 h day either side.
    friday, monday = local(NEW_YORK, 2026, 10, 30, 8, 30), local(NEW_YORK, 2026, 11, 2, 18)
    assert new_york.seconds_between(friday, monday) == 2 * 9.5 * 3600
    assert new_york.add(friday, 9.5 * 3600 + 60) == local(NEW_YORK, 2026, 11, 2, 8, 31)


def test_round_the_clock_is_wall_time():
    start = dt.datetime(2026, 3, 28, 23, tzinfo=dt.timezone.utc)
    assert AllHours().add(start, 7200) == start + dt.timedelta(hours=2)
    assert AllHours().seconds_between(start, start + dt.timedelta(days=2)) == 2 * 86400


instants = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31),
                        timezones=st.just(dt.timezone.utc))


@settings(max_examples=200, deadline=None)
@given(start=instants, seconds=st.integers(min_value=1, max_value=30 * 8 * 3600))
def test_adding_working_time_then_measuring_it_gives_it_back(start, seconds):
    for calendar in (paris, new_york):
        end = calendar.add(start, seconds)
        assert abs(calendar.seconds_between(start, end) - seconds) < 1e-3
        # ...and the end is the first such instant: a second earlier, less had passed.
        assert calendar.seconds_between(start, end - dt.timedelta(seconds=1)) < seconds
