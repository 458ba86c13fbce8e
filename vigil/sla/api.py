import datetime as dt
from typing import Literal, Optional

from ninja import Router, Schema
from pydantic import ConfigDict, Field

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, require_role
from vigil.api import check_time_zone, invalid
from vigil.catalog.models import Service
from vigil.incidents.models import Severity

from . import actions
from .hours import public_holidays
from .models import WEEKDAYS, SlaPolicy

router = Router(tags=["sla"])

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MAX_TARGET = 366 * 24 * 3600


class Target(Schema):
    model_config = ConfigDict(extra="forbid")
    ack_seconds: Optional[int] = Field(None, ge=1, le=MAX_TARGET)
    resolve_seconds: Optional[int] = Field(None, ge=1, le=MAX_TARGET)


class SlaIn(Schema):
    model_config = ConfigDict(extra="forbid")
    business_hours_only: bool = False
    targets: dict[Severity, Target] = Field(default_factory=dict)
    time_zone: str = "UTC"
    business_days: list[Day] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"], max_length=7)
    business_hours_start: dt.time = dt.time(9, 0)
    business_hours_end: dt.time = dt.time(17, 0)
    holidays_of: str = Field("", max_length=16)
    closed_days: list[dt.date] = Field(default_factory=list, max_length=366)
    escalate_fraction: float = Field(0.75, gt=0, le=1)


class SlaOut(Schema):
    service_id: int
    business_hours_only: bool
    targets: dict[str, Target]
    time_zone: str
    business_days: list[str]
    business_hours_start: dt.time
    business_hours_end: dt.time
    holidays_of: str
    closed_days: list[dt.date]
    escalate_fraction: float


def _out(service, policy):
    policy = policy or SlaPolicy(service=service)
    targets = {sev: {"ack_seconds": policy.target(sev, "ack"), "resolve_seconds": policy.target(sev, "resolve")}
               for sev in Severity.values if sev in policy.targets}
    return {
        "service_id": service.pk, "business_hours_only": policy.business_hours_only, "targets": targets,
        "time_zone": policy.time_zone, "business_days": [WEEKDAYS[d] for d in sorted(policy.weekdays)],
        "business_hours_start": policy.day_start, "business_hours_end": policy.day_end,
        "holidays_of": policy.holidays_of, "closed_days": policy.closed_days, "escalate_fraction": policy.escalate_fraction,
    }


def _service(request, service_id):
    return get_for_user(for_user(Service.objects.select_related("team"), request.user), request.user, pk=service_id)


@router.get("/services/{service_id}/sla", response=SlaOut, summary="A service's SLA policy")
def get_sla(request, service_id: int):
    """Targets per severity; `targets` is empty when the service has no SLA."""
    service = _service(request, service_id)
    return _out(service, SlaPolicy.objects.filter(service=service).first())


@router.put("/services/{service_id}/sla", response=SlaOut, summary="Set a service's SLA policy")
def put_sla(request, service_id: int, payload: SlaIn):
    service = _service(request, service_id)
    require_role(request.user, service.team_id, Role.ADMIN)
    check_time_zone(payload.time_zone)
    if payload.business_hours_only and not payload.business_days:
        invalid("business_days", "business hours need at least one day")
    if payload.business_hours_end <= payload.business_hours_start:
        invalid("business_hours_end", "must be after business_hours_start")
    try:
        public_holidays(payload.holidays_of)
    except ValueError as e:
        invalid("holidays_of", str(e))
    targets = {Severity(severity).value: target.dict(exclude_none=True) for severity, target in payload.targets.items()}
    targets = {severity: values for severity, values in targets.items() if values}
    policy = actions.do_set_sla_policy(
        service, actor=request.user, business_hours_only=payload.business_hours_only, targets=targets,
        time_zone=payload.time_zone, weekdays=sorted({WEEKDAYS.index(d) for d in payload.business_days}),
        day_start=payload.business_hours_start, day_end=payload.business_hours_end,
        holidays_of=payload.holidays_of, closed_days=sorted({d.isoformat() for d in payload.closed_days}),
        escalate_fraction=payload.escalate_fraction,
    )
    return _out(service, policy)
