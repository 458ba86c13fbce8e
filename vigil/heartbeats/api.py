from datetime import datetime, timedelta
from typing import Optional
from uuid import UUID

from django.conf import settings
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, require_role
from vigil.api import invalid
from vigil.catalog.models import Service

from . import actions
from .models import Heartbeat, Ping, cron_error, valid_time_zone

router = Router(tags=["heartbeats"])

MIN_SECONDS, MAX_SECONDS = 60, 365 * 24 * 3600  # healthchecks.io's bounds on period and grace
Seconds = Field(None, ge=MIN_SECONDS, le=MAX_SECONDS)
SEVERITY = Field(None, pattern=r"^sev[1-4]$")


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class HeartbeatIn(In):
    service_id: int
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=5000)
    period_seconds: Optional[int] = Seconds
    grace_seconds: int = Field(3600, ge=MIN_SECONDS, le=MAX_SECONDS)
    cron: Optional[str] = Field(None, max_length=100)
    time_zone: str = Field("UTC", max_length=64)
    severity: str = Field("sev2", pattern=r"^sev[1-4]$")


class HeartbeatPatch(In):
    name: str = Field(None, min_length=1, max_length=100)
    description: str = Field(None, max_length=5000)
    period_seconds: int = Seconds
    grace_seconds: int = Seconds
    cron: str = Field(None, max_length=100)
    time_zone: str = Field(None, max_length=64)
    severity: str = SEVERITY


class HeartbeatOut(Schema):
    id: int
    uuid: UUID
    ping_url: str
    url: str
    service_id: int
    name: str
    description: str
    kind: Heartbeat.Kind
    period_seconds: Optional[int]
    grace_seconds: int
    cron: Optional[str]
    time_zone: str
    severity: str
    status: Heartbeat.Status
    late: bool
    running: bool
    down_reason: str
    last_ping_at: Optional[datetime]
    expected_at: Optional[datetime]
    alert_at: Optional[datetime]
    last_duration_seconds: Optional[float]
    last_exit_status: Optional[int]
    n_pings: int
    created_at: datetime

    @staticmethod
    def resolve_url(obj):
        return settings.BASE_URL + obj.get_absolute_url()

    @staticmethod
    def resolve_period_seconds(obj):
        return int(obj.period.total_seconds()) if obj.kind == Heartbeat.Kind.SIMPLE else None

    @staticmethod
    def resolve_grace_seconds(obj):
        return int(obj.grace.total_seconds())

    @staticmethod
    def resolve_cron(obj):
        return obj.cron if obj.kind == Heartbeat.Kind.CRON else None

    @staticmethod
    def resolve_late(obj):
        return obj.is_late()

    @staticmethod
    def resolve_running(obj):
        return obj.is_running

    @staticmethod
    def resolve_alert_at(obj):
        return obj.deadline()

    @staticmethod
    def resolve_last_duration_seconds(obj):
        return obj.last_duration.total_seconds() if obj.last_duration is not None else None


class PingOut(Schema):
    n: int
    created_at: datetime
    kind: Ping.Kind
    exit_status: Optional[int]
    rid: Optional[UUID]
    method: str
    remote_addr: str
    user_agent: str
    body: str
    body_size: int
    duration_seconds: Optional[float]

    @staticmethod
    def resolve_duration_seconds(obj):
        return obj.duration.total_seconds() if obj.duration is not None else None


class HeartbeatFilters(Schema):
    service_id: Optional[int] = None
    status: Optional[Heartbeat.Status] = None


