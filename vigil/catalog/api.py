from decimal import Decimal
from typing import Optional

from django.db.models import ProtectedError
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.accounts.models import Role, Team, User
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.api import invalid
from vigil.oncall.models import EscalationPolicy

from . import actions
from .models import HostingProvider, Service

router = Router(tags=["services"])

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


class ServiceOut(Schema):
    id: int
    name: str
    slug: str
    team_id: int
    description: str
    hosting_provider: Optional[str] = Field(None, alias="hosting_provider.name")
    escalation_policy_id: Optional[int]
    monthly_approved_hours: Decimal
    project_manager_id: Optional[int]


class ServiceIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    slug: Optional[str] = Field(None, max_length=100, pattern=SLUG)
    team_id: int
    description: str = ""
    hosting_provider: Optional[str] = Field(None, max_length=100)
    escalation_policy_id: Optional[int] = None
    monthly_approved_hours: Decimal = Field(Decimal(0), ge=0, max_digits=7, decimal_places=2)
    project_manager_id: Optional[int] = None


class ServicePatch(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(None, min_length=1, max_length=100)
    slug: str = Field(None, max_length=100, pattern=SLUG)
    description: str = None
    hosting_provider: Optional[str] = Field(None, max_length=100)
    escalation_policy_id: Optional[int] = None
    monthly_approved_hours: Decimal = Field(None, ge=0, max_digits=7, decimal_places=2)
    project_manager_id: Optional[int] = None


class ProviderOut(Schema):
    id: int
    name: str
    support_url: str
    support_email: str
    support_phone: str
    notes: str


def services_for(user):
    return for_user(Service.objects.select_related("hosting_provider"), user)


def check_references(user, team_id, data, service=None):
    """Turn the ids and names of the body into objects, or raise a 422 naming the field."""
    if "escalation_policy_id" in data and data["escalation_policy_id"] is not None:
        if not EscalationPolicy.objects.filter(pk=data["escalation_policy_id"], team_id=team_id).exists():
            invalid("escalation_policy_id", "no such escalation policy in this team")
    if data.get("project_manager_id") is not None:
        if not User.objects.filter(pk=data["project_manager_id"], is_active=True, memberships__team_id=team_id).exists():
            invalid("project_manager_id", "not a member of the service's team")
    if data.get("slug") in Service.RESERVED_SLUGS:
        invalid("slug", "is reserved")
    if data.get("slug"):
        taken = Service.objects.filter(slug=data["slug"])
        if service is not None:
            taken = taken.exclude(pk=service.pk)
        if taken.exists():
            invalid("slug", "a service with this slug exists")
    if data.get("name"):
        taken = Service.objects.filter(team_id=team_id, name__iexact=data["name"])
        if service is not None:
            taken = taken.exclude(pk=service.pk)
        if taken.exists():
            invalid("name", "the team has a service with this name")


@router.get("/services", response=list[ServiceOut])
@paginate(LimitOffsetPagination)
def list_services(request, team_id: int = None):
    services = services_for(request.user).order_by("name", "id")
    return services.filter(team_id=team_id) if team_id else services


@router.post("/services", response={201: ServiceOut})
def create_service(request, payload: ServiceIn):
    team = Team.objects.filter(pk=payload.team_id).first()
    if team is None or not has_role(request.user, team.pk, Role.VIEWER):
        invalid("team_id", "no such team")
    require_role(request.user, team.pk, Role.ADMIN)
    data = payload.dict(exclude={"team_id"})
    check_references(request.user, team.pk, data)
    return Status(201, actions.do_create_service(team, actor=request.user, **data))


@router.get("/services/{service_id}", response=ServiceOut)
def get_service(request, service_id: int):
    return get_for_user(services_for(request.user), request.user, pk=service_id)


@router.patch("/services/{service_id}", response=ServiceOut)
def update_service(request, service_id: int, payload: ServicePatch):
    service = get_for_user(services_for(request.user), request.user, pk=service_id)
    require_role(request.user, service.team_id, Role.ADMIN)
    data = payload.dict(exclude_unset=True)
    for field in ("name", "slug", "description", "monthly_approved_hours"):
        if field in data and data[field] is None:
            invalid(field, "may not be null")
    check_references(request.user, service.team_id, data, service)
    return actions.do_update_service(service, actor=request.user, **data)


@router.delete("/services/{service_id}", response={204: None, 409: dict})
def delete_service(request, service_id: int):
    service = get_for_user(services_for(request.user), request.user, pk=service_id)
    require_role(request.user, service.team_id, Role.ADMIN)
    try:
        actions.do_delete_service(service, actor=request.user)
    except ProtectedError:
        return Status(409, {"detail": "the service has incidents; it cannot be deleted"})
    return Status(204, None)


@router.get("/hosting-providers", response=list[ProviderOut])
@paginate(LimitOffsetPagination)
def list_hosting_providers(request):
    return HostingProvider.objects.all()
