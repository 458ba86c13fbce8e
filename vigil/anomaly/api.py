import json
from datetime import datetime
from typing import Any, Optional

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.errors import ValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field
from pydantic import ValidationError as PydanticError

from vigil.accounts.models import Role, Team
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.api import check_time_zone, invalid
from vigil.catalog.models import Service

from . import actions
from .metrics import Point, record_many
from .models import Rule, Series

router = Router(tags=["metrics"])
MAX_POINTS = 1000  # per request


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class MetricIn(In):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z_:][A-Za-z0-9_:.\-]*$")
    value: float = Field(allow_inf_nan=False)
    at: Optional[datetime] = None
    labels: dict[str, str] = Field(default_factory=dict, max_length=20)
    service_id: Optional[int] = None


class SeriesOut(Schema):
    id: int
    name: str
    labels: dict[str, str]
    service_id: Optional[int]
    team_id: int
    last_value: Optional[float]
    last_at: Optional[datetime]
    url: str

    @staticmethod
    def resolve_url(obj):
        return settings.BASE_URL + obj.get_absolute_url()


class SampleOut(Schema):
    at: datetime
    value: float


class RuleIn(In):
    service_id: int
    series_id: int
    name: str = Field(min_length=1, max_length=100)
    kind: Rule.Kind = Rule.Kind.DEVIATION
    direction: Rule.Direction = Rule.Direction.ABOVE
    threshold: Optional[float] = Field(None, allow_inf_nan=False)
    deviations: float = Field(3.0, gt=0, le=100)
    window_minutes: int = Field(10, ge=0, le=24 * 60)
    baseline_weeks: int = Field(4, ge=1, le=8)
    time_zone: str = "UTC"
    severity: str = Field("sev3", pattern=r"^sev[1-4]$")
    enabled: bool = True


class RulePatch(In):
    name: str = Field(None, min_length=1, max_length=100)
    direction: Rule.Direction = None
    threshold: float = Field(None, allow_inf_nan=False)
    deviations: float = Field(None, gt=0, le=100)
    window_minutes: int = Field(None, ge=0, le=24 * 60)
    baseline_weeks: int = Field(None, ge=1, le=8)
    time_zone: str = None
    severity: str = Field(None, pattern=r"^sev[1-4]$")
    enabled: bool = None


class RuleOut(Schema):
    id: int
    service_id: int
    series_id: int
    name: str
    kind: Rule.Kind
    direction: Rule.Direction
    threshold: Optional[float]
    deviations: float
    window_minutes: int
    baseline_weeks: int
    time_zone: str
    severity: str
    enabled: bool
    state: Rule.State
    why: dict[str, Any]
    last_evaluated_at: Optional[datetime]
    url: str

    @staticmethod
    def resolve_url(obj):
        return settings.BASE_URL + obj.get_absolute_url()


def _target(request, point):
    """(team, service) a point belongs to: its service_id, else its `service` label (a slug),
    else the only team the user may write to."""
    if point.service_id is not None or "service" in point.labels:
        lookup = {"pk": point.service_id} if point.service_id is not None else {"slug": point.labels["service"]}
        service = for_user(Service.objects.select_related("team"), request.user).filter(**lookup).first()
        if service is None:
            return None, None, "no such service"
        require_role(request.user, service.team_id, Role.RESPONDER)
        return service.team, service, None
    teams = {t for t in request.user.team_ids() if has_role(request.user, t, Role.RESPONDER)}
    if len(teams) != 1:
        return None, None, "say which service the metric belongs to (service_id, or a `service` label with its slug)"
    return Team.objects.get(pk=teams.pop()), None, None


# The body is one sample or a list, read by hand (below) so that an error names the sample's index.
_SAMPLE = MetricIn.model_json_schema()
_BODY = {"oneOf": [_SAMPLE, {"type": "array", "items": _SAMPLE, "maxItems": MAX_POINTS}]}


