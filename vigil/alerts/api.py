import re
from datetime import datetime
from typing import Any, Literal, Optional

from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, require_role
from vigil.api import invalid
from vigil.catalog.models import Service

from . import actions
from .models import MAX_BODY_KB, Alert, Integration, MaintenanceWindow, Silence

router = Router(tags=["alerts"])


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class IntegrationOut(Schema):
    id: int
    service_id: int
    kind: Integration.Kind
    name: str
    enabled: bool
    grouping: Integration.Grouping
    group_window_seconds: int
    rate_limit_per_minute: int
    max_body_kb: int
    key_hint: str
    created_at: datetime
    last_received_at: Optional[datetime]


class IntegrationCreated(IntegrationOut):
    key: str
    url: str


class IntegrationIn(In):
    kind: Integration.Kind
    name: str = Field("", max_length=100)
    grouping: Integration.Grouping = Integration.Grouping.ALERT_GROUP
    group_window_seconds: int = Field(3600, ge=0, le=7 * 24 * 3600)
    rate_limit_per_minute: int = Field(6000, ge=0)
    max_body_kb: int = Field(512, ge=1, le=MAX_BODY_KB)


class IntegrationPatch(In):
    name: str = Field(None, min_length=1, max_length=100)
    enabled: bool = None
    grouping: Integration.Grouping = None
    group_window_seconds: int = Field(None, ge=0, le=7 * 24 * 3600)
    rate_limit_per_minute: int = Field(None, ge=0)
    max_body_kb: int = Field(None, ge=1, le=MAX_BODY_KB)


class AlertOut(Schema):
    id: int
    service_id: int
    incident_id: Optional[int]
    integration_id: Optional[int]
    dedup_key: str
    status: Alert.Status
    summary: str
    severity: str
    source: str
    labels: dict[str, str]
    annotations: dict[str, str]
    links: list[dict[str, Any]]
    count: int
    first_seen: datetime
    last_seen: datetime
    started_at: datetime
    ended_at: Optional[datetime]
    resolved_at: Optional[datetime]
    suppressed_by: str


class AlertFilters(Schema):
    incident_id: Optional[int] = None
    service_id: Optional[int] = None
    status: Optional[Alert.Status] = None


class Matcher(In):
    name: str = Field(min_length=1, max_length=100)
    op: Literal["=", "!=", "=~", "!~"] = "="
    value: str = Field(max_length=1000)


class SilenceIn(In):
    service_id: int
    matchers: list[Matcher] = Field(min_length=1)
    starts_at: Optional[datetime] = None
    ends_at: datetime
    comment: str = Field(min_length=1, max_length=2000)


class SilenceOut(Schema):
    id: int
    service_id: int
    matchers: list[dict[str, str]]
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_by_id: Optional[int]


class WindowIn(In):
    starts_at: datetime
    ends_at: datetime
    reason: str = Field("", max_length=2000)


class WindowOut(Schema):
    id: int
    service_id: int
    starts_at: datetime
    ends_at: datetime
    reason: str


def _service(request, service_id, role=Role.VIEWER):
    service = get_for_user(Service.objects.all(), request.user, pk=service_id)
    require_role(request.user, service.team_id, role)
    return service


def _integration(request, integration_id):
    integration = get_for_user(Integration.objects.select_related("service"), request.user, "service__team",
                               pk=integration_id)
    require_role(request.user, integration.service.team_id, Role.ADMIN)
    return integration


@router.get("/services/{service_id}/integrations", response=list[IntegrationOut])
@paginate(LimitOffsetPagination)
def list_integrations(request, service_id: int):
    return _service(request, service_id).integrations.all()


@router.post("/services/{service_id}/integrations", response={201: IntegrationCreated})
def create_integration(request, service_id: int, payload: IntegrationIn):
    service = _service(request, service_id, Role.ADMIN)
    integration, key = actions.do_create_integration(service, actor=request.user, **payload.dict())
    integration.key, integration.url = key, integration.url(key)
    return Status(201, integration)


