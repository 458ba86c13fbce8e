"""Schedules, who is on call, shifts, overrides and calendar feeds under /api/v1/."""

import datetime as dt
import re
from datetime import datetime, time
from typing import Optional

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.accounts.models import Role, Team, User
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.api import check_time_zone, invalid

from . import actions
from .models import WEEKDAYS, Override, Schedule, UserCalendar, calendar_url, on_call_candidates, parse_rotation
from .shifts import oncall_users, schedule_shifts

router = Router(tags=["on-call"])

MAX_SHIFTS_RANGE = dt.timedelta(days=90)
MAX_OVERRIDE = dt.timedelta(days=366)
DEFAULT_SHIFTS_RANGE = dt.timedelta(days=7)


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class RestrictionIn(In):
    days: list[str] = Field(default_factory=list, description='weekdays, e.g. ["mon", "tue"]; empty: every day')
    start: Optional[time] = Field(None, description='local time the window opens, e.g. "09:00"')
    end: Optional[time] = Field(None, description='local time it closes; not after start: crosses midnight')


class LayerIn(In):
    name: str = Field(min_length=1, max_length=100)
    start: datetime
    rotation: str = Field("weekly", description='"daily", "weekly", "hours:N" or "days:N"')
    handoff_time: time = time(9, 0)
    participants: list[int] = Field(min_length=1, max_length=100, description="user ids in rotation order")
    restriction: Optional[RestrictionIn] = None


class ScheduleIn(In):
    name: str = Field(min_length=1, max_length=100)
    time_zone: str = Field(max_length=64)
    description: str = Field("", max_length=5000)
    team_id: Optional[int] = Field(None, description="needed when you belong to more than one team")
    layers: list[LayerIn] = Field(default_factory=list, max_length=20, description="bottom first: later layers win")


class SchedulePatch(In):
    name: str = Field(None, min_length=1, max_length=100)
    time_zone: str = Field(None, max_length=64)
    description: str = Field(None, max_length=5000)
    layers: list[LayerIn] = Field(None, max_length=20, description="replaces all layers")


class RestrictionOut(Schema):
    days: list[str]
    start: Optional[str]
    end: Optional[str]


class LayerOut(Schema):
    id: int
    name: str
    order: int
    start: datetime
    rotation: str
    handoff_time: str
    participants: list[int]
    restriction: Optional[RestrictionOut]

    @staticmethod
    def resolve_handoff_time(layer):
        return layer.handoff_time.strftime("%H:%M")

    @staticmethod
    def resolve_participants(layer):
        return [u.pk for u in layer.participant_users()]

    @staticmethod
    def resolve_restriction(layer):
        if not layer.is_restricted:
            return None
        fmt = lambda t: t.strftime("%H:%M") if t else None  # noqa: E731
        return {"days": [WEEKDAYS[d] for d in sorted(layer.restrict_days)],
                "start": fmt(layer.restrict_start), "end": fmt(layer.restrict_end)}


class ScheduleOut(Schema):
    id: int
    team_id: int
    name: str
    description: str
    time_zone: str
    layers: list[LayerOut]
    url: str
    ical_url: Optional[str] = Field(description="the feed's secret URL; only when it was just made or rotated")
    ical_hint: str = Field(description="the first characters of the feed's token")

    @staticmethod
    def resolve_layers(schedule):
        return list(schedule.layers.all())

    @staticmethod
    def resolve_url(schedule):
        from django.conf import settings

        return settings.BASE_URL + schedule.get_absolute_url()

    @staticmethod
    def resolve_ical_url(schedule):
        raw = getattr(schedule, "raw_calendar_token", None)
        return calendar_url(raw) if raw else None

    @staticmethod
    def resolve_ical_hint(schedule):
        return schedule.calendar_token_hint


class UserRef(Schema):
    id: int
    name: str
    email: str

    @staticmethod
    def resolve_name(user):
        return str(user)


class OncallOut(Schema):
    at: datetime
    users: list[UserRef]


