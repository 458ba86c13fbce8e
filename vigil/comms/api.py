from datetime import datetime
from typing import Optional

from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, require_role
from vigil.api import invalid
from vigil.catalog.models import Service
from vigil.incidents.models import Incident, Severity

from . import actions
from .models import CommsSettings, Stakeholder, StakeholderUpdate, UpdateReminder, UpdateStatus, address_problem, draft

router = Router(tags=["stakeholder communication"])


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class StakeholderIn(In):
    name: str = Field(min_length=1, max_length=100)
    group: Stakeholder.Group = Stakeholder.Group.CLIENT
    kind: Stakeholder.Kind = Stakeholder.Kind.EMAIL
    address: str = Field(min_length=1, max_length=2000, description="Email address or Apprise URL.")


class StakeholderPatch(In):
    name: str = Field(None, min_length=1, max_length=100)
    group: Stakeholder.Group = None
    kind: Stakeholder.Kind = None
    address: str = Field(None, min_length=1, max_length=2000)


class StakeholderOut(Schema):
    id: int
    service_id: int
    name: str
    group: Stakeholder.Group
    kind: Stakeholder.Kind
    address: str = Field(alias="display_address")
    created_at: datetime




class CommsIn(In):
    reminder_minutes: Optional[dict[Severity, int]] = Field(
        None, description="Minutes without an update before the commander and communications lead are reminded; 0: never.")
    templates: Optional[dict[UpdateStatus, str]] = Field(
        None, description="Wording per status; placeholders $title $service $severity $impact $components "
                          "$impact_started $impact_summary $next_update. Empty: the default.")


class CommsOut(Schema):
    service_id: int
    reminder_minutes: dict[str, int]
    templates: dict[str, str]


class UpdateIn(In):
    status: UpdateStatus
    body: Optional[str] = Field(None, max_length=20000, description="Default: the service's template for the status.")


class MessageOut(Schema):
    id: int
    stakeholder_id: Optional[int]
    recipient: str
    kind: str
    state: str
    attempts: int
    sent_at: Optional[datetime]
    last_error: str


class UpdateOut(Schema):
    id: int
    incident_id: int
    status: UpdateStatus
    body: str
    posted_by_id: Optional[int]
    posted_at: datetime
    messages: list[MessageOut]

    @staticmethod
    def resolve_messages(update):
        return update.messages.all()


class DraftOut(Schema):
    status: UpdateStatus
    subject: str
    body: str


class ReminderOut(Schema):
    quiet_minutes: int
    last_update_at: Optional[datetime]
    next_reminder_at: Optional[datetime]
    reminders_sent: int


def _service(request, service_id, role=None):
    service = get_for_user(Service.objects.select_related("team"), request.user, pk=service_id)
    if role:
        require_role(request.user, service.team_id, role)
    return service


def _incident(request, incident_id, role=None):
    incident = get_for_user(Incident.objects.select_related("service", "team"), request.user, pk=incident_id)
    if role:
        require_role(request.user, incident.team_id, role)
    return incident


def _check_stakeholder(service, data, stakeholder=None):
    kind = data.get("kind") or (stakeholder.kind if stakeholder else Stakeholder.Kind.EMAIL)
    address = data.get("address") or (stakeholder.address if stakeholder else "")
    if "address" in data or "kind" in data:
        problem = address_problem(kind, address)
        if problem:
            invalid("address", problem)
        taken = Stakeholder.objects.filter(service=service, kind=kind, address=address)
        if stakeholder is not None:
            taken = taken.exclude(pk=stakeholder.pk)
        if taken.exists():
            invalid("address", "already a stakeholder of this service")


# --- stakeholders --------------------------------------------------------------------------------


@router.get("/services/{service_id}/stakeholders", response=list[StakeholderOut])
@paginate(LimitOffsetPagination)
def list_stakeholders(request, service_id: int):
    return _service(request, service_id).stakeholders.all()


@router.post("/services/{service_id}/stakeholders", response={201: StakeholderOut})
def add_stakeholder(request, service_id: int, payload: StakeholderIn):
    """Someone to tell about the service's incidents: by email, or any channel Apprise knows."""
    service = _service(request, service_id, Role.RESPONDER)
    data = payload.dict()
    _check_stakeholder(service, data)
    return Status(201, actions.do_create_stakeholder(service, actor=request.user, **data))


def _stakeholder(request, stakeholder_id):
    stakeholder = get_object_or_404(for_user(Stakeholder.objects.select_related("service__team"), request.user, "service__team"),
                                    pk=stakeholder_id)
    return stakeholder