@router.patch("/integrations/{integration_id}", response=IntegrationOut)
def update_integration(request, integration_id: int, payload: IntegrationPatch):
    changes = payload.dict(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            invalid(name, "may not be null")
    return actions.do_update_integration(_integration(request, integration_id), actor=request.user, **changes)


@router.post("/integrations/{integration_id}/rotate-key", response=IntegrationCreated)
def rotate_integration_key(request, integration_id: int):
    integration, key = actions.do_rotate_integration_key(_integration(request, integration_id), actor=request.user)
    integration.key, integration.url = key, integration.url(key)
    return integration


@router.delete("/integrations/{integration_id}", response={204: None})
def delete_integration(request, integration_id: int):
    actions.do_delete_integration(_integration(request, integration_id), actor=request.user)
    return Status(204, None)


@router.get("/alerts", response=list[AlertOut])
@paginate(LimitOffsetPagination)
def list_alerts(request, filters: Query[AlertFilters]):
    alerts = for_user(Alert.objects.all(), request.user, "service__team")
    for name, value in filters.dict(exclude_none=True).items():
        alerts = alerts.filter(**{name: value})
    return alerts


@router.get("/silences", response=list[SilenceOut])
@paginate(LimitOffsetPagination)
def list_silences(request, service_id: int = None, active: bool = None):
    silences = for_user(Silence.objects.all(), request.user, "service__team")
    if service_id:
        silences = silences.filter(service_id=service_id)
    if active is not None:
        now = timezone.now()
        live = silences.filter(starts_at__lte=now, ends_at__gt=now)
        silences = live if active else silences.exclude(pk__in=live)
    return silences


@router.post("/silences", response={201: SilenceOut})
def create_silence(request, payload: SilenceIn):
    service = for_user(Service.objects.all(), request.user).filter(pk=payload.service_id).first()
    if service is None:
        invalid("service_id", "no such service")
    require_role(request.user, service.team_id, Role.RESPONDER)
    for i, m in enumerate(payload.matchers):
        if m.op in ("=~", "!~"):
            try:
                re.compile(m.value)
            except re.error as e:
                invalid(f"matchers.{i}.value", f"not a regular expression: {e}")
    if payload.ends_at <= (payload.starts_at or timezone.now()):
        invalid("ends_at", "must be after starts_at (and in the future)")
    silence = actions.do_create_silence(
        service, actor=request.user, matchers=[m.dict() for m in payload.matchers],
        starts_at=payload.starts_at, ends_at=payload.ends_at, comment=payload.comment)
    return Status(201, silence)


@router.post("/silences/{silence_id}/expire", response=SilenceOut)
def expire_silence(request, silence_id: int):
    silence = get_for_user(Silence.objects.select_related("service"), request.user, "service__team", pk=silence_id)
    require_role(request.user, silence.service.team_id, Role.RESPONDER)
    return actions.do_expire_silence(silence, actor=request.user)


@router.get("/services/{service_id}/maintenance-windows", response=list[WindowOut])
@paginate(LimitOffsetPagination)
def list_maintenance_windows(request, service_id: int):
    return _service(request, service_id).maintenance_windows.all()


@router.post("/services/{service_id}/maintenance-windows", response={201: WindowOut})
def create_maintenance_window(request, service_id: int, payload: WindowIn):
    service = _service(request, service_id, Role.RESPONDER)
    if payload.ends_at <= payload.starts_at:
        invalid("ends_at", "must be after starts_at")
    window = actions.do_create_maintenance_window(service, actor=request.user, **payload.dict())
    return Status(201, window)


@router.delete("/maintenance-windows/{window_id}", response={204: None})
def delete_maintenance_window(request, window_id: int):
    window = get_object_or_404(for_user(MaintenanceWindow.objects.select_related("service"), request.user,
                                        "service__team"), pk=window_id)
    require_role(request.user, window.service.team_id, Role.RESPONDER)
    actions.do_delete_maintenance_window(window, actor=request.user)
    return Status(204, None)
