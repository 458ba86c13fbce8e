"""The write path for schedules: each function is one transaction that also writes the audit row.

Callers (API, forms) validate the input; the database constraints (unique names, an override's
end after its start) catch what slips through concurrently.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from vigil.accounts import audit

from .models import Layer, LayerMember, Override, Schedule, UserCalendar, new_calendar_token

SCHEDULE_FIELDS = ["name", "description", "time_zone"]


@dataclass
class LayerSpec:
    """A layer as the API and the form describe it; `participants` are users in rotation order."""

    name: str
    start: dt.datetime
    rotation: str
    handoff_time: dt.time
    participants: list
    restrict_days: list = field(default_factory=list)
    restrict_start: dt.time | None = None
    restrict_end: dt.time | None = None

    def as_dict(self):
        return {
            "name": self.name, "start": self.start.isoformat(), "rotation": self.rotation,
            "handoff_time": self.handoff_time.strftime("%H:%M"), "participants": [u.pk for u in self.participants],
            "restrict_days": sorted(self.restrict_days),
            "restrict_start": self.restrict_start.strftime("%H:%M") if self.restrict_start else None,
            "restrict_end": self.restrict_end.strftime("%H:%M") if self.restrict_end else None,
        }


def layer_spec(layer):
    return LayerSpec(
        name=layer.name, start=layer.start, rotation=layer.rotation, handoff_time=layer.handoff_time,
        participants=layer.participant_users(), restrict_days=list(layer.restrict_days),
        restrict_start=layer.restrict_start, restrict_end=layer.restrict_end,
    )


def _snapshot(schedule, specs):
    data = audit.snapshot(schedule, SCHEDULE_FIELDS)
    data["layers"] = [spec.as_dict() for spec in specs]
    return data


def _create_layers(schedule, specs):
    """Layers in the given order, bottom first: each one overrides those before it."""
    for order, spec in enumerate(specs):
        layer = Layer.objects.create(
            schedule=schedule, name=spec.name, order=order, start=spec.start, rotation=spec.rotation,
            handoff_time=spec.handoff_time, restrict_days=sorted(set(spec.restrict_days)),
            restrict_start=spec.restrict_start, restrict_end=spec.restrict_end,
        )
        LayerMember.objects.bulk_create(
            [LayerMember(layer=layer, user=user, position=i) for i, user in enumerate(spec.participants)])


@transaction.atomic
def do_create_schedule(team, *, actor, name, time_zone, description="", layers=()):
    """Returns (schedule, raw calendar token); the raw token exists only in the caller's hands."""
    schedule = Schedule(team=team, name=name, time_zone=time_zone, description=description)
    raw = schedule.set_calendar_token()
    schedule.save()
    _create_layers(schedule, layers)
    audit.record("schedule.create", schedule, actor=actor, team=team, after=_snapshot(schedule, layers))
    return schedule, raw


@transaction.atomic
def do_update_schedule(schedule, *, actor, layers=None, **changes):
    """Change name, description or time zone; with `layers`, replace all layers at once."""
    old_layers = [layer_spec(layer) for layer in schedule.layers.prefetch_related("members__user")]
    before = _snapshot(schedule, old_layers)
    for name, value in changes.items():
        setattr(schedule, name, value)
    if changes:
        schedule.save(update_fields=list(changes))
    if layers is not None:
        schedule.layers.all().delete()
        _create_layers(schedule, layers)
    after = _snapshot(schedule, old_layers if layers is None else layers)
    audit.record("schedule.update", schedule, actor=actor, team=schedule.team, before=before, after=after)
    return schedule


@transaction.atomic
def do_delete_schedule(schedule, *, actor):
    audit.record("schedule.delete", schedule, actor=actor, team=schedule.team,
                 before=audit.snapshot(schedule, SCHEDULE_FIELDS))
    schedule.delete()


@transaction.atomic
def do_rotate_schedule_calendar(schedule, *, actor):
    """A new feed URL for the schedule; the old one stops working. Returns the raw token."""
    raw = schedule.set_calendar_token()
    schedule.save(update_fields=["calendar_token_hash", "calendar_token_hint"])
    audit.record("schedule.calendar_rotate", schedule, actor=actor, team=schedule.team,
                 after={"hint": schedule.calendar_token_hint})
    return raw


@transaction.atomic
def do_create_override(schedule, *, actor, user, start, end, covers=None):
    override = Override.objects.create(
        schedule=schedule, user=user, start=start, end=end, covers=covers,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    audit.record("override.create", override, actor=actor, team=schedule.team,
                 after=audit.snapshot(override, ["schedule", "user", "start", "end", "covers"]))
    return override


@transaction.atomic
def do_delete_override(override, *, actor):
    audit.record("override.delete", override, actor=actor, team=override.schedule.team,
                 before=audit.snapshot(override, ["schedule", "user", "start", "end", "covers"]))
    override.delete()


@transaction.atomic
def do_rotate_user_calendar(user, *, actor):
    """Create the user's personal feed, or give it a new URL. Returns (feed row, raw token)."""
    raw, token_hash, hint = new_calendar_token()
    feed, _ = UserCalendar.objects.update_or_create(
        user=user, defaults={"token_hash": token_hash, "hint": hint, "created_at": timezone.now()})
    audit.record("user_calendar.rotate", feed, actor=actor, after={"user": user.pk, "hint": hint})
    return feed, raw


@transaction.atomic
def do_delete_user_calendar(user, *, actor):
    """Idempotent: a user without a feed keeps having none."""
    feed = UserCalendar.objects.filter(user=user).first()
    if feed is not None:
        audit.record("user_calendar.delete", feed, actor=actor, before={"user": user.pk, "hint": feed.hint})
        feed.delete()