@router.get("/stakeholders/{stakeholder_id}", response=StakeholderOut)
def get_stakeholder(request, stakeholder_id: int):
    return _stakeholder(request, stakeholder_id)


@router.patch("/stakeholders/{stakeholder_id}", response=StakeholderOut)
def update_stakeholder(request, stakeholder_id: int, payload: StakeholderPatch):
    stakeholder = _stakeholder(request, stakeholder_id)
    require_role(request.user, stakeholder.service.team_id, Role.RESPONDER)
    data = payload.dict(exclude_unset=True)
    for field, value in data.items():
        if value is None:
            invalid(field, "may not be null")
    _check_stakeholder(stakeholder.service, data, stakeholder)
    return actions.do_update_stakeholder(stakeholder, actor=request.user, **data)


@router.delete("/stakeholders/{stakeholder_id}", response={204: None})
def delete_stakeholder(request, stakeholder_id: int):
    stakeholder = _stakeholder(request, stakeholder_id)
    require_role(request.user, stakeholder.service.team_id, Role.RESPONDER)
    actions.do_delete_stakeholder(stakeholder, actor=request.user)
    return Status(204, None)


# --- reminder periods and templates ------------------------------------------------------------------


def _comms_out(service):
    comms = CommsSettings.of(service)
    return {"service_id": service.pk, "reminder_minutes": comms.all_minutes(), "templates": comms.all_templates()}


@router.get("/services/{service_id}/communications", response=CommsOut)
def get_communications(request, service_id: int):
    """Reminder periods per severity and update templates per status (the defaults where not set)."""
    return _comms_out(_service(request, service_id))


@router.put("/services/{service_id}/communications", response=CommsOut)
def put_communications(request, service_id: int, payload: CommsIn):
    service = _service(request, service_id, Role.RESPONDER)
    for severity, minutes in (payload.reminder_minutes or {}).items():
        if not 0 <= minutes <= 7 * 24 * 60:
            invalid(f"reminder_minutes.{severity}", "must be between 0 (never) and 10080 minutes")
    for status, text in (payload.templates or {}).items():
        if len(text) > 20000:
            invalid(f"templates.{status}", "at most 20000 characters")
    actions.do_save_comms_settings(
        service, actor=request.user,
        reminder_minutes={str(k): v for k, v in payload.reminder_minutes.items()} if payload.reminder_minutes is not None else None,
        templates={str(k): v for k, v in payload.templates.items()} if payload.templates is not None else None)
    return _comms_out(service)


# --- updates ---------------------------------------------------------------------------------------


@router.get("/incidents/{incident_id}/updates", response=list[UpdateOut])
@paginate(LimitOffsetPagination)
def list_updates(request, incident_id: int):
    """The stakeholder updates of the incident, newest first, with each message's delivery."""
    incident = _incident(request, incident_id)
    return StakeholderUpdate.objects.filter(incident=incident).prefetch_related("messages")


@router.post("/incidents/{incident_id}/updates", response={201: UpdateOut})
def post_update(request, incident_id: int, payload: UpdateIn):
    """Send an update to the stakeholders of the incident's service and affected services (email
    or Apprise, through the outbox, once each). Without `body`, the status's template is used."""
    incident = _incident(request, incident_id, Role.RESPONDER)
    body = payload.body if payload.body is not None else draft(incident, payload.status)
    if not body.strip():
        invalid("body", "is empty")
    return Status(201, actions.do_post_update(incident, actor=request.user, status=payload.status, body=body.strip()))


class DraftQuery(Schema):
    status: UpdateStatus = UpdateStatus.INVESTIGATING


@router.get("/incidents/{incident_id}/updates/draft", response=DraftOut)
def draft_update(request, incident_id: int, query: Query[DraftQuery]):
    """The text an update with this status would start from (the service's template, filled in)."""
    incident = _incident(request, incident_id)
    update = StakeholderUpdate(incident=incident, status=query.status)
    return {"status": query.status, "subject": update.subject(), "body": draft(incident, query.status)}


@router.get("/incidents/{incident_id}/update-reminder", response=ReminderOut)
def get_update_reminder(request, incident_id: int):
    """When the commander and communications lead will be reminded to post an update."""
    from .reminders import last_update_at

    incident = _incident(request, incident_id)
    reminder = UpdateReminder.objects.filter(incident=incident).first()
    return {"quiet_minutes": reminder.quiet_minutes if reminder else 0, "last_update_at": last_update_at(incident),
            "next_reminder_at": reminder.due_at if reminder else None, "reminders_sent": reminder.reminded if reminder else 0}
