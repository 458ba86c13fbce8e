"""Restrictions keep the parts of each shift inside a daily window on some weekdays."""

import datetime as dt

from .helpers import local, rotation, utc

MON_FRI = frozenset(range(5))


def spans(shifts):
    return [(s.user_id, s.start, s.end) for s in shifts]


def test_business_hours_keep_monday_to_friday_nine_to_five():
    rot = rotation("Europe/London", start=local("Europe/London", 2026, 1, 5, 9), length=7, people=(1, 2),
                   restrict_days=MON_FRI, restrict_start=dt.time(9), restrict_end=dt.time(17))
    week = rot.shifts(utc(2026, 1, 5), utc(2026, 1, 12))
    assert spans(week) == [(1, utc(2026, 1, d, 9), utc(2026, 1, d, 17)) for d in range(5, 10)]


def test_business_hours_follow_local_time_in_summer():
    rot = rotation("Europe/London", start=local("Europe/London", 2026, 1, 5, 9), length=7, people=(1, 2),
                   restrict_days=MON_FRI, restrict_start=dt.time(9), restrict_end=dt.time(17))
    assert spans(rot.shifts(utc(2026, 7, 1), utc(2026, 7, 2)))[0][1:] == (utc(2026, 7, 1, 8), utc(2026, 7, 1, 16))


def test_nights_cross_midnight_and_belong_to_the_day_they_start():
    rot = rotation("Europe/London", start=local("Europe/London", 2026, 1, 5, 9), people=(1,),
                   restrict_days=frozenset({4}), restrict_start=dt.time(18), restrict_end=dt.time(8))
    # Friday 9 January 18:00 until Saturday 08:00; nothing on the other nights.
    assert spans(rot.shifts(utc(2026, 1, 5), utc(2026, 1, 12))) == [(1, utc(2026, 1, 9, 18), utc(2026, 1, 10, 8))]


def test_a_night_is_cut_where_the_rotation_hands_off():
    rot = rotation("America/New_York", start=local("America/New_York", 2026, 1, 5, 0), handoff=dt.time(0), people=(1, 2),
                   restrict_start=dt.time(18), restrict_end=dt.time(8))
    night = rot.shifts(utc(2026, 1, 6, 20), utc(2026, 1, 7, 16))
    # Tuesday 18:00 EST to Wednesday 08:00 EST, handed off at midnight.
    assert spans(night) == [(2, utc(2026, 1, 6, 23), utc(2026, 1, 7, 5)), (1, utc(2026, 1, 7, 5), utc(2026, 1, 7, 13))]


def test_a_night_over_spring_forward_is_an_hour_shorter():
    rot = rotation("Europe/London", start=local("Europe/London", 2026, 3, 2, 9), people=(1,),
                   restrict_days=frozenset({5}), restrict_start=dt.time(22), restrict_end=dt.time(6))
    (night,) = rot.shifts(utc(2026, 3, 28), utc(2026, 3, 30))
    assert (night.start, night.end) == (utc(2026, 3, 28, 22), utc(2026, 3, 29, 5))


def test_weekdays_alone_keep_whole_local_days():
    rot = rotation("America/New_York", start=local("America/New_York", 2026, 1, 5, 9), length=7, people=(1,),
                   restrict_days=frozenset({5, 6}))
    assert spans(rot.shifts(utc(2026, 1, 5), utc(2026, 1, 13))) == [(1, utc(2026, 1, 10, 5), utc(2026, 1, 12, 5))]


def test_a_restricted_layer_has_nobody_outside_its_window():
    rot = rotation("Europe/London", start=local("Europe/London", 2026, 1, 5, 9), people=(1, 2),
                   restrict_days=MON_FRI, restrict_start=dt.time(9), restrict_end=dt.time(17))
    assert rot.user_at(utc(2026, 1, 6, 8, 59)) is None
    assert rot.user_at(utc(2026, 1, 6, 9)) == 2
    assert rot.user_at(utc(2026, 1, 6, 17)) is None
    assert rot.user_at(utc(2026, 1, 10, 12)) is None  # Saturday