@router.post("/metrics", response={202: dict},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _BODY}}}})
def push_metrics(request):
    """Samples in, as `{name, value, at?, labels?, service_id?}` or a list of them (at most 1,000)."""
    try:
        data = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        invalid("body", f"malformed JSON: {e}")
    listed = isinstance(data, list)
    points, errors = [], []
    for i, item in enumerate(data if listed else [data]):
        try:
            points.append(MetricIn.model_validate(item))
        except PydanticError as e:
            errors += [{"loc": ["body", "payload", *([i] if listed else []), *err["loc"]], "msg": err["msg"],
                        "type": err["type"]} for err in e.errors(include_url=False)]
    if errors:
        raise ValidationError(errors[:20])
    if len(points) > MAX_POINTS:
        invalid("body", f"at most {MAX_POINTS} samples a request")
    groups = {}
    now = timezone.now()
    for i, point in enumerate(points):
        team, service, error = _target(request, point)
        if error:
            raise ValidationError([{"loc": ["body", "payload", *([i] if listed else []),
                                            "service_id"], "msg": error, "type": "value_error"}])
        groups.setdefault((team, service), []).append(Point(point.name, point.value, point.at or now, point.labels))
    for (team, service), group in groups.items():
        record_many(team, group, service=service)
    return Status(202, {"accepted": len(points)})


@router.get("/metrics", response=list[SeriesOut])
@paginate(LimitOffsetPagination)
def list_series(request, name: Optional[str] = None, service_id: Optional[int] = None):
    found = for_user(Series.objects.all(), request.user)
    if name:
        found = found.filter(name=name)
    if service_id is not None:
        found = found.filter(service_id=service_id)
    return found


class Range(Schema):
    start: Optional[datetime] = None
    end: Optional[datetime] = None


@router.get("/metrics/{series_id}/samples", response=list[SampleOut])
@paginate(LimitOffsetPagination)
def list_samples(request, series_id: int, when: Query[Range]):
    series = get_for_user(Series.objects.all(), request.user, pk=series_id)
    found = series.samples.order_by("-at")
    if when.start:
        found = found.filter(at__gte=when.start)
    if when.end:
        found = found.filter(at__lt=when.end)
    return found


def _rule(request, rule_id, role=Role.VIEWER):
    rule = get_for_user(Rule.objects.select_related("service__team", "series"), request.user, "service__team", pk=rule_id)
    require_role(request.user, rule.service.team_id, role)
    return rule


def check_rule(kind, threshold):
    if kind == Rule.Kind.THRESHOLD and threshold is None:
        invalid("threshold", "a threshold rule needs a threshold")


@router.get("/metric-rules", response=list[RuleOut])
@paginate(LimitOffsetPagination)
def list_rules(request, service_id: Optional[int] = None):
    found = for_user(Rule.objects.all(), request.user, "service__team")
    return found.filter(service_id=service_id) if service_id is not None else found


@router.post("/metric-rules", response={201: RuleOut})
def create_rule(request, payload: RuleIn):
    service = for_user(Service.objects.all(), request.user).filter(pk=payload.service_id).first()
    if service is None:
        invalid("service_id", "no such service")
    require_role(request.user, service.team_id, Role.RESPONDER)
    series = Series.objects.filter(Q(service=service) | Q(service__isnull=True), team_id=service.team_id,
                                   pk=payload.series_id).first()
    if series is None:
        invalid("series_id", "no such series in the service's team")
    check_rule(payload.kind, payload.threshold)
    check_time_zone(payload.time_zone)
    fields = payload.dict(exclude={"service_id", "series_id"})
    return Status(201, actions.do_create_rule(service, actor=request.user, series=series, **fields))


@router.get("/metric-rules/{rule_id}", response=RuleOut)
def get_rule(request, rule_id: int):
    return _rule(request, rule_id)


@router.patch("/metric-rules/{rule_id}", response=RuleOut)
def update_rule(request, rule_id: int, payload: RulePatch):
    rule = _rule(request, rule_id, Role.RESPONDER)
    changes = payload.dict(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            invalid(name, "may not be null")
    if "time_zone" in changes:
        check_time_zone(changes["time_zone"])
    return actions.do_update_rule(rule, actor=request.user, **changes) if changes else rule


@router.delete("/metric-rules/{rule_id}", response={204: None})
def delete_rule(request, rule_id: int):
    actions.do_delete_rule(_rule(request, rule_id, Role.RESPONDER), actor=request.user)
    return Status(204, None)
