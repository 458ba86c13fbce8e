from datetime import datetime
from typing import Literal, Optional

import apprise
from django.core.exceptions import PermissionDenied
from django.core.validators import URLValidator, validate_email
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.accounts.models import Role, Team, User
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.api import invalid
from vigil.incidents.models import Incident
from vigil.oncall.models import EscalationPolicy

from . import actions
from .models import ContactMethod, Notification, NotificationRule

router = Router(tags=["paging"])


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class ContactMethodIn(In):
    kind: ContactMethod.Kind
    address: str = Field(min_length=1, max_length=2000)
    name: str = Field("", max_length=100)


class ContactMethodOut(Schema):
    id: int
    user_id: int
    kind: ContactMethod.Kind
    name: str
    address: str = Field(alias="display_address")


class ContactMethodCreated(ContactMethodOut):
    signing_secret: str


class TestResult(Schema):
    ok: bool
    detail: str


class RuleIn(In):
    contact_method_id: int
    delay_seconds: int = Field(0, ge=0, le=24 * 3600)


class RuleOut(Schema):
    id: int
    contact_method_id: int
    delay_seconds: int


class Target(In):
    type: Literal["user", "schedule", "team"]
    id: int


class Level(In):
    delay_seconds: int = Field(ge=0, le=7 * 24 * 3600)
    targets: list[Target] = Field(min_length=1, max_length=20)


class PolicyIn(In):
    team_id: int
    name: str = Field(min_length=1, max_length=100)
    description: str = ""
    repeat: int = Field(0, ge=0, le=9)
    levels: list[Level] = Field(min_length=1, max_length=20)


class PolicyPatch(In):
    name: str = Field(None, min_length=1, max_length=100)
    description: str = None
    repeat: int = Field(None, ge=0, le=9)
    levels: list[Level] = Field(None, min_length=1, max_length=20)


class PolicyOut(Schema):
    id: int
    team_id: int
    name: str
    description: str
    repeat: int
    levels: list[dict]


class NotificationOut(Schema):
    id: int
    user_id: int
    kind: str
    reason: str
    state: str
    attempts: int
    due_at: datetime
    sent_at: Optional[datetime]
    last_error: str
    idempotency_key: str


def _own(request, user_id):
    """The user whose contact settings are changed: yourself, or anyone for a site admin."""
    if user_id != request.user.pk and not request.user.is_superuser:
        raise PermissionDenied("you can change only your own contact methods")
    return get_object_or_404(User, pk=user_id)


def check_address(kind, address):
    try:
        if kind == ContactMethod.Kind.EMAIL:
            validate_email(address)
        elif kind == ContactMethod.Kind.WEBHOOK:
            URLValidator(schemes=["http", "https"])(address)
        elif apprise.Apprise.instantiate(address) is None:
            invalid("address", "not a URL Apprise knows (see its list of services)")
    except DjangoValidationError:
        invalid("address", f"not a valid {'email address' if kind == 'email' else 'http(s) URL'}")


@router.get("/users/{user_id}/contact-methods", response=list[ContactMethodOut])
@paginate(LimitOffsetPagination)
def list_contact_methods(request, user_id: int):
    return _own(request, user_id).contact_methods.all()


@router.post("/users/{user_id}/contact-methods", response={201: ContactMethodCreated})
def create_contact_method(request, user_id: int, payload: ContactMethodIn):
    user = _own(request, user_id)
    check_address(payload.kind, payload.address)
    return Status(201, actions.do_create_contact_method(user, actor=request.user, **payload.dict()))


@router.delete("/contact-methods/{method_id}", response={204: None})
def delete_contact_method(request, method_id: int):
    method = get_object_or_404(ContactMethod, pk=method_id)
    _own(request, method.user_id)
    actions.do_delete_contact_method(method, actor=request.user)
    return Status(204, None)


@router.post("/contact-methods/{method_id}/test", response=TestResult)
def test_contact_method(request, method_id: int):
    """Send a test message now and say what happened."""
    method = get_object_or_404(ContactMethod, pk=method_id)
    _own(request, method.user_id)
    ok, detail = actions.send_test(method)
    return {"ok": ok, "detail": detail}