class ShiftOut(Schema):
    user_id: int
    start: datetime
    end: datetime


class ShiftsOut(Schema):
    start: datetime
    end: datetime
    items: list[ShiftOut]


class OverrideIn(In):
    user_id: int
    start: datetime
    end: datetime
    covers_user_id: Optional[int] = Field(None, description="only replace this person where they are on call")


class OverrideOut(Schema):
    id: int
    schedule_id: int
    user_id: int
    start: datetime
    end: datetime
    covers_user_id: Optional[int] = Field(alias="covers_id")
    created_by_id: Optional[int]
    created_at: datetime


class CalendarOut(Schema):
    ical_url: Optional[str] = Field(description="the feed's secret URL; only when it was just made or rotated")
    hint: str
    created_at: datetime


def schedules_for(user):
    return for_user(Schedule.objects.prefetch_related("layers__members"), user)


def _schedule(request, schedule_id, role=Role.VIEWER):
    schedule = get_for_user(schedules_for(request.user), request.user, pk=schedule_id)
    require_role(request.user, schedule.team_id, role)
    return schedule


# --- Checking input: each problem is a 422 naming the field -------------------------------------

_LOOSE_OFFSET = re.compile(r" (\d{2}(?::?\d{2})?)$")


def parse_instant(field, value, default=None):
    """An ISO 8601 query value with an offset. A '+' sent unencoded arrives as a space: put back."""
    if value in (None, ""):
        return default
    try:
        parsed = datetime.fromisoformat(_LOOSE_OFFSET.sub(r"+\1", value.strip()))
    except ValueError:
        invalid(field, "not an ISO 8601 date and time, e.g. 2026-03-02T09:00:00+00:00")
    return aware(field, parsed)


# Far enough for any rotation; near datetime's limits, the day arithmetic would overflow.
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=dt.timezone.utc), datetime(2200, 1, 1, tzinfo=dt.timezone.utc)


def aware(field, value):
    if value.tzinfo is None or value.utcoffset() is None:
        invalid(field, "needs a UTC offset, e.g. 2026-03-02T09:00:00+00:00 or ...Z")
    try:
        value = value.astimezone(dt.timezone.utc)
    except OverflowError:
        value = None
    if value is None or not EARLIEST <= value < LATEST:
        invalid(field, "must be between 1970 and 2200")
    return value


def _clock(field, value):
    if value.second or value.microsecond or value.tzinfo is not None:
        invalid(field, 'a local time in whole minutes, e.g. "09:00"')
    return value


def layer_specs(team_id, layers):
    """Turn the layers of a body into LayerSpecs, or raise a 422 naming the field."""
    candidates = on_call_candidates(team_id).in_bulk({uid for layer in layers for uid in layer.participants})
    specs = []
    for i, layer in enumerate(layers):
        where = f"layers.{i}"
        try:
            parse_rotation(layer.rotation)
        except ValueError as e:
            invalid(f"{where}.rotation", str(e))
        participants = []
        for uid in layer.participants:
            if uid not in candidates:
                invalid(f"{where}.participants", f"user {uid} is not an admin or responder of the schedule's team")
            participants.append(candidates[uid])
        restriction = layer.restriction or RestrictionIn()
        days = []
        for name in restriction.days:
            if name.lower()[:3] not in WEEKDAYS:
                invalid(f"{where}.restriction.days", f"{name!r} is not a weekday; use mon, tue, ... sun")
            days.append(WEEKDAYS.index(name.lower()[:3]))
        if (restriction.start is None) != (restriction.end is None):
            invalid(f"{where}.restriction", "give both start and end, or neither for whole days")
        specs.append(actions.LayerSpec(
            name=layer.name, start=aware(f"{where}.start", layer.start), rotation=layer.rotation,
            handoff_time=_clock(f"{where}.handoff_time", layer.handoff_time), participants=participants,
            restrict_days=sorted(set(days)),
            restrict_start=restriction.start and _clock(f"{where}.restriction.start", restriction.start),
            restrict_end=restriction.end and _clock(f"{where}.restriction.end", restriction.end),
        ))
    return specs


