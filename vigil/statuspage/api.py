from datetime import datetime
from typing import Literal, Optional

from django.db import transaction
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.accounts import audit
from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, require_role
from vigil.api import api, conflict, invalid
from vigil.catalog.models import Service
from vigil.incidents.models import Incident

from . import services
from .forms import teams_where
from .models import Component, ComponentStatus, IncidentStatus, MaintenanceStatus, StatusPage

router = Router(tags=["status pages"])
api.add_exception_handler(services.NotAllowed, conflict)


class ComponentOut(Schema):
    id: int
    code: str
    name: str
    description: str
    service_id: Optional[int]
    group: Optional[str]
    is_group: bool
    status: ComponentStatus
    status_override: str

    @staticmethod
    def resolve_group(c):
        return c.group.name if c.group_id else None


class PageOut(Schema):
    id: int
    slug: str
    name: str
    public: bool
    team_id: int
    url: str
    accent_colour: str
    footer: str
    custom_domain: str
    components: list[ComponentOut]

    @staticmethod
    def resolve_url(page):
        return page.public_url()

    @staticmethod
    def resolve_components(page):
        return list(page.components.select_related("group"))


class ComponentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    service_id: Optional[int] = None
    group: Optional[str] = Field(None, min_length=1, max_length=100)
    description: str = Field("", max_length=500)


