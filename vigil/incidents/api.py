import functools
from datetime import datetime
from typing import Annotated, Any, Optional

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.accounts.models import Role, Team, User
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.api import invalid
from vigil.catalog.models import Service

from . import actions
from .models import FIX_FIELDS, FIX_REQUIRED, FixAction, FixOutcome, Incident, IncidentRole, RoleAssignment, Severity, TimelineEntry
from .models import Status as IncidentStatus

router = Router(tags=["incidents"])


@functools.cache
def incident_url_template():
    # reverse() once, not per row: it was an eighth of the time of a list of 50.
    return settings.BASE_URL + reverse("incident-detail", args=[123456789]).replace("123456789", "{}")


class RoleOut(Schema):
    id: int
    role: IncidentRole
    user_id: int
    name: str
    started_at: datetime
    assigned_by_id: Optional[int]
    ended_at: Optional[datetime]
    ended_by_id: Optional[int]

    @staticmethod
    def resolve_name(assignment):
        return str(assignment.user)


class RolesOut(Schema):
    commander: Optional[RoleOut]
    communications: Optional[RoleOut]
    responders: list[RoleOut]


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
    impact: str
    impact_started_at: Optional[datetime]
    affected_service_ids: list[int]
    affected_components: list[str]
    roles: RolesOut

    @staticmethod
    def resolve_url(incident):
        return incident_url_template().format(incident.id)

    @staticmethod
    def resolve_affected_service_ids(incident):
        services = getattr(incident, "affected_service_list", None)  # prefetched by incidents_for
        return [s.pk for s in (incident.affected_services.all() if services is None else services)]

    @staticmethod
    def resolve_roles(incident):
        active = getattr(incident, "active_roles", None)  # prefetched by incidents_for
        if active is None:
            active = [a for a in incident.role_assignments.all() if a.ended_at is None]
        holder = lambda role: next((a for a in active if a.role == role), None)  # noqa: E731
        return {"commander": holder(IncidentRole.COMMANDER), "communications": holder(IncidentRole.COMMUNICATIONS),
                "responders": [a for a in active if a.role == IncidentRole.RESPONDER]}


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
    impact: str = Field(None, max_length=20000)
    impact_started_at: Optional[datetime] = None
    affected_service_ids: list[int] = Field(None, max_length=100)
    affected_components: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(None, max_length=100)


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
    # to_attr: plain lists; a prefetch into the related managers clones a queryset per incident,
    # which was most of the time of a page of 50 incidents.
    active_roles = RoleAssignment.objects.filter(ended_at=None).select_related("user")
    return for_user(Incident.objects.prefetch_related(
        Prefetch("role_assignments", queryset=active_roles, to_attr="active_roles"),
        Prefetch("affected_services", to_attr="affected_service_list")), user)


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
    for field in ("title", "description", "severity", "is_drill", "impact", "affected_service_ids", "affected_components"):
        if field in changes and changes[field] is None:
            invalid(field, "may not be null")
    if "commander_id" in changes:
        commander_id = changes.pop("commander_id")
        changes["commander"] = None if commander_id is None else _team_responder(incident, commander_id, "commander_id")
    if changes.get("impact_started_at") is not None:
        if changes["impact_started_at"].tzinfo is None:
            invalid("impact_started_at", "needs a time zone offset, e.g. 2026-11-27T03:00:00Z")
        if changes["impact_started_at"] > timezone.now():
            invalid("impact_started_at", "is in the future")
    if "affected_service_ids" in changes:
        ids = set(changes.pop("affected_service_ids"))
        services = list(Service.objects.filter(team_id=incident.team_id, pk__in=ids))
        if len(services) != len(ids):
            invalid("affected_service_ids", "each must be a service of the incident's team")
        changes["affected_services"] = services
    if "affected_components" in changes:
        changes["affected_components"] = list(dict.fromkeys(c.strip() for c in changes["affected_components"] if c.strip()))
    actions.do_update_incident(incident, actor=request.user, **changes)
    return get_for_user(incidents_for(request.user), request.user, pk=incident_id)


def _team_responder(incident, user_id, field):
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not has_role(user, incident.team_id, Role.RESPONDER):
        invalid(field, "not a responder of the incident's team")
    return user


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


# --- roles -------------------------------------------------------------------------------------


class RoleIn(Schema):
    model_config = ConfigDict(extra="forbid")
    role: IncidentRole
    user_id: int


class RoleFilters(Schema):
    include_ended: bool = False


