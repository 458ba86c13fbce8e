import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from icalendar import Calendar

from vigil.oncall.actions import do_rotate_user_calendar
from vigil.oncall.calendars import AHEAD, PAST
from vigil.oncall.models import Override

from .helpers import make_schedule, utc

NOW = utc(2026, 3, 20, 12)


def events(response):
    calendar = Calendar.from_ical(response.content)
    return sorted(calendar.walk("VEVENT"), key=lambda e: e.start)


def test_the_schedule_feed_parses_and_lists_the_same_shifts_as_the_api(personas, api, client):
    schedule = make_schedule(personas.team, {"start": utc(2026, 1, 5, 9), "rotation": "daily",
                                             "participants": [personas.admin, personas.responder]})
    Override.objects.create(schedule=schedule, user=personas.responder, start=utc(2026, 3, 21, 1), end=utc(2026, 3, 21, 5))
    with time_machine.travel(NOW, tick=False):
        r = client.get(f"/calendars/{schedule.raw_token}.ics")
        start, end = (NOW - PAST).replace(second=0), NOW + AHEAD
        shifts = []
        # The API answers at most 90 days at a time.
        while start < end:
            stop = min(start + dt.timedelta(days=60), end)
            shifts += api(personas.viewer).get(f"/api/v1/schedules/{schedule.pk}/shifts",
                                                start=start.isoformat(), end=stop.isoformat()).json()["items"]
            start = stop
    assert r.status_code == 200
    assert r["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in r["Cache-Control"]
    got = events(r)
    # Shifts cut at the API's 60-day steps are one event in the feed: compare the merged spans.
    merged = []
    for s in shifts:
        if merged and merged[-1]["user_id"] == s["user_id"] and merged[-1]["end"] == s["start"]:
            merged[-1]["end"] = s["end"]
        else:
            merged.append(dict(s))
    assert [(e.start, e.end) for e in got] == [
        (dt.datetime.fromisoformat(s["start"]), dt.datetime.fromisoformat(s["end"])) for s in merged]
    names = {personas.admin.pk: "Ada Admin", personas.responder.pk: "Rita Responder"}
    assert [str(e["SUMMARY"]) for e in got] == [names[s["user_id"]] for s in merged]
    assert all(e.start.utcoffset() == dt.timedelta(0) and b"Z" in e["DTSTART"].to_ical() for e in got)
    assert len({str(e["UID"]) for e in got}) == len(got)
    assert "Rita Responder" in [str(e["SUMMARY"]) for e in got if e.start == utc(2026, 3, 21, 1)]


def test_event_uids_stay_the_same_from_one_poll_to_the_next(personas, client):
    schedule = make_schedule(personas.team, {"start": utc(2026, 1, 5, 9), "rotation": "daily",
                                             "participants": [personas.admin, personas.responder]})
    with time_machine.travel(NOW, tick=False):
        first = {str(e["UID"]): e.start for e in events(client.get(f"/calendars/{schedule.raw_token}.ics"))}
    with time_machine.travel(NOW + dt.timedelta(hours=3), tick=False):
        second = {str(e["UID"]): e.start for e in events(client.get(f"/calendars/{schedule.raw_token}.ics"))}
    common = set(first) & set(second)
    assert len(common) >= len(first) - 1 and all(first[uid] == second[uid] for uid in common)


def test_the_user_feed_lists_only_their_shifts_across_schedules(personas, client):
    make_schedule(personas.team, {"start": utc(2026, 1, 5, 9), "participants": [personas.admin, personas.responder]},
                  name="Primary")
    make_schedule(personas.team, {"start": utc(2026, 1, 5, 9), "rotation": "daily", "participants": [personas.responder]},
                  name="Secondary")
    make_schedule(personas.other_team, {"start": utc(2026, 1, 5, 9), "participants": [personas.outsider]}, name="Theirs")
    _, raw = do_rotate_user_calendar(personas.responder, actor=personas.responder)
    with time_machine.travel(NOW, tick=False):
        got = events(client.get(f"/calendars/{raw}.ics"))
    summaries = {str(e["SUMMARY"]) for e in got}
    assert summaries == {"On call: Primary", "On call: Secondary"}
    primary = [e for e in got if str(e["SUMMARY"]) == "On call: Primary"]
    # Weekly turns of two, Monday 09:00 London time to the next (one is an hour short: summer time).
    london = ZoneInfo("Europe/London")
    for e in primary[1:-1]:
        start, end = e.start.astimezone(london), e.end.astimezone(london)
        assert (start.weekday(), start.hour, end.hour, (end.date() - start.date()).days) == (0, 9, 9, 7)
    assert {e.end - e.start for e in primary[1:-1]} == {dt.timedelta(days=7), dt.timedelta(days=7, hours=-1)}
    assert all(e.start >= NOW - PAST - dt.timedelta(days=7) and e.end <= NOW + AHEAD for e in got)


def test_an_unknown_or_malformed_token_is_not_found(client, db):
    assert client.get("/calendars/vcal_nope.ics").status_code == 404
    assert client.get("/calendars/.ics").status_code == 404


def test_a_deactivated_users_feed_stops_working(personas, client):
    _, raw = do_rotate_user_calendar(personas.responder, actor=personas.responder)
    personas.responder.is_active = False
    personas.responder.save(update_fields=["is_active"])
    assert client.get(f"/calendars/{raw}.ics").status_code == 404
