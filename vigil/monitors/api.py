from datetime import datetime
from typing import Literal, Optional

from django.conf import settings
from ninja import Query, Router, Schema, Status
from ninja.errors import ValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, require_role
from vigil.api import invalid
from vigil.catalog.models import Service

from . import actions, stats
from .models import CheckResult, Monitor

router = Router(tags=["monitors"])

Kind = Literal["http", "tcp", "dns", "ping"]
Severity = Literal["sev1", "sev2", "sev3", "sev4"]
KeywordMode = Literal["present", "absent"]
RecordType = Literal["A", "AAAA", "CNAME", "MX", "NS", "TXT"]


class MonitorIn(Schema):
    model_config = ConfigDict(extra="forbid")

    service_id: int
    name: str = Field(min_length=1, max_length=100)
    kind: Kind
    target: str = Field(min_length=1, max_length=2048)
    interval_seconds: int = 60
    timeout_seconds: int = 10
    retries: int = 1
    retry_interval_seconds: int = 20
    recovery_checks: int = 1
    severity: Severity = "sev2"
    paused: bool = False
    method: str = "GET"
    headers: dict[str, str] = {}
    body: str = Field("", max_length=10_000)
    expected_status: str = Field("200-299", max_length=100)
    keyword: str = Field("", max_length=500)
    keyword_mode: KeywordMode = "present"
    max_latency_ms: Optional[int] = None
    follow_redirects: bool = True
    verify_tls: bool = True
    tls_expiry_days: int = 14
    record_type: RecordType = "A"
    expected_answer: str = Field("", max_length=500)
    nameserver: str = Field("", max_length=100)


class MonitorPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(None, min_length=1, max_length=100)
    kind: Kind = None
    target: str = Field(None, min_length=1, max_length=2048)
    interval_seconds: int = None
    timeout_seconds: int = None
    retries: int = None
    retry_interval_seconds: int = None
    recovery_checks: int = None
    severity: Severity = None
    method: str = None
    headers: dict[str, str] = None
    body: str = Field(None, max_length=10_000)
    expected_status: str = Field(None, max_length=100)
    keyword: str = Field(None, max_length=500)
    keyword_mode: KeywordMode = None
    max_latency_ms: Optional[int] = None
    follow_redirects: bool = None
    verify_tls: bool = None
    tls_expiry_days: int = None
    record_type: RecordType = None
    expected_answer: str = Field(None, max_length=500)
    nameserver: str = Field(None, max_length=100)


class MonitorOut(Schema):
    id: int
    service_id: int
    name: str
    kind: str
    target: str
    interval_seconds: int
    timeout_seconds: int
    retries: int
    retry_interval_seconds: int
    recovery_checks: int
    severity: str
    paused: bool
    method: str
    headers: dict[str, str]
    body: str
    expected_status: str
    keyword: str
    keyword_mode: str
    max_latency_ms: Optional[int]
    follow_redirects: bool
    verify_tls: bool
    tls_expiry_days: int
    record_type: str
    expected_answer: str
    nameserver: str
    status: str
    state: str
    failures_in_row: int
    last_checked_at: Optional[datetime]
    last_latency_ms: Optional[float]
    last_error: str
    status_changed_at: Optional[datetime]
    next_due_at: Optional[datetime]
    tls_expires_at: Optional[datetime]
    tls_warning: bool
    dedup_key: str
    latency_series: str
    created_at: datetime
    url: str

    @staticmethod
    def resolve_url(obj):
        return f"{settings.BASE_URL}{obj.get_absolute_url()}"


class MonitorFilters(Schema):
    service_id: Optional[int] = None
    kind: Optional[Kind] = None
    status: Optional[Literal["unknown", "up", "down"]] = None
    paused: Optional[bool] = None


class ResultOut(Schema):
    id: int
    at: datetime
    ok: bool
    latency_ms: Optional[float]
    status_code: Optional[int]
    error: str
    lag_ms: int


class ResultFilters(Schema):
    start: Optional[datetime] = None
    end: Optional[datetime] = None
    ok: Optional[bool] = None


class BucketOut(Schema):
    start: datetime
    end: datetime
    checks: int
    failures: int
    uptime_percent: Optional[float]
    latency_avg_ms: Optional[float]
    latency_max_ms: Optional[float]


