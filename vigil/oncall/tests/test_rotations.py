"""Hand-offs at local wall-clock time across DST, elapsed hours, and the arithmetic that finds
the shift under way without walking from the layer's start."""

import datetime as dt

import pytest

from vigil.oncall.models import parse_rotation

from .helpers import local, rotation, utc


def handoffs(rot, start, end):
    return [s.start for s in rot.rotation_shifts(start, end)][1:]


def test_a_daily_london_handoff_stays_at_nine_across_spring_forward():
    rot = rotation("Europe/London", start=local("Europe/London", 2026, 3, 23, 9))
    assert handoffs(rot, utc(2026, 3, 27, 12), utc(2026, 3, 31, 12)) == [
        utc(2026, 3, 28, 9),  # 09:00 GMT
        utc(2026, 3, 29, 8),  # 09:00 BST: the clocks went forward at 01:00 that night
        utc(2026, 3, 30, 8),
        utc(2026, 3, 31, 8),
    ]


def test_the_shift_over_spring_forward_lasts_23_hours_and_over_fall_back_25():
    rot = rotation("Europe/London", start=local("Europe/London", 2026, 3, 23, 9))
    spring = rot.rotation_shifts(utc(2026, 3, 28, 9), utc(2026, 3, 29, 12))[0]
    assert (spring.start, spring.end) == (utc(2026, 3, 28, 9), utc(2026, 3, 29, 8))
    autumn = rot.rotation_shifts(utc(2026, 10, 24, 8), utc(2026, 10, 25, 12))[0]
    assert (autumn.start, autumn.end) == (utc(2026, 10, 24, 8), utc(2026, 10, 25, 9))
    assert autumn.end - autumn.start == dt.timedelta(hours=25)


def test_a_daily_new_york_handoff_stays_at_nine_across_both_changes():
    rot = rotation("America/New_York", start=local("America/New_York", 2026, 3, 1, 9))
    assert handoffs(rot, utc(2026, 3, 7, 0), utc(2026, 3, 9, 23)) == [
        utc(2026, 3, 7, 14),  # 09:00 EST
        utc(2026, 3, 8, 13),  # 09:00 EDT (clocks forward at 02:00 that morning)
        utc(2026, 3, 9, 13),
    ]
    assert handoffs(rot, utc(2026, 10, 31, 0), utc(2026, 11, 2, 23)) == [
        utc(2026, 10, 31, 13),  # 09:00 EDT
        utc(2026, 11, 1, 14),  # 09:00 EST (clocks back at 02:00 that morning)
        utc(2026, 11, 2, 14),
    ]


def test_a_weekly_monday_handoff_stays_at_nine_across_fall_back_in_new_york():
    rot = rotation("America/New_York", start=local("America/New_York", 2026, 10, 5, 9), length=7, people=(1, 2))
    shifts = rot.rotation_shifts(utc(2026, 10, 26, 13), utc(2026, 11, 9, 14))
    assert [(s.user_id, s.start, s.end) for s in shifts] == [
        (2, utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)),  # Monday 09:00 EDT to Monday 09:00 EST
        (1, utc(2026, 11, 2, 14), utc(2026, 11, 9, 14)),
    ]
    assert shifts[0].end - shifts[0].start == dt.timedelta(days=7, hours=1)


def test_a_weekly_handoff_stays_at_nine_across_spring_forward_in_london():
    rot = rotation("Europe/London", start=local("Europe/London", 2026, 3, 2, 9), length=7, people=(1, 2))
    assert handoffs(rot, utc(2026, 3, 20), utc(2026, 4, 7)) == [utc(2026, 3, 23, 9), utc(2026, 3, 30, 8), utc(2026, 4, 6, 8)]


def test_hours_rotations_count_elapsed_hours_across_dst():
    rot = rotation("Europe/London", start=utc(2026, 3, 28, 21), every="hours", length=12, people=(1, 2))
    shifts = rot.rotation_shifts(utc(2026, 3, 28, 21), utc(2026, 3, 30, 9))
    assert [s.start for s in shifts] == [utc(2026, 3, 28, 21), utc(2026, 3, 29, 9), utc(2026, 3, 29, 21)]
    assert all(s.end - s.start == dt.timedelta(hours=12) for s in shifts)
    # 21:00 GMT then 10:00 BST: the wall clock moves, the elapsed time does not.
    assert shifts[1].start.astimezone(rot.tz).hour == 10


def test_a_handoff_in_the_spring_gap_happens_an_hour_later_on_the_wall_clock():
    rot = rotation("Europe/London", start=local("Europe/London", 2026, 3, 27, 1, 30), handoff=dt.time(1, 30))
    assert handoffs(rot, utc(2026, 3, 27, 12), utc(2026, 3, 30, 12)) == [
        utc(2026, 3, 28, 1, 30),
        utc(2026, 3, 29, 1, 30),  # 01:30 does not exist that night: 02:30 BST
        utc(2026, 3, 30, 0, 30),
    ]


def test_a_handoff_at_a_repeated_time_happens_at_its_first_occurrence():
    rot = rotation("Europe/London", start=local("Europe/London", 2026, 10, 20, 1, 30), handoff=dt.time(1, 30))
    assert utc(2026, 10, 25, 0, 30) in handoffs(rot, utc(2026, 10, 24, 12), utc(2026, 10, 26, 12))


def test_the_first_shift_runs_from_the_start_to_the_first_handoff_after_the_start_day():
    rot = rotation("Europe/London", start=local("Europe/London", 2026, 3, 2, 0, 0), length=7, people=(1, 2))
    first = rot.rotation_shifts(utc(2026, 3, 1), utc(2026, 3, 20))[0]
    assert (first.user_id, first.start, first.end) == (1, utc(2026, 3, 2), utc(2026, 3, 9, 9))


def test_nobody_is_on_call_before_the_layer_starts():
    rot = rotation(start=utc(2026, 3, 2, 9))
    assert rot.user_at(utc(2026, 3, 2, 8, 59)) is None
    assert rot.rotation_shifts(utc(2026, 3, 1), utc(2026, 3, 2, 9)) == []
    assert rot.rotation_shifts(utc(2026, 3, 1), utc(2026, 3, 3))[0].start == utc(2026, 3, 2, 9)


def test_the_turn_far_in_the_future_is_found_arithmetically():
    rot = rotation("America/New_York", start=local("America/New_York", 2020, 1, 6, 9), people=(1, 2, 3, 4, 5, 6, 7))
    at = local("America/New_York", 2040, 7, 4, 8, 59)
    days = (at.date() - dt.date(2020, 1, 6)).days - 1  # 08:59: still the previous day's shift
    assert rot.index_at(at) == days
    assert rot.user_at(at) == rot.participants[days % 7]
    assert rot.user_at(at + dt.timedelta(minutes=1)) == rot.participants[(days + 1) % 7]


@pytest.mark.parametrize("value, parsed", [
    ("daily", ("days", 1)), ("weekly", ("days", 7)), ("hours:12", ("hours", 12)), ("days:3", ("days", 3)),
])
def test_it_reads_rotation_strings(value, parsed):
    assert parse_rotation(value) == parsed


@pytest.mark.parametrize("value", ["", "fortnightly", "hours:0", "hours:-1", "days:x", "hours:12:1", "Daily", "days:400"])
def test_it_rejects_other_rotation_strings(value):
    with pytest.raises(ValueError):
        parse_rotation(value)