def _check_name(team_id, name, schedule=None):
    taken = Schedule.objects.filter(team_id=team_id, name__iexact=name)
    if schedule is not None:
        taken = taken.exclude(pk=schedule.pk)
    if taken.exists():
        invalid("name", "the team has a schedule with this name")


def _team_for_new_schedule(user, team_id):
    if team_id is None:
        teams = Team.objects.all() if user.is_superuser else Team.objects.filter(pk__in=user.team_ids())
        if teams.count() != 1:
            invalid("team_id", "required: say which team the schedule belongs to")
        return teams.get()
    team = Team.objects.filter(pk=team_id).first()
    if team is None or not has_role(user, team.pk, Role.VIEWER):
        invalid("team_id", "no such team")
    return team


# --- Schedules -----------------------------------------------------------------------------------


@router.get("/schedules", response=list[ScheduleOut])
@paginate(LimitOffsetPagination)
def list_schedules(request, team_id: int = None):
    schedules = schedules_for(request.user).order_by("name", "id")
    return schedules.filter(team_id=team_id) if team_id else schedules


@router.post("/schedules", response={201: ScheduleOut})
def create_schedule(request, payload: ScheduleIn):
    team = _team_for_new_schedule(request.user, payload.team_id)
    require_role(request.user, team.pk, Role.ADMIN)
    check_time_zone(payload.time_zone)
    _check_name(team.pk, payload.name)
    specs = layer_specs(team.pk, payload.layers)
    schedule, raw = actions.do_create_schedule(
        team, actor=request.user, name=payload.name, time_zone=payload.time_zone,
        description=payload.description, layers=specs,
    )
    schedule = schedules_for(request.user).get(pk=schedule.pk)
    schedule.raw_calendar_token = raw
    return Status(201, schedule)


@router.get("/schedules/{schedule_id}", response=ScheduleOut)
def get_schedule(request, schedule_id: int):
    return _schedule(request, schedule_id)


@router.patch("/schedules/{schedule_id}", response=ScheduleOut)
def update_schedule(request, schedule_id: int, payload: SchedulePatch):
    schedule = _schedule(request, schedule_id, Role.ADMIN)
    data = payload.dict(exclude_unset=True)
    for name in ("name", "time_zone", "description", "layers"):
        if name in data and data[name] is None:
            invalid(name, "may not be null")
    if "time_zone" in data:
        check_time_zone(data["time_zone"])
    if "name" in data:
        _check_name(schedule.team_id, data["name"], schedule)
    if "layers" in data:
        data["layers"] = layer_specs(schedule.team_id, payload.layers)
    actions.do_update_schedule(schedule, actor=request.user, **data)
    return schedules_for(request.user).get(pk=schedule.pk)


@router.delete("/schedules/{schedule_id}", response={204: None, 409: dict})
def delete_schedule(request, schedule_id: int):
    schedule = _schedule(request, schedule_id, Role.ADMIN)
    used_by = schedule.escalation_policies_paging()
    if used_by:
        return Status(409, {"detail": f"escalation policies page this schedule: {', '.join(used_by)}; change them first"})
    actions.do_delete_schedule(schedule, actor=request.user)
    return Status(204, None)


@router.post("/schedules/{schedule_id}/calendar-token", response=ScheduleOut)
def rotate_schedule_calendar(request, schedule_id: int):
    """A new secret feed URL for the schedule (in `ical_url`); the old one stops working."""
    schedule = _schedule(request, schedule_id, Role.ADMIN)
    raw = actions.do_rotate_schedule_calendar(schedule, actor=request.user)
    schedule.raw_calendar_token = raw
    return schedule


# --- Who is on call, shifts ----------------------------------------------------------------------