class StatsOut(Schema):
    span: str
    start: datetime
    end: datetime
    checks: int
    failures: int
    uptime_percent: Optional[float]
    latency_avg_ms: Optional[float]
    latency_p95_ms: Optional[float]
    buckets: list[BucketOut]


def _monitor(request, monitor_id, role=Role.VIEWER):
    monitor = get_for_user(Monitor.objects.select_related("service__team", "integration"), request.user,
                           "service__team", pk=monitor_id)
    require_role(request.user, monitor.service.team_id, role)
    return monitor


def _refuse(errors):
    if errors:
        raise ValidationError([{"loc": ["body", "payload", field], "msg": message, "type": "value_error"}
                               for field, message in errors.items()])


@router.get("/monitors", response=list[MonitorOut])
@paginate(LimitOffsetPagination)
def list_monitors(request, filters: Query[MonitorFilters]):
    monitors = for_user(Monitor.objects.all(), request.user, "service__team")
    for name, value in filters.dict(exclude_none=True).items():
        monitors = monitors.filter(**{name: value})
    return monitors


@router.post("/monitors", response={201: MonitorOut})
def create_monitor(request, payload: MonitorIn):
    service = for_user(Service.objects.select_related("team"), request.user).filter(pk=payload.service_id).first()
    if service is None:
        invalid("service_id", "no such service")
    require_role(request.user, service.team_id, Role.RESPONDER)
    config = payload.dict(exclude={"service_id", "paused"})
    errors = actions.config_errors(config)
    if "name" not in errors and service.monitors.filter(name=config["name"]).exists():
        errors["name"] = "the service already has a monitor of this name"
    _refuse(errors)
    return Status(201, actions.do_create_monitor(service, actor=request.user, paused=payload.paused, **config))


@router.get("/monitors/{monitor_id}", response=MonitorOut)
def get_monitor(request, monitor_id: int):
    return _monitor(request, monitor_id)


@router.patch("/monitors/{monitor_id}", response=MonitorOut)
def update_monitor(request, monitor_id: int, payload: MonitorPatch):
    monitor = _monitor(request, monitor_id, Role.RESPONDER)
    changes = payload.dict(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name != "max_latency_ms":
            invalid(name, "may not be null")
    config = {**{f: getattr(monitor, f) for f in actions.CONFIG_FIELDS}, **changes}
    errors = actions.config_errors(config)
    if "name" in changes and monitor.service.monitors.exclude(pk=monitor.pk).filter(name=changes["name"]).exists():
        errors.setdefault("name", "the service already has a monitor of this name")
    _refuse(errors)
    return actions.do_update_monitor(monitor, actor=request.user, **changes)


@router.delete("/monitors/{monitor_id}", response={204: None})
def delete_monitor(request, monitor_id: int):
    actions.do_delete_monitor(_monitor(request, monitor_id, Role.RESPONDER), actor=request.user)
    return Status(204, None)


@router.post("/monitors/{monitor_id}/pause", response=MonitorOut)
def pause_monitor(request, monitor_id: int):
    return actions.do_pause_monitor(_monitor(request, monitor_id, Role.RESPONDER), actor=request.user)


@router.post("/monitors/{monitor_id}/resume", response=MonitorOut)
def resume_monitor(request, monitor_id: int):
    return actions.do_resume_monitor(_monitor(request, monitor_id, Role.RESPONDER), actor=request.user)


@router.get("/monitors/{monitor_id}/results", response=list[ResultOut])
@paginate(LimitOffsetPagination)
def list_results(request, monitor_id: int, filters: Query[ResultFilters]):
    """The monitor's check history, newest first: latency, status code, error, scheduling lag."""
    results = CheckResult.objects.filter(monitor=_monitor(request, monitor_id))
    if filters.start:
        results = results.filter(at__gte=filters.start)
    if filters.end:
        results = results.filter(at__lt=filters.end)
    if filters.ok is not None:
        results = results.filter(ok=filters.ok)
    return results


@router.get("/monitors/{monitor_id}/stats", response=StatsOut)
def monitor_stats(request, monitor_id: int, span: Literal["24h", "7d", "30d"] = "24h"):
    """Uptime and latency over the last 24 hours, 7 or 30 days, overall and in buckets."""
    return stats.summary(_monitor(request, monitor_id), span)
