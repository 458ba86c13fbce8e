"""Who is on call when: shifts computed from a schedule's layers and overrides, never stored.

Everything here is a pure function of the rows (with at most one query for overrides when they
are not prefetched), so the same code answers "who is on call now" for the paging engine, draws
the schedule page, fills the calendar feeds and backs the API; the tests compare them.

Hand-offs are computed in the schedule's zone with zoneinfo. A local wall-clock time that does
not exist (it falls in a spring-forward gap) resolves like `fold=0` does: with the offset from
before the change, so 01:30 on the day London skips 01:00-02:00 is 02:30 BST; a time that occurs
twice (fall-back) is its first occurrence.
"""

import datetime as dt
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple
from zoneinfo import ZoneInfo

from vigil.accounts.models import User

from .models import parse_rotation

UTC = dt.timezone.utc
MIDNIGHT = dt.time(0, 0)
ONE_DAY = dt.timedelta(days=1)


class Shift(NamedTuple):
    """Someone on call from `start` (included) to `end` (excluded); aware UTC datetimes."""

    user_id: int
    start: dt.datetime
    end: dt.datetime


class OverrideSpan(NamedTuple):
    user_id: int
    start: dt.datetime
    end: dt.datetime
    covers_id: int | None = None


def local_instant(day, wall_time, tz):
    """The UTC instant of a wall-clock time on a local date (gaps and repeats as in the module doc)."""
    return dt.datetime.combine(day, wall_time, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Rotation:
    """A layer's rotation as plain values, so the arithmetic can be tested without a database."""

    tz: ZoneInfo
    start: dt.datetime
    unit: str  # "hours" or "days"
    length: int
    handoff: dt.time
    participants: tuple
    restrict_days: frozenset = frozenset()  # weekday numbers, Monday = 0; empty: every day
    restrict_start: dt.time | None = None
    restrict_end: dt.time | None = None

    @classmethod
    def of(cls, layer, tz):
        unit, length = parse_rotation(layer.rotation)
        return cls(
            tz=tz, start=layer.start.astimezone(UTC), unit=unit, length=length,
            handoff=layer.handoff_time,
            participants=tuple(m.user_id for m in sorted(layer.members.all(), key=lambda m: (m.position, m.pk))),
            restrict_days=frozenset(layer.restrict_days or ()),
            restrict_start=layer.restrict_start, restrict_end=layer.restrict_end,
        )

    @property
    def is_restricted(self):
        return bool(self.restrict_days) or self.restrict_start is not None

    @property
    def first_day(self):
        return self.start.astimezone(self.tz).date()

    def boundary(self, k):
        """When shift number `k` begins. Shift 0 begins at `start`; the others at hand-offs."""
        if k <= 0:
            return self.start
        if self.unit == "hours":
            return self.start + dt.timedelta(hours=k * self.length)
        return local_instant(self.first_day + dt.timedelta(days=k * self.length), self.handoff, self.tz)

    def index_at(self, at):
        """The number of the shift under way at `at` (>= start), found arithmetically: the count of
        elapsed local days (or real hours) divided by the rotation length, then corrected by at most
        a step for the hand-off time of the day."""
        if self.unit == "hours":
            return (at - self.start) // dt.timedelta(hours=self.length)
        days = (at.astimezone(self.tz).date() - self.first_day).days
        k = days // self.length
        while k > 0 and at < self.boundary(k):
            k -= 1
        while at >= self.boundary(k + 1):
            k += 1
        return k

    def rotation_shifts(self, start, end):
        """The shifts of the rotation tiling [max(start, self.start), end): no gap, no overlap."""
        lo = max(start, self.start)
        if lo >= end or not self.participants:
            return []
        n = len(self.participants)
        k = self.index_at(lo)
        shifts, begin = [], lo
        while begin < end:
            finish = self.boundary(k + 1)
            shifts.append(Shift(self.participants[k % n], begin, min(finish, end)))
            begin, k = finish, k + 1
        return shifts

    def windows(self, start, end):
        """The restriction's allowed spans within [start, end), merged where they touch."""
        if not self.is_restricted:
            return [(start, end)] if start < end else []
        tz, out = self.tz, []
        day, last = start.astimezone(tz).date() - ONE_DAY, end.astimezone(tz).date()
        while day <= last:
            if not self.restrict_days or day.weekday() in self.restrict_days:
                if self.restrict_start is None:
                    lo, hi = local_instant(day, MIDNIGHT, tz), local_instant(day + ONE_DAY, MIDNIGHT, tz)
                elif self.restrict_start < self.restrict_end:
                    lo, hi = local_instant(day, self.restrict_start, tz), local_instant(day, self.restrict_end, tz)
                else:  # crosses midnight (or is a whole day from that time): belongs to the day it starts
                    lo = local_instant(day, self.restrict_start, tz)
                    hi = local_instant(day + ONE_DAY, self.restrict_end, tz)
                lo, hi = max(lo, start), min(hi, end)
                if lo < hi:
                    if out and lo <= out[-1][1]:
                        out[-1] = (out[-1][0], max(hi, out[-1][1]))
                    else:
                        out.append((lo, hi))
            day += ONE_DAY
        return out

    def shifts(self, start, end):
        """The rotation's shifts in [start, end) with the restriction applied."""
        shifts = self.rotation_shifts(start, end)
        if not self.is_restricted or not shifts:
            return shifts
        return intersect(shifts, self.windows(shifts[0].start, shifts[-1].end))

    def user_at(self, at):
        """Who this layer has on call at `at`, or None; constant time."""
        if at < self.start or not self.participants:
            return None
        if self.is_restricted and not self.windows(at, at + dt.timedelta(microseconds=1)):
            return None
        return self.participants[self.index_at(at) % len(self.participants)]


def intersect(shifts, windows):
    """The parts of sorted, non-overlapping `shifts` inside sorted, non-overlapping `windows`."""
    out, i, j = [], 0, 0
    while i < len(shifts) and j < len(windows):
        shift, (w_start, w_end) = shifts[i], windows[j]
        lo, hi = max(shift.start, w_start), min(shift.end, w_end)
        if lo < hi:
            out.append(Shift(shift.user_id, lo, hi))
        if shift.end <= w_end:
            i += 1
        else:
            j += 1
    return out


def combine(layers, overrides, start, end):
    """The final shifts in [start, end): no overlap, adjacent spans of one person merged.

    `layers` are lists of sorted, non-overlapping shifts, highest priority first: at each instant
    the first layer with someone on call wins. `overrides` (OverrideSpan, newest first) then win
    over the layers; one that `covers` a person applies only where the layers have that person.
    """
    points = {start, end}
    for spans in layers:
        points.update(t for s in spans for t in (s.start, s.end) if start < t < end)
    for o in overrides:
        points.update(t for t in (o.start, o.end) if start < t < end)
    pointers = [0] * len(layers)
    out = []
    for a, b in pairwise(sorted(points)):
        who = None
        for li, spans in enumerate(layers):
            p = pointers[li]
            while p < len(spans) and spans[p].end <= a:
                p += 1
            pointers[li] = p
            if p < len(spans) and spans[p].start <= a:
                who = spans[p].user_id
                break
        for o in overrides:
            if o.start <= a < o.end and (o.covers_id is None or o.covers_id == who):
                who = o.user_id
                break
        if who is None:
            continue
        if out and out[-1].user_id == who and out[-1].end == a:
            out[-1] = out[-1]._replace(end=b)
        else:
            out.append(Shift(who, a, b))
    return out


# --- On the rows --------------------------------------------------------------------------------


def _layers_by_priority(schedule):
    # Higher `order` wins; between equal orders, the layer added last.
    if "layers" in getattr(schedule, "_prefetched_objects_cache", {}):
        layers = schedule.layers.all()
    else:
        layers = schedule.layers.prefetch_related("members")
    return sorted(layers, key=lambda layer: (layer.order, layer.pk), reverse=True)


def _overrides(schedule, start, end):
    """Overrides touching [start, end), newest first; from the prefetch cache when there is one."""
    cached = getattr(schedule, "_prefetched_objects_cache", {}).get("overrides")
    if cached is not None:
        rows = [o for o in cached if o.start < end and o.end > start]
    else:
        rows = list(schedule.overrides.filter(start__lt=end, end__gt=start))
    rows.sort(key=lambda o: (o.created_at, o.pk), reverse=True)
    return rows


def _check_range(start, end):
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    return start.astimezone(UTC), end.astimezone(UTC)


def layer_shifts(layer, start, end):
    """The shifts of one layer in [start, end), restriction applied (its rotation, before the
    restriction, tiles the range from the layer's start with no gap and no overlap)."""
    start, end = _check_range(start, end)
    return Rotation.of(layer, layer.schedule.tz).shifts(start, end)


def schedule_shifts(schedule, start, end):
    """The final shifts of a schedule in [start, end): layers stacked (higher wins where it has
    someone), overrides on top, adjacent spans of one person merged. Sorted, no overlap; gaps
    where nobody is on call. Prefetch `layers__members` (and `overrides`) to avoid queries."""
    start, end = _check_range(start, end)
    if start >= end:
        return []
    tz = schedule.tz
    layers = [Rotation.of(layer, tz).shifts(start, end) for layer in _layers_by_priority(schedule)]
    overrides = [OverrideSpan(o.user_id, o.start, o.end, o.covers_id) for o in _overrides(schedule, start, end)]
    return combine(layers, overrides, start, end)


def oncall_user_ids(schedule, at):
    at = _check_range(at, at)[0]
    tz, who = schedule.tz, None
    for layer in _layers_by_priority(schedule):
        who = Rotation.of(layer, tz).user_at(at)
        if who is not None:
            break
    for o in _overrides(schedule, at, at + dt.timedelta(microseconds=1)):
        if o.covers_id is None or o.covers_id == who:
            who = o.user_id
            break
    return [] if who is None else [who]


def oncall_users(schedule, at):
    """The people on call on `schedule` at the aware instant `at`: normally one, an empty list
    when nobody is. Agrees with `schedule_shifts`. Walks through no past shifts: a layer's turn
    is found arithmetically from the elapsed local days (or hours). Three small queries (layers
    with participants, overrides at `at`, users), fewer with `layers__members` prefetched."""
    ids = oncall_user_ids(schedule, at)
    users = User.objects.in_bulk(ids) if ids else {}
    return [users[i] for i in ids if i in users]
