"""Layers stacked, overrides on top, and oncall_users agreeing with schedule_shifts on real rows."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.oncall.models import Override, Schedule
from vigil.oncall.shifts import layer_shifts, oncall_users, schedule_shifts

from .helpers import local, make_schedule, utc

MON_FRI = [0, 1, 2, 3, 4]


@pytest.fixture
def layered(personas):
    """Weekly admin/responder underneath; the site admin on business hours on top."""
    return make_schedule(
        personas.team,
        {"start": utc(2026, 3, 2, 9), "participants": [personas.admin, personas.responder]},
        {"start": utc(2026, 3, 2, 9), "rotation": "daily", "participants": [personas.site_admin],
         "restrict_days": MON_FRI, "restrict_start": dt.time(9), "restrict_end": dt.time(17)},
    )


def who(schedule, at):
    return [u.email for u in oncall_users(schedule, at)]


def test_a_higher_layer_wins_where_it_has_someone(layered):
    assert who(layered, local("Europe/London", 2026, 3, 3, 12)) == ["root@vigil.test"]
    assert who(layered, local("Europe/London", 2026, 3, 3, 17)) == ["admin@ops.test"]
    assert who(layered, local("Europe/London", 2026, 3, 7, 12)) == ["admin@ops.test"]  # Saturday


def test_the_final_shifts_interleave_the_layers_and_merge_adjacent_spans(personas, layered):
    shifts = schedule_shifts(layered, utc(2026, 3, 2, 0), utc(2026, 3, 4, 0))
    assert [(s.user_id, s.start, s.end) for s in shifts] == [
        (personas.site_admin.pk, utc(2026, 3, 2, 9), utc(2026, 3, 2, 17)),
        (personas.admin.pk, utc(2026, 3, 2, 17), utc(2026, 3, 3, 9)),
        (personas.site_admin.pk, utc(2026, 3, 3, 9), utc(2026, 3, 3, 17)),
        (personas.admin.pk, utc(2026, 3, 3, 17), utc(2026, 3, 4, 0)),
    ]


def test_an_override_wins_over_every_layer(personas, layered):
    Override.objects.create(schedule=layered, user=personas.responder, start=utc(2026, 3, 3, 12), end=utc(2026, 3, 3, 20))
    assert who(layered, utc(2026, 3, 3, 12)) == ["responder@ops.test"]
    assert who(layered, utc(2026, 3, 3, 19, 59)) == ["responder@ops.test"]
    assert who(layered, utc(2026, 3, 3, 20)) == ["admin@ops.test"]


def test_the_newest_override_wins_where_overrides_overlap(personas, layered):
    Override.objects.create(schedule=layered, user=personas.responder, start=utc(2026, 3, 3), end=utc(2026, 3, 5))
    Override.objects.create(schedule=layered, user=personas.viewer, start=utc(2026, 3, 4), end=utc(2026, 3, 4, 6))
    assert who(layered, utc(2026, 3, 4, 3)) == ["viewer@ops.test"]
    assert who(layered, utc(2026, 3, 4, 7)) == ["responder@ops.test"]


def test_an_override_covering_someone_applies_only_where_they_are_on_call(personas, layered):
    Override.objects.create(schedule=layered, user=personas.responder, covers=personas.admin,
                            start=utc(2026, 3, 3), end=utc(2026, 3, 4))
    assert who(layered, utc(2026, 3, 3, 8)) == ["responder@ops.test"]
    assert who(layered, utc(2026, 3, 3, 12)) == ["root@vigil.test"]  # the business-hours layer has someone else


def test_nobody_is_on_call_on_an_empty_schedule_or_before_it_starts(personas, layered):
    empty = make_schedule(personas.team, name="Empty")
    assert oncall_users(empty, utc(2026, 3, 3)) == []
    assert schedule_shifts(empty, utc(2026, 3, 1), utc(2026, 3, 9)) == []
    assert oncall_users(layered, utc(2026, 3, 1)) == []


def test_it_refuses_naive_datetimes(layered):
    with pytest.raises(ValueError):
        oncall_users(layered, dt.datetime(2026, 3, 3, 12))


def test_layer_shifts_apply_the_restriction(personas, layered):
    top = layered.layers.get(order=1)
    shifts = layer_shifts(top, utc(2026, 3, 6), utc(2026, 3, 10))
    assert [(s.start, s.end) for s in shifts] == [(utc(2026, 3, 6, 9), utc(2026, 3, 6, 17)), (utc(2026, 3, 9, 9), utc(2026, 3, 9, 17))]


def test_oncall_users_agrees_with_schedule_shifts_hour_by_hour_across_dst(personas, layered):
    Override.objects.create(schedule=layered, user=personas.viewer, start=utc(2026, 3, 28, 23), end=utc(2026, 3, 29, 3))
    Override.objects.create(schedule=layered, user=personas.responder, covers=personas.site_admin,
                            start=utc(2026, 3, 30, 10), end=utc(2026, 3, 31, 10))
    start, end = utc(2026, 3, 25), utc(2026, 4, 3)
    shifts = schedule_shifts(layered, start, end)
    at = start
    while at < end:
        expected = [s.user_id for s in shifts if s.start <= at < s.end]
        assert [u.pk for u in oncall_users(layered, at)] == expected, at
        at += dt.timedelta(minutes=61)


def test_who_is_on_call_takes_a_few_queries_however_old_the_schedule(personas, django_assert_max_num_queries):
    schedule = make_schedule(personas.team, {"start": utc(2016, 1, 4, 9), "rotation": "hours:1",
                                             "participants": [personas.admin, personas.responder]})
    schedule = Schedule.objects.get(pk=schedule.pk)
    with django_assert_max_num_queries(4):
        users = oncall_users(schedule, utc(2026, 3, 3, 12, 30))
    hours = int((utc(2026, 3, 3, 12) - utc(2016, 1, 4, 9)).total_seconds() // 3600)
    assert users == [[personas.admin, personas.responder][hours % 2]]


rotations = st.sampled_from(["daily", "weekly", "hours:1", "hours:8", "days:3"])
zones = st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney"])
minutes = st.integers(0, 60 * 24 * 60)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_schedules_on_real_rows_agree_with_oncall_users(personas, data):
    people = [personas.admin, personas.responder, personas.site_admin]
    base = utc(2026, 1, 1)
    layers = []
    for i in range(data.draw(st.integers(1, 3))):
        restricted = data.draw(st.booleans())
        layers.append({
            "start": base + dt.timedelta(minutes=data.draw(minutes)), "rotation": data.draw(rotations),
            "handoff_time": dt.time(data.draw(st.integers(0, 23)), data.draw(st.sampled_from([0, 30]))),
            "participants": data.draw(st.lists(st.sampled_from(people), min_size=1, max_size=4)),
            "restrict_days": data.draw(st.lists(st.integers(0, 6), unique=True)) if restricted else [],
            "restrict_start": dt.time(data.draw(st.integers(0, 23))) if restricted else None,
            "restrict_end": dt.time(data.draw(st.integers(0, 23))) if restricted else None,
        })
    schedule = make_schedule(personas.team, *layers, zone=data.draw(zones), name=f"S{Schedule.objects.count()}")
    for _ in range(data.draw(st.integers(0, 3))):
        start = base + dt.timedelta(minutes=data.draw(minutes))
        Override.objects.create(schedule=schedule, user=data.draw(st.sampled_from(people)), start=start,
                                end=start + dt.timedelta(minutes=data.draw(st.integers(1, 3 * 24 * 60))),
                                covers=data.draw(st.one_of(st.none(), st.sampled_from(people))))
    schedule = Schedule.objects.prefetch_related("layers__members", "overrides").get(pk=schedule.pk)
    start = base + dt.timedelta(minutes=data.draw(minutes))
    end = start + dt.timedelta(days=data.draw(st.integers(1, 20)))
    shifts = schedule_shifts(schedule, start, end)
    for a, b in zip(shifts, shifts[1:]):
        assert a.end <= b.start
    for layer in schedule.layers.all():
        if not layer.is_restricted:
            tiled = layer_shifts(layer, start, end)
            lo = max(start, layer.start)
            assert not tiled or (tiled[0].start == lo and tiled[-1].end == end)
            assert all(a.end == b.start for a, b in zip(tiled, tiled[1:]))
    step = (end - start) / 30
    for i in range(30):
        at = start + step * i
        assert [u.pk for u in oncall_users(schedule, at)] == [s.user_id for s in shifts if s.start <= at < s.end]