@router.get("/schedules/{schedule_id}/oncall", response=OncallOut)
def who_is_on_call(request, schedule_id: int, at: str = None):
    schedule = _schedule(request, schedule_id)
    at = parse_instant("at", at, timezone.now())
    return {"at": at, "users": oncall_users(schedule, at)}


@router.get("/schedules/{schedule_id}/shifts", response=ShiftsOut)
def list_shifts(request, schedule_id: int, start: str = None, end: str = None):
    schedule = _schedule(request, schedule_id)
    start = parse_instant("start", start, timezone.now())
    end = parse_instant("end", end, start + DEFAULT_SHIFTS_RANGE)
    if end <= start:
        invalid("end", "must be after start")
    if end - start > MAX_SHIFTS_RANGE:
        invalid("end", f"at most {MAX_SHIFTS_RANGE.days} days after start")
    return {"start": start, "end": end, "items": schedule_shifts(schedule, start, end)}


# --- Overrides -----------------------------------------------------------------------------------


@router.get("/schedules/{schedule_id}/overrides", response=list[OverrideOut])
@paginate(LimitOffsetPagination)
def list_overrides(request, schedule_id: int, start: str = None, end: str = None):
    """Overrides overlapping [start, end); by default those not yet over."""
    schedule = _schedule(request, schedule_id)
    overrides = schedule.overrides.order_by("start", "id")
    overrides = overrides.filter(end__gt=parse_instant("start", start, timezone.now()))
    if end:
        overrides = overrides.filter(start__lt=parse_instant("end", end))
    return overrides


@router.post("/schedules/{schedule_id}/overrides", response={201: OverrideOut})
def create_override(request, schedule_id: int, payload: OverrideIn):
    schedule = _schedule(request, schedule_id, Role.RESPONDER)
    start, end = aware("start", payload.start), aware("end", payload.end)
    if end <= start:
        invalid("end", "must be after start")
    if end - start > MAX_OVERRIDE:
        invalid("end", f"an override lasts at most {MAX_OVERRIDE.days} days")
    user = on_call_candidates(schedule.team_id).filter(pk=payload.user_id).first()
    if user is None:
        invalid("user_id", "not an admin or responder of the schedule's team")
    covers = None
    if payload.covers_user_id is not None:
        covers = User.objects.filter(pk=payload.covers_user_id, memberships__team_id=schedule.team_id).first()
        if covers is None:
            invalid("covers_user_id", "not a member of the schedule's team")
    override = actions.do_create_override(schedule, actor=request.user, user=user, start=start, end=end, covers=covers)
    return Status(201, override)


@router.delete("/schedules/{schedule_id}/overrides/{override_id}", response={204: None})
def delete_override(request, schedule_id: int, override_id: int):
    schedule = _schedule(request, schedule_id, Role.RESPONDER)
    override = get_object_or_404(schedule.overrides.select_related("schedule__team"), pk=override_id)
    actions.do_delete_override(override, actor=request.user)
    return Status(204, None)


# --- The user's own calendar feed ----------------------------------------------------------------


@router.get("/users/me/calendar", response={200: CalendarOut, 404: dict})
def get_my_calendar(request):
    """Your personal feed (its URL is only shown when made or rotated); 404 when you have none."""
    feed = UserCalendar.objects.filter(user=request.user).first()
    if feed is None:
        return Status(404, {"detail": "no calendar feed yet: POST to make one"})
    return {"ical_url": None, "hint": feed.hint, "created_at": feed.created_at}


@router.post("/users/me/calendar", response=CalendarOut)
def rotate_my_calendar(request):
    """Make your personal feed of shifts across all your schedules, or give it a new URL."""
    feed, raw = actions.do_rotate_user_calendar(request.user, actor=request.user)
    return {"ical_url": calendar_url(raw), "hint": feed.hint, "created_at": feed.created_at}


@router.delete("/users/me/calendar", response={204: None})
def delete_my_calendar(request):
    actions.do_delete_user_calendar(request.user, actor=request.user)
    return Status(204, None)