@router.get("/users/{user_id}/notification-rules", response=list[RuleOut])
@paginate(LimitOffsetPagination)
def list_rules(request, user_id: int):
    return _own(request, user_id).notification_rules.all()


@router.post("/users/{user_id}/notification-rules", response={201: RuleOut})
def create_rule(request, user_id: int, payload: RuleIn):
    user = _own(request, user_id)
    method = user.contact_methods.filter(pk=payload.contact_method_id).first()
    if method is None:
        invalid("contact_method_id", "not one of this user's contact methods")
    if method.rules.filter(delay_seconds=payload.delay_seconds).exists():
        invalid("delay_seconds", "this method already has a rule with this delay")
    return Status(201, actions.do_create_rule(user, method, payload.delay_seconds, actor=request.user))


@router.delete("/notification-rules/{rule_id}", response={204: None})
def delete_rule(request, rule_id: int):
    rule = get_object_or_404(NotificationRule, pk=rule_id)
    _own(request, rule.user_id)
    actions.do_delete_rule(rule, actor=request.user)
    return Status(204, None)


def check_levels(team_id, levels):
    from vigil.oncall.models import Schedule

    for i, level in enumerate(levels):
        for j, target in enumerate(level.targets):
            field = f"levels.{i}.targets.{j}.id"
            if target.type == "user":
                user = User.objects.filter(pk=target.id, is_active=True).first()
                if user is None or not has_role(user, team_id, Role.RESPONDER):
                    invalid(field, "not a responder of the policy's team")
            elif target.type == "schedule" and not Schedule.objects.filter(pk=target.id, team_id=team_id).exists():
                invalid(field, "no such schedule in the policy's team")
            elif target.type == "team" and not Team.objects.filter(pk=target.id).exists():
                invalid(field, "no such team")


@router.get("/escalation-policies", response=list[PolicyOut])
@paginate(LimitOffsetPagination)
def list_policies(request):
    return for_user(EscalationPolicy.objects.all(), request.user).order_by("name", "id")


@router.post("/escalation-policies", response={201: PolicyOut})
def create_policy(request, payload: PolicyIn):
    team = Team.objects.filter(pk=payload.team_id).first()
    if team is None or not has_role(request.user, team.pk, Role.VIEWER):
        invalid("team_id", "no such team")
    require_role(request.user, team.pk, Role.ADMIN)
    if EscalationPolicy.objects.filter(team=team, name__iexact=payload.name).exists():
        invalid("name", "the team has a policy with this name")
    check_levels(team.pk, payload.levels)
    data = payload.dict(exclude={"team_id"})
    return Status(201, actions.do_create_policy(team, actor=request.user, **data))


@router.get("/escalation-policies/{policy_id}", response=PolicyOut)
def get_policy(request, policy_id: int):
    return get_for_user(EscalationPolicy.objects.all(), request.user, pk=policy_id)


@router.patch("/escalation-policies/{policy_id}", response=PolicyOut)
def update_policy(request, policy_id: int, payload: PolicyPatch):
    policy = get_for_user(EscalationPolicy.objects.all(), request.user, pk=policy_id)
    require_role(request.user, policy.team_id, Role.ADMIN)
    changes = payload.dict(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            invalid(name, "may not be null")
    if "levels" in changes:
        check_levels(policy.team_id, payload.levels)
    return actions.do_update_policy(policy, actor=request.user, **changes)


@router.delete("/escalation-policies/{policy_id}", response={204: None})
def delete_policy(request, policy_id: int):
    policy = get_for_user(EscalationPolicy.objects.all(), request.user, pk=policy_id)
    require_role(request.user, policy.team_id, Role.ADMIN)
    actions.do_delete_policy(policy, actor=request.user)
    return Status(204, None)


@router.get("/incidents/{incident_id}/notifications", response=list[NotificationOut])
@paginate(LimitOffsetPagination)
def list_notifications(request, incident_id: int):
    incident = get_for_user(Incident.objects.all(), request.user, pk=incident_id)
    return Notification.objects.filter(incident=incident).order_by("created_at", "id")
