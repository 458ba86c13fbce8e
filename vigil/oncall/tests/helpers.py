"""Small builders shared by the schedule tests."""

import datetime as dt
from zoneinfo import ZoneInfo

from vigil.oncall.actions import LayerSpec, do_create_schedule
from vigil.oncall.shifts import Rotation

UTC = dt.timezone.utc


def utc(*args):
    return dt.datetime(*args, tzinfo=UTC)


def local(zone, *args):
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


def rotation(zone="Europe/London", start=None, every="days", length=1, handoff=dt.time(9), people=(1, 2, 3), **restriction):
    tz = ZoneInfo(zone)
    start = start or dt.datetime(2026, 3, 2, 9, tzinfo=tz)
    return Rotation(tz=tz, start=start.astimezone(UTC), unit=every, length=length, handoff=handoff,
                    participants=tuple(people), **restriction)


def make_schedule(team, *layers, name="Primary on-call", zone="Europe/London", actor=None):
    """A saved schedule; each layer is a dict of LayerSpec fields (bottom layer first)."""
    specs = [LayerSpec(**{"name": f"Layer {i}", "handoff_time": dt.time(9), "rotation": "weekly", **layer})
             for i, layer in enumerate(layers)]
    schedule, raw = do_create_schedule(team, actor=actor, name=name, time_zone=zone, layers=specs)
    schedule.raw_token = raw
    return schedule