def schedule_fields(period_seconds=None, grace_seconds=None, cron=None, time_zone=None, current=None):
    """The model fields for a schedule given in API terms; raises a 422 naming the bad field."""
    if period_seconds is not None and cron:
        invalid("cron", "give either period_seconds or cron, not both")
    fields = {}
    if cron:
        zone = time_zone or (current.time_zone if current else "UTC")
        if why := cron_error(cron, zone):
            invalid("time_zone" if why.startswith("unknown time zone") else "cron", why)
        fields.update(kind=Heartbeat.Kind.CRON, cron=cron)
    elif period_seconds is not None:
        fields.update(kind=Heartbeat.Kind.SIMPLE, cron="", period=timedelta(seconds=period_seconds))
    elif current is None:
        invalid("period_seconds", "give period_seconds (how often the job runs) or a cron expression")
    if time_zone is not None:
        if not valid_time_zone(time_zone):
            invalid("time_zone", f"unknown time zone {time_zone!r}")
        if current is not None and current.kind == Heartbeat.Kind.CRON and not cron:
            # A new zone for the schedule it has: check the pair still makes sense.
            if why := cron_error(current.cron, time_zone):
                invalid("time_zone", why)
        fields["time_zone"] = time_zone
    if grace_seconds is not None:
        fields["grace"] = timedelta(seconds=grace_seconds)
    return fields


def _heartbeat(request, heartbeat_id, role=Role.VIEWER):
    heartbeat = get_for_user(Heartbeat.objects.select_related("service__team"), request.user, "service__team",
                             pk=heartbeat_id)
    require_role(request.user, heartbeat.service.team_id, role)
    return heartbeat


@router.get("/heartbeats", response=list[HeartbeatOut])
@paginate(LimitOffsetPagination)
def list_heartbeats(request, filters: Query[HeartbeatFilters]):
    found = for_user(Heartbeat.objects.select_related("service"), request.user, "service__team")
    if filters.service_id is not None:
        found = found.filter(service_id=filters.service_id)
    if filters.status is not None:
        found = found.filter(status=filters.status)
    return found


@router.post("/heartbeats", response={201: HeartbeatOut})
def create_heartbeat(request, payload: HeartbeatIn):
    service = for_user(Service.objects.all(), request.user).filter(pk=payload.service_id).first()
    if service is None:
        invalid("service_id", "no such service")
    require_role(request.user, service.team_id, Role.RESPONDER)
    fields = schedule_fields(payload.period_seconds, payload.grace_seconds, payload.cron, payload.time_zone)
    heartbeat = actions.do_create_heartbeat(
        service, actor=request.user, name=payload.name, description=payload.description,
        severity=payload.severity, **fields)
    return Status(201, heartbeat)


@router.get("/heartbeats/{heartbeat_id}", response=HeartbeatOut)
def get_heartbeat(request, heartbeat_id: int):
    return _heartbeat(request, heartbeat_id)


@router.patch("/heartbeats/{heartbeat_id}", response=HeartbeatOut)
def update_heartbeat(request, heartbeat_id: int, payload: HeartbeatPatch):
    heartbeat = _heartbeat(request, heartbeat_id, Role.RESPONDER)
    given = payload.dict(exclude_unset=True)
    for name, value in given.items():
        if value is None:
            invalid(name, "may not be null")
    changes = schedule_fields(given.get("period_seconds"), given.get("grace_seconds"), given.get("cron"),
                              given.get("time_zone"), current=heartbeat)
    changes.update({k: given[k] for k in ("name", "description", "severity") if k in given})
    return actions.do_update_heartbeat(heartbeat, actor=request.user, **changes) if changes else heartbeat


@router.delete("/heartbeats/{heartbeat_id}", response={204: None})
def delete_heartbeat(request, heartbeat_id: int):
    actions.do_delete_heartbeat(_heartbeat(request, heartbeat_id, Role.RESPONDER), actor=request.user)
    return Status(204, None)


@router.post("/heartbeats/{heartbeat_id}/pause", response=HeartbeatOut)
def pause_heartbeat(request, heartbeat_id: int):
    return actions.do_pause_heartbeat(_heartbeat(request, heartbeat_id, Role.RESPONDER), actor=request.user)


@router.post("/heartbeats/{heartbeat_id}/resume", response=HeartbeatOut)
def resume_heartbeat(request, heartbeat_id: int):
    return actions.do_resume_heartbeat(_heartbeat(request, heartbeat_id, Role.RESPONDER), actor=request.user)


@router.get("/heartbeats/{heartbeat_id}/pings", response=list[PingOut])
@paginate(LimitOffsetPagination)
def list_pings(request, heartbeat_id: int):
    return _heartbeat(request, heartbeat_id).pings.all()
