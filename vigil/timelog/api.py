import datetime as dt
import re
from typing import Literal, Optional

from django.http import HttpResponse
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.errors import ValidationError
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, require_role
from vigil.api import invalid
from vigil.catalog.models import Service
from vigil.incidents.models import Incident

from . import actions, reports
from .models import Kind, Overrun, TimeAllowance, month_start

router = Router(tags=["time"])

MAX_MINUTES = 7 * 24 * 60


class EntryOut(Schema):
    id: int
    incident_id: int
    user_id: int
    kind: Kind
    minutes: int
    note: str
    at: dt.datetime
    running: bool


class EntryIn(Schema):
    model_config = ConfigDict(extra="forbid")
    minutes: int = Field(ge=1, le=MAX_MINUTES)
    kind: Kind
    note: str = Field("", max_length=2000)
    at: Optional[dt.datetime] = Field(None, description="When the work began; now if left out.")


class TimerIn(Schema):
    model_config = ConfigDict(extra="forbid")
    kind: Kind = Kind.CORRECTIVE
    note: str = Field("", max_length=2000)


class OverrunOut(Schema):
    id: int
    incident_id: int
    trigger: Overrun.Trigger
    month: dt.date
    corrective_minutes: int
    limit_minutes: int
    question: str
    asked_at: dt.datetime
    reason: str
    reason_text: str
    answered_by_id: Optional[int]
    answered_at: Optional[dt.datetime]


class AnswerIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: Overrun.Reason
    text: str = Field("", max_length=2000)


class AllowanceIo(Schema):
    model_config = ConfigDict(extra="forbid")
    incident_minutes: int = Field(ge=1, le=MAX_MINUTES)


def _incident(request, incident_id, role=Role.VIEWER):
    incident = get_for_user(Incident.objects.select_related("service", "team"), request.user, pk=incident_id)
    require_role(request.user, incident.team_id, role)
    return incident


def _service(request, service_id):
    return get_for_user(Service.objects.select_related("team"), request.user, pk=service_id)


@router.get("/incidents/{incident_id}/time-entries", response=list[EntryOut])
@paginate(LimitOffsetPagination)
def list_time_entries(request, incident_id: int):
    return _incident(request, incident_id).time_entries.all()


@router.post("/incidents/{incident_id}/time-entries", response={201: EntryOut})
def log_time(request, incident_id: int, payload: EntryIn):
    incident = _incident(request, incident_id, Role.RESPONDER)
    if payload.at is not None and payload.at.tzinfo is None:
        invalid("at", "needs a UTC offset")
    if payload.at is not None and payload.at > timezone.now() + dt.timedelta(minutes=5):
        invalid("at", "is in the future")
    entry = actions.do_log_time(incident, actor=request.user, minutes=payload.minutes, kind=payload.kind,
                                note=payload.note, at=payload.at)
    return Status(201, entry)


def _timer(request, incident_id, do, **kwargs):
    incident = _incident(request, incident_id, Role.RESPONDER)
    try:
        return do(incident, actor=request.user, **kwargs)
    except actions.TimerError as e:
        return Status(409, {"detail": str(e)})


@router.post("/incidents/{incident_id}/timer/start", response={201: EntryOut, 409: dict}, summary="Start my timer")
def start_timer(request, incident_id: int, payload: TimerIn = None):
    payload = payload or TimerIn()
    entry = _timer(request, incident_id, actions.do_start_timer, kind=payload.kind, note=payload.note)
    return entry if isinstance(entry, Status) else Status(201, entry)


@router.post("/incidents/{incident_id}/timer/stop", response={200: EntryOut, 409: dict}, summary="Stop my timer")
def stop_timer(request, incident_id: int):
    return _timer(request, incident_id, actions.do_stop_timer)


@router.get("/incidents/{incident_id}/time-overruns", response=list[OverrunOut])
def list_overruns(request, incident_id: int):
    """The questions Vigil asked because corrective time passed a limit, answered or not."""
    return list(_incident(request, incident_id).time_overruns.all())


@router.post("/time-overruns/{overrun_id}/answer", response=OverrunOut, summary="Give the reason for an overrun")
def answer_overrun(request, overrun_id: int, payload: AnswerIn):
    overrun = get_for_user(Overrun.objects.select_related("incident"), request.user, team_field="incident__team", pk=overrun_id)
    require_role(request.user, overrun.incident.team_id, Role.RESPONDER)
    if payload.reason == Overrun.Reason.OTHER and not payload.text.strip():
        invalid("text", "say what the other reason is")
    return actions.do_answer_overrun(overrun, actor=request.user, reason=payload.reason, text=payload.text.strip())


@router.get("/services/{service_id}/time-allowance", response=AllowanceIo, summary="Per-incident allowance")
def get_allowance(request, service_id: int):
    return {"incident_minutes": TimeAllowance.minutes_for(_service(request, service_id).pk)}


@router.put("/services/{service_id}/time-allowance", response=AllowanceIo, summary="Set the per-incident allowance")
def put_allowance(request, service_id: int, payload: AllowanceIo):
    service = _service(request, service_id)
    require_role(request.user, service.team_id, Role.ADMIN)
    return actions.do_set_allowance(service, actor=request.user, incident_minutes=payload.incident_minutes)


class MinutesByKind(Schema):
    investigation: int
    corrective: int
    preventive: int


class IncidentMinutes(Schema):
    incident_id: int
    number: int
    title: str
    minutes_by_kind: MinutesByKind


class ReportOut(Schema):
    service_id: int
    month: str
    approved_minutes: int
    minutes_by_kind: MinutesByKind
    incidents: list[IncidentMinutes]
    over_budget: bool


def parse_month(value):
    """"2026-11" -> date(2026, 11, 1); None for anything else."""
    if not value or not re.fullmatch(r"\d{4}-\d{2}", value):
        return None
    try:
        return dt.date(int(value[:4]), int(value[5:]), 1)
    except ValueError:
        return None


@router.get("/services/{service_id}/time-report", response=ReportOut, summary="A month of time on a service")
def time_report(request, service_id: int, month: str = None, format: Literal["json", "csv"] = "json"):
    """`?month=YYYY-MM` (this month by default, UTC); `?format=csv` for a spreadsheet."""
    service = _service(request, service_id)
    first = parse_month(month) if month else month_start(timezone.now())
    if first is None:
        raise ValidationError([{"loc": ["query", "month"], "msg": "use YYYY-MM, e.g. 2026-11", "type": "value_error"}])
    report = reports.month_report(service, first)
    if format == "csv":
        response = HttpResponse(reports.as_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{service.slug}-{report["month"]}-time.csv"'
        return response
    return report
