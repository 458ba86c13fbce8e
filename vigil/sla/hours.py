"""Business hours: how much working time lies between two instants, and when a given amount of
working time will have passed.

A calendar is a time zone, the working weekdays and a daily window (09:00-17:00) in local time.
Each day's window is placed in the zone on its own date, so a DST change moves it with the
clocks: 09:00-17:00 in Paris is 08:00-16:00 UTC in winter and 07:00-15:00 UTC in summer, and a
window is always its full length of local hours. Days off are the public holidays of a country
or region (from python-holidays, e.g. "NL" or "US-CA") and the team's own closed days.
"""

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

# A search that finds no working time in ten years has a calendar with none (no weekdays).
MAX_DAYS = 3660


def public_holidays(code):
    """The public holidays of "NL" or "US-CA" (a country, and a subdivision if it has its own), as
    python-holidays knows them; None for "". ValueError names what it does not know."""
    if not code:
        return None
    country, _, region = code.partition("-")
    try:
        return holidays.country_holidays(country.upper(), subdiv=region or None)
    except NotImplementedError as e:
        raise ValueError(str(e)) from None


@dataclass(frozen=True)
class Calendar:
    time_zone: str = "UTC"
    weekdays: tuple = (0, 1, 2, 3, 4)  # Monday is 0
    start: dt.time = dt.time(9, 0)
    end: dt.time = dt.time(17, 0)
    holidays_of: str = ""  # public_holidays' code
    closed_days: tuple = ()  # ISO dates

    @cached_property
    def _days_off(self):
        return public_holidays(self.holidays_of), {dt.date.fromisoformat(d) for d in self.closed_days}

    def is_working_day(self, day):
        public, closed = self._days_off
        return day.weekday() in self.weekdays and day not in closed and (public is None or day not in public)

    def windows(self, since):
        """The working windows (aware UTC start, end) from the local day of `since` onwards."""
        zone = ZoneInfo(self.time_zone)
        day = since.astimezone(zone).date()
        for _ in range(MAX_DAYS):
            if self.is_working_day(day):
                opens = dt.datetime.combine(day, self.start, zone).astimezone(dt.timezone.utc)
                closes = dt.datetime.combine(day, self.end, zone).astimezone(dt.timezone.utc)
                if closes > opens:
                    yield opens, closes
            day += dt.timedelta(days=1)

    def seconds_between(self, start, end):
        """Working seconds in [start, end)."""
        total = 0.0
        if end <= start:
            return 0.0
        for opens, closes in self.windows(start):
            if opens >= end:
                break
            overlap = (min(closes, end) - max(opens, start)).total_seconds()
            total += max(0.0, overlap)
        return total

    def add(self, start, seconds):
        """The instant at which `seconds` of working time have passed since `start`."""
        left = float(seconds)
        for opens, closes in self.windows(start):
            begin = max(opens, start)
            if begin >= closes:
                continue
            available = (closes - begin).total_seconds()
            if left <= available:
                return begin + dt.timedelta(seconds=left)
            left -= available
        raise ValueError("the calendar has no working time")


class AllHours:
    """24x7: working time is wall-clock time."""

    def seconds_between(self, start, end):
        return max(0.0, (end - start).total_seconds())

    def add(self, start, seconds):
        return start + dt.timedelta(seconds=seconds)
