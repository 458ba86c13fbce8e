"""iCalendar (RFC 5545) feeds of shifts, made with `icalendar`, for Google Calendar, Outlook, ...

A feed is found by its secret token (only its hash is stored); the token is the whole
authentication, as calendar clients cannot log in. Every event's UID is derived from the
schedule, the person and the start, so a client that polls again updates the events it has.
"""

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event

from vigil.accounts.models import User, hash_token

from .models import Schedule, UserCalendar
from .shifts import schedule_shifts

PAST = dt.timedelta(days=30)
AHEAD = dt.timedelta(days=90)
PRODID = "-//Vigil//On-call shifts//EN"


def find_feed(raw):
    """The Schedule or UserCalendar whose token this is, or None."""
    digest = hash_token(raw)
    schedule = Schedule.objects.filter(calendar_token_hash=digest).first()
    if schedule is not None:
        return schedule
    return UserCalendar.objects.select_related("user").filter(token_hash=digest, user__is_active=True).first()


def feed_range(now=None):
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    return now - PAST, now + AHEAD


def _uid(schedule, shift):
    host = urlsplit(settings.BASE_URL).hostname or "vigil"
    return f"shift-{schedule.pk}-{shift.user_id}-{shift.start:%Y%m%dT%H%M%SZ}@{host}"


def _event(schedule, shift, summary, stamp):
    return Event.new(
        uid=_uid(schedule, shift), start=shift.start, end=shift.end, stamp=stamp, summary=summary,
        description=f"On call for {schedule.team.name} on the schedule {schedule.name}.",
        url=settings.BASE_URL + schedule.get_absolute_url(),
    )


def _calendar(name, events):
    calendar = Calendar.new(name=name, prodid=PRODID, refresh_interval=dt.timedelta(hours=1))
    # Outlook reads its polling interval from this older property.
    calendar["X-PUBLISHED-TTL"] = "PT1H"
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


def schedule_calendar(schedule, now=None):
    """Everyone's shifts on one schedule, 30 days back to 90 days ahead; SUMMARY is the person."""
    start, end = feed_range(now)
    shifts = schedule_shifts(schedule, start, end)
    users = User.objects.in_bulk({s.user_id for s in shifts})
    stamp = timezone.now().replace(microsecond=0)
    events = [_event(schedule, s, str(users[s.user_id]), stamp) for s in shifts if s.user_id in users]
    return _calendar(f"On call: {schedule.name}", events)


def user_calendar(user, now=None):
    """One person's shifts on every schedule of their teams; SUMMARY names the schedule."""
    start, end = feed_range(now)
    schedules = Schedule.objects.filter(team__memberships__user=user).select_related("team").prefetch_related(
        "layers__members")
    stamp = timezone.now().replace(microsecond=0)
    events = []
    for schedule in schedules:
        for shift in schedule_shifts(schedule, start, end):
            if shift.user_id == user.pk:
                events.append(_event(schedule, shift, f"On call: {schedule.name}", stamp))
    events.sort(key=lambda e: e.start)
    return _calendar(f"On call: {user}", events)