class PageIn(Schema):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(min_length=1, max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(min_length=1, max_length=100)
    public: bool = True
    team_id: Optional[int] = None
    accent_colour: str = Field("#2563eb", pattern=r"^#[0-9a-fA-F]{6}$")
    footer: str = Field("", max_length=2000)
    components: list[ComponentIn] = Field(default_factory=list, max_length=200)


class ComponentPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    status_override: Literal["", "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"]


class PublicUpdateIn(Schema):
    model_config = ConfigDict(extra="forbid")
    status_page_id: int
    status: IncidentStatus
    body: str = Field("", max_length=10000)
    name: Optional[str] = Field(None, min_length=1, max_length=255)
    deliver_notifications: bool = True


class PublicUpdateOut(Schema):
    id: int
    code: str
    public_incident_id: int
    status: str
    body: str
    affected_components: list[dict]
    display_at: datetime


class MaintenanceIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    component_ids: list[int] = Field(min_length=1, max_length=200)
    scheduled_for: datetime
    scheduled_until: datetime
    body: str = Field("", max_length=10000)


class MaintenanceUpdateIn(Schema):
    model_config = ConfigDict(extra="forbid")
    status: MaintenanceStatus
    body: str = Field("", max_length=10000)


class SubscriberIn(Schema):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["email", "webhook"]
    address: str = Field(min_length=3, max_length=2000)
    component_ids: list[int] = Field(default_factory=list, max_length=200)


class SubscriberOut(Schema):
    id: int
    kind: str
    address: str
    confirmed_at: Optional[datetime]
    signing_secret: str


def _pages(user):
    return for_user(StatusPage.objects.select_related("team"), user)


@router.get("/status-pages", response=list[PageOut])
@paginate(LimitOffsetPagination)
def list_pages(request):
    return _pages(request.user).order_by("name")


@router.get("/status-pages/{page_id}", response=PageOut)
def get_page(request, page_id: int):
    return get_for_user(_pages(request.user), request.user, pk=page_id)


@router.post("/status-pages", response={201: PageOut})
def create_page(request, payload: PageIn):
    services_by_id = {s.pk: s for s in for_user(Service.objects.all(), request.user)
                      .filter(pk__in=[c.service_id for c in payload.components if c.service_id])}
    for n, c in enumerate(payload.components):
        if c.service_id is not None and c.service_id not in services_by_id:
            invalid(f"components.{n}.service_id", "no such service")
    if len({c.name for c in payload.components}) != len(payload.components):
        invalid("components", "two components have the same name")
    admin_teams = teams_where(request.user, Role.ADMIN)
    if payload.team_id is not None:
        team = admin_teams.filter(pk=payload.team_id).first()
        if team is None:
            invalid("team_id", "not a team you are an admin of")
    else:
        # The team of the mapped services, else the one team the user runs.
        team_ids = {s.team_id for s in services_by_id.values()} or set(admin_teams.values_list("pk", flat=True))
        if len(team_ids) != 1:
            invalid("team_id", "give the team the page belongs to")
        team = admin_teams.filter(pk=team_ids.pop()).first()
        if team is None:
            invalid("team_id", "not a team you are an admin of")
    for n, c in enumerate(payload.components):
        if c.service_id is not None and services_by_id[c.service_id].team_id != team.pk:
            invalid(f"components.{n}.service_id", "a service of another team")
    if StatusPage.objects.filter(slug=payload.slug).exists():
        invalid("slug", "already taken")
    with transaction.atomic():
        page = StatusPage.objects.create(team=team, slug=payload.slug.lower(), name=payload.name, public=payload.public,
                                         accent_colour=payload.accent_colour, footer=payload.footer)
        groups = {}
        for position, c in enumerate(payload.components, start=1):
            group = None
            if c.group:
                if c.group not in groups:
                    groups[c.group] = Component.objects.create(page=page, name=c.group, is_group=True, position=position)
                group = groups[c.group]
            if c.name in groups:
                invalid(f"components.{position - 1}.name", "also the name of a group")
            Component.objects.create(page=page, name=c.name, service_id=c.service_id, group=group,
                                     description=c.description, position=position)
        services.refresh_components(page.components.all())
        audit.record("statuspage.create", page, actor=request.user, team=team, after={"slug": page.slug, "name": page.name})
    return Status(201, page)


@router.patch("/status-pages/{page_id}/components/{component_id}", response=ComponentOut)
def set_component_status(request, page_id: int, component_id: int, payload: ComponentPatch):
    """Set a component's status by hand; "" hands it back to the incidents."""
    page = get_for_user(_pages(request.user), request.user, pk=page_id)
    require_role(request.user, page.team_id, Role.RESPONDER)
    component = get_for_user(Component.objects.filter(page=page, is_group=False), request.user, "page__team", pk=component_id)
    services.set_override(component, payload.status_override, actor=request.user)
    return component


@router.post("/incidents/{incident_id}/public-updates", response={201: PublicUpdateOut})
def post_public_update(request, incident_id: int, payload: PublicUpdateIn):
    incident = get_for_user(for_user(Incident.objects.all(), request.user), request.user, pk=incident_id)
    require_role(request.user, incident.team_id, Role.RESPONDER)
    page = StatusPage.objects.filter(pk=payload.status_page_id, team_id=incident.team_id).first()
    if page is None:
        invalid("status_page_id", "no status page of the incident's team with this id")
    update = services.post_public_update(incident, page=page, status=payload.status, body=payload.body, name=payload.name,
                                         actor=request.user, deliver=payload.deliver_notifications)
    return Status(201, update)


@router.post("/status-pages/{page_id}/maintenances", response={201: PublicUpdateOut})
def schedule_maintenance(request, page_id: int, payload: MaintenanceIn):
    page = get_for_user(_pages(request.user), request.user, pk=page_id)
    require_role(request.user, page.team_id, Role.RESPONDER)
    components = list(page.components.filter(pk__in=payload.component_ids, is_group=False))
    if len(components) != len(set(payload.component_ids)):
        invalid("component_ids", "not components of this page")
    if payload.scheduled_until <= payload.scheduled_for:
        invalid("scheduled_until", "must be after scheduled_for")
    maintenance = services.schedule_maintenance(
        page, name=payload.name, components=components, scheduled_for=payload.scheduled_for,
        scheduled_until=payload.scheduled_until, body=payload.body, actor=request.user)
    return Status(201, maintenance.updates.order_by("-id").first())


@router.post("/status-pages/{page_id}/maintenances/{maintenance_id}/updates", response={201: PublicUpdateOut})
def update_maintenance(request, page_id: int, maintenance_id: int, payload: MaintenanceUpdateIn):
    page = get_for_user(_pages(request.user), request.user, pk=page_id)
    require_role(request.user, page.team_id, Role.RESPONDER)
    maintenance = get_for_user(page.incidents.filter(scheduled_for__isnull=False), request.user, "page__team", pk=maintenance_id)
    return Status(201, services.post_maintenance_update(maintenance, status=payload.status, body=payload.body, actor=request.user))


@router.post("/status-pages/{page_id}/subscribers", response={201: SubscriberOut})
def add_subscriber(request, page_id: int, payload: SubscriberIn):
    """A webhook subscriber is active at once (its signing secret is in the answer); an email one
    gets a confirmation mail first."""
    from .forms import SubscriberForm

    page = get_for_user(_pages(request.user), request.user, pk=page_id)
    require_role(request.user, page.team_id, Role.RESPONDER)
    form = SubscriberForm({"kind": payload.kind, "address": payload.address, "components": payload.component_ids}, page=page)
    if not form.is_valid():
        field = next(iter(form.errors))
        invalid("component_ids" if field == "components" else field, "; ".join(form.errors[field]))
    d = form.cleaned_data
    subscriber, _ = services.subscribe(page, kind=d["kind"], address=d["address"], components=list(d["components"]))
    return Status(201, subscriber)