@router.get("/incidents/{incident_id}/roles", response=list[RoleOut])
@paginate(LimitOffsetPagination)
def list_roles(request, incident_id: int, filters: Query[RoleFilters]):
    """Who holds which role now; with `include_ended=true`, everyone who ever held one."""
    incident = get_for_user(incidents_for(request.user), request.user, pk=incident_id)
    assignments = RoleAssignment.objects.filter(incident=incident).select_related("user")
    return assignments if filters.include_ended else assignments.filter(ended_at=None)


@router.post("/incidents/{incident_id}/roles", response={200: RoleOut, 201: RoleOut})
def assign_role(request, incident_id: int, payload: RoleIn):
    """Give a responder of the team a role. A commander or communications lead held by someone
    else is handed over. 201 when assigned, 200 when they already held it."""
    incident = _responder_incident(request, incident_id)
    user = _team_responder(incident, payload.user_id, "user_id")
    assignment, created = actions.do_assign_role(incident, user, payload.role, actor=request.user)
    return Status(201 if created else 200, assignment)


@router.delete("/incidents/{incident_id}/roles/{assignment_id}", response=RoleOut)
def leave_role(request, incident_id: int, assignment_id: int):
    """Leave a role (or take someone off it). The assignment is kept, ended; 409 if it already was."""
    incident = _responder_incident(request, incident_id)
    assignment = get_object_or_404(RoleAssignment, incident=incident, pk=assignment_id)
    return actions.do_leave_role(assignment, actor=request.user)


# --- containment and fixes ------------------------------------------------------------------------


class FixIn(Schema):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    action: FixAction
    outcome: FixOutcome
    target: str = Field("", max_length=500, description="The component, service or host acted on.")
    change: str = Field("", max_length=500, description="Rollback: the change rolled back (deploy, commit, PR).")
    from_: str = Field("", alias="from", max_length=500, description="Rollback: version before; redirect: where traffic went.")
    to: str = Field("", max_length=500, description="Rollback: version after; redirect: where traffic goes now.")
    summary: str = Field("", max_length=2000, description="What was done (required for a patch or workaround).")
    command: str = Field("", max_length=5000, description="The command run.")
    link: str = Field("", max_length=2000, description="A link: the pull request, the pipeline run, the runbook.")
    note: str = Field("", max_length=5000, description="More about the outcome.")
    at: Optional[datetime] = Field(None, description="When it was done; default now.")
    performed_by_id: Optional[int] = Field(None, description="Who did it; default you.")
    corrects_id: Optional[int] = Field(None, description="The earlier fix entry this one corrects.")


@router.get("/incidents/{incident_id}/fixes", response=list[EntryOut])
@paginate(LimitOffsetPagination)
def list_fixes(request, incident_id: int):
    """The containment and fixes log: the timeline's `fix` entries, in order."""
    incident = get_for_user(incidents_for(request.user), request.user, pk=incident_id)
    return incident.timeline.filter(kind=TimelineEntry.Kind.FIX)


@router.post("/incidents/{incident_id}/fixes", response={201: EntryOut})
def log_fix(request, incident_id: int, payload: FixIn):
    incident = _responder_incident(request, incident_id)
    fields = payload.dict(by_alias=True)
    for name in FIX_REQUIRED[payload.action]:
        if not fields[name].strip():
            invalid(name, f"required to log “{FixAction(payload.action).label.lower()}”")
    if payload.link and not payload.link.startswith(("https://", "http://")):
        invalid("link", "must be an http or https URL")
    if payload.at is not None:
        if payload.at.tzinfo is None:
            invalid("at", "needs a time zone offset, e.g. 2026-11-27T03:00:00Z")
        if payload.at > timezone.now():
            invalid("at", "is in the future")
    performed_by = None
    if payload.performed_by_id is not None:
        performed_by = _team_responder(incident, payload.performed_by_id, "performed_by_id")
    corrects = None
    if payload.corrects_id is not None:
        corrects = incident.timeline.filter(kind=TimelineEntry.Kind.FIX, pk=payload.corrects_id).first()
        if corrects is None:
            invalid("corrects_id", "not a fix entry of this incident")
    entry = actions.do_log_fix(
        incident, actor=request.user, action=payload.action, outcome=payload.outcome, at=payload.at,
        performed_by=performed_by, corrects=corrects, **{k: fields[k] for k in FIX_FIELDS if k not in ("outcome",)},
    )
    return Status(201, entry)
