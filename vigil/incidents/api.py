import functools
from datetime import datetime
from typing import Any, Optional

from django.conf import settings
from django.urls import reverse
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.accounts.models import Role, Team, User
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.api import invalid
from vigil.catalog.models import Service

from . import actions
from .models import Incident, Severity
from .models import Status as IncidentStatus

router = Router(tags=["incidents"])


@functools.cache
def incident_url_template():
    # reverse() once, not per row: it was an eighth of the time of a list of 50.
    return settings.BASE_URL + reverse("incident-detail", args=[123456789]).replace("123456789", "{}")


class IncidentOut(Schema):
    id: int
    number: int
    title: str
    description: str
    status: IncidentStatus
    severity: Severity
    service_id: int
    team_id: int
    commander_id: Optional[int]
    created_at: datetime
    acknowledged_at: Optional[datetime]
    mitigated_at: Optional[datetime]
    resolved_at: Optional[datetime]
    reopened_at: Optional[datetime]
    alert_count: int
    is_drill: bool
    url: str

    @staticmethod
    def resolve_url(incident):
        return incident_url_template().format(incident.id)


class IncidentSla(Schema):
    ack_target_seconds: Optional[int]
    resolve_target_seconds: Optional[int]
    ack_elapsed_seconds: Optional[int]
    resolve_elapsed_seconds: Optional[int]
    ack_breached: bool
    resolve_breached: bool


class IncidentDetailOut(IncidentOut):
    sla: Optional[IncidentSla] = Field(None, description="The SLA clocks; null when the service has no SLA.")

    @staticmethod
    def resolve_sla(incident):
        # The clocks live in the sla app, below this one: imported here, when a detail is asked for.
        from vigil.sla.clocks import summary

        return summary(incident)


class IncidentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=255)
    service_id: int
    severity: Severity = Severity.SEV3
    description: str = ""
    is_drill: bool = False


class IncidentPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(None, min_length=1, max_length=255)
    description: str = None
    severity: Severity = None
    commander_id: Optional[int] = None
    is_drill: bool = None


class IncidentFilters(Schema):
    status: Optional[IncidentStatus] = None
    service_id: Optional[int] = None
    severity: Optional[Severity] = None
    is_drill: Optional[bool] = None


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=2000)


class EntryOut(Schema):
    id: int
    at: datetime
    kind: str
    actor_id: Optional[int]
    body: str
    data: dict[str, Any]


class NoteIn(Schema):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=20000)


def incidents_for(user):
    return for_user(Incident.objects.all(), user)


def _responder_incident(request, incident_id):
    incident = get_for_user(incidents_for(request.user), request.user, pk=incident_id)
    require_role(request.user, incident.team_id, Role.RESPONDER)
    return incident


@router.get("/incidents", response=list[IncidentOut])
@paginate(LimitOffsetPagination)
def list_incidents(request, filters: Query[IncidentFilters]):
    incidents = incidents_for(request.user)
    for field, value in filters.dict(exclude_none=True).items():
        incidents = incidents.filter(**{field: value})
    return incidents


@router.post("/incidents", response={201: IncidentOut})
def create_incident(request, payload: IncidentIn):
    service = for_user(Service.objects.select_related("team"), request.user).filter(pk=payload.service_id).first()
    if service is None:
        invalid("service_id", "no such service")
    require_role(request.user, service.team_id, Role.RESPONDER)
    incident = actions.do_create_incident(
        service, actor=request.user, title=payload.title, severity=payload.severity,
        description=payload.description, is_drill=payload.is_drill,
    )
    return Status(201, incident)


@router.get("/incidents/{incident_id}", response=IncidentDetailOut)
def get_incident(request, incident_id: int):
    return get_for_user(incidents_for(request.user), request.user, pk=incident_id)


@router.patch("/incidents/{incident_id}", response=IncidentDetailOut)
def update_incident(request, incident_id: int, payload: IncidentPatch):
    incident = _responder_incident(request, incident_id)
    changes = payload.dict(exclude_unset=True)
    for field in ("title", "description", "severity", "is_drill"):
        if field in changes and changes[field] is None:
            invalid(field, "may not be null")
    if "commander_id" in changes:
        commander_id, commander = changes.pop("commander_id"), None
        if commander_id is not None:
            commander = User.objects.filter(pk=commander_id, is_active=True).first()
            if commander is None or not has_role(commander, incident.team_id, Role.RESPONDER):
                invalid("commander_id", "not a responder of the incident's team")
        changes["commander"] = commander
    return actions.do_update_incident(incident, actor=request.user, **changes)


def _lifecycle(name, do):
    @router.post(f"/incidents/{{incident_id}}/{name}", response=IncidentOut, operation_id=f"{name}_incident",
                 summary=f"{name.capitalize()} an incident")
    def action(request, incident_id: int, payload: ReasonIn = None):
        incident = _responder_incident(request, incident_id)
        return do(incident, actor=request.user, reason=payload.reason if payload else "")

    return action


for _name, _do in [
    ("acknowledge", actions.do_acknowledge_incident),
    ("mitigate", actions.do_mitigate_incident),
    ("resolve", actions.do_resolve_incident),
    ("reopen", actions.do_reopen_incident),
]:
    _lifecycle(_name, _do)


class EscalateIn(ReasonIn):
    user_ids: list[int] = Field(default_factory=list, max_length=50)
    team_id: Optional[int] = None


@router.post("/incidents/{incident_id}/escalate", response=IncidentOut, summary="Ask for help")
def escalate_incident(request, incident_id: int, payload: EscalateIn = None):
    """Page the next level of the escalation policy now, or the given responders or team."""
    incident = _responder_incident(request, incident_id)
    payload = payload or EscalateIn()
    users = list(User.objects.filter(pk__in=payload.user_ids, is_active=True))
    if len(users) != len(set(payload.user_ids)):
        invalid("user_ids", "no such user")
    team = None
    if payload.team_id is not None:
        team = Team.objects.filter(pk=payload.team_id).first()
        if team is None:
            invalid("team_id", "no such team")
    return actions.do_escalate_incident(incident, actor=request.user, reason=payload.reason, users=users, team=team)


@router.get("/incidents/{incident_id}/timeline", response=list[EntryOut])
@paginate(LimitOffsetPagination)
def list_timeline(request, incident_id: int):
    incident = get_for_user(incidents_for(request.user), request.user, pk=incident_id)
    return incident.timeline.all()


@router.post("/incidents/{incident_id}/timeline", response={201: EntryOut})
def add_note(request, incident_id: int, payload: NoteIn):
    incident = _responder_incident(request, incident_id)
    return Status(201, actions.do_add_note(incident, actor=request.user, body=payload.body))
