"""Properties of the shift arithmetic for random rotations, restrictions, layers and overrides,
in zones with awkward DST rules (half-hour changes, changes at midnight, the southern hemisphere)."""

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.oncall.shifts import UTC, OverrideSpan, Rotation, combine, local_instant

ZONES = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata", "UTC"]
EPOCH = dt.datetime(2025, 1, 1, tzinfo=UTC)

instants = st.integers(min_value=0, max_value=3 * 365 * 24 * 60).map(lambda m: EPOCH + dt.timedelta(minutes=m))
clock_times = st.builds(dt.time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@st.composite
def rotations(draw):
    unit = draw(st.sampled_from(["hours", "days"]))
    restricted = draw(st.booleans())
    window = draw(st.one_of(st.none(), st.tuples(clock_times, clock_times))) if restricted else None
    return Rotation(
        tz=ZoneInfo(draw(st.sampled_from(ZONES))), start=draw(instants), unit=unit,
        length=draw(st.integers(1, 72) if unit == "hours" else st.integers(1, 14)),
        handoff=draw(clock_times), participants=tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=5))),
        restrict_days=frozenset(draw(st.sets(st.integers(0, 6)))) if restricted else frozenset(),
        restrict_start=window[0] if window else None, restrict_end=window[1] if window else None,
    )


@st.composite
def ranges(draw, around):
    start = around + dt.timedelta(minutes=draw(st.integers(-30 * 24 * 60, 60 * 24 * 60)))
    return start, start + dt.timedelta(minutes=draw(st.integers(1, 45 * 24 * 60)))


def sample_instants(start, end, n=40):
    step = (end - start) / n
    return [start + step * i for i in range(n)] + [end - dt.timedelta(microseconds=1)]


def covering(shifts, at):
    return next((s.user_id for s in shifts if s.start <= at < s.end), None)


def assert_sorted_without_overlap(shifts):
    for s in shifts:
        assert s.start < s.end
    for a, b in zip(shifts, shifts[1:]):
        assert a.end <= b.start


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.data())
def test_a_rotation_tiles_the_range_with_no_gap_and_no_overlap(data):
    rot = data.draw(rotations())
    start, end = data.draw(ranges(rot.start))
    shifts = rot.rotation_shifts(start, end)
    lo = max(start, rot.start)
    if lo >= end:
        assert shifts == []
        return
    assert shifts[0].start == lo and shifts[-1].end == end
    for a, b in zip(shifts, shifts[1:]):
        assert a.end == b.start
        assert a.user_id == rot.participants[rot.index_at(a.start) % len(rot.participants)]
    assert all(s.start < s.end for s in shifts)


@SETTINGS
@given(st.data())
def test_day_handoffs_happen_at_the_local_handoff_time_whenever_it_exists(data):
    rot = data.draw(rotations().filter(lambda r: r.unit == "days"))
    start, end = data.draw(ranges(rot.start))
    for shift in rot.rotation_shifts(start, end)[1:]:
        wall = shift.start.astimezone(rot.tz)
        if local_instant(wall.date(), rot.handoff, rot.tz).astimezone(rot.tz).time() != rot.handoff:
            continue  # the hand-off time falls in a spring-forward gap that day: see test_rotations
        assert wall.time() == rot.handoff
        assert (wall.date() - rot.first_day).days % rot.length == 0


@SETTINGS
@given(st.data())
def test_hour_handoffs_are_whole_rotations_of_elapsed_time_from_the_start(data):
    rot = data.draw(rotations().filter(lambda r: r.unit == "hours"))
    start, end = data.draw(ranges(rot.start))
    for shift in rot.rotation_shifts(start, end)[1:]:
        assert (shift.start - rot.start) % dt.timedelta(hours=rot.length) == dt.timedelta(0)


@SETTINGS
@given(st.data())
def test_a_restricted_layer_keeps_only_parts_of_its_rotation_and_agrees_with_user_at(data):
    rot = data.draw(rotations())
    start, end = data.draw(ranges(rot.start))
    tiled, shifts = rot.rotation_shifts(start, end), rot.shifts(start, end)
    assert_sorted_without_overlap(shifts)
    for s in shifts:
        assert covering(tiled, s.start) == s.user_id
        assert covering(tiled, s.end - dt.timedelta(microseconds=1)) == s.user_id
    for at in sample_instants(start, end):
        assert rot.user_at(at) == covering(shifts, at)


@st.composite
def overrides(draw, around):
    start = around + dt.timedelta(minutes=draw(st.integers(-10 * 24 * 60, 40 * 24 * 60)))
    end = start + dt.timedelta(minutes=draw(st.integers(1, 5 * 24 * 60)))
    return OverrideSpan(draw(st.integers(1, 8)), start, end, draw(st.one_of(st.none(), st.integers(1, 6))))


@SETTINGS
@given(st.data())
def test_the_final_schedule_has_no_overlap_and_the_highest_layer_or_newest_override_wins(data):
    layers = data.draw(st.lists(rotations(), min_size=1, max_size=4))
    start, end = data.draw(ranges(layers[0].start))
    spans = [rot.shifts(start, end) for rot in layers]  # highest priority first
    extra = data.draw(st.lists(overrides(start), max_size=5))  # newest first
    final = combine(spans, extra, start, end)
    assert_sorted_without_overlap(final)
    for a, b in zip(final, final[1:]):
        assert not (a.end == b.start and a.user_id == b.user_id), "adjacent spans of one person are merged"
    for at in sample_instants(start, end) + [o.start for o in extra if start <= o.start < end]:
        who = next((u for u in (covering(s, at) for s in spans) if u is not None), None)
        for o in extra:
            if o.start <= at < o.end and o.covers_id in (None, who):
                who = o.user_id
                break
        assert covering(final, at) == who
