"""Log triage API: lines in from log shippers, sources, error groups (ranked)."""

import gzip
import json
import zlib
from datetime import date, datetime
from typing import Any, Literal, Optional

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from logtriage import UserFormat
from vigil.accounts.audit import record, snapshot
from vigil.accounts.models import Role, User
from vigil.accounts.permissions import for_user, get_for_user, require_role
from vigil.api import invalid
from vigil.catalog.models import Service
from vigil.incidents.models import Incident
from vigil.reviews.actions import Invalid
from vigil.reviews.api import ActionItemOut
from vigil.reviews.models import ActionItem

from . import actions
from .ingest import ingest_lines
from .models import ErrorGroup, LogSource, ServiceLogs
from .ranking import last_deploy, ranked

router = Router(tags=["logs"])
JSON_ARRAY_LIMIT = 20 * 1024 * 1024  # bytes of a JSON array body; plain text and JSON lines stream


class IngestOut(Schema):
    source: str
    service_id: int
    lines: int
    groups: int
    new_groups: int
    regressed: int
    alerts: int


def _lines(request):
    """The body's lines, streamed: plain text or JSON lines as they are, a JSON array one element a line."""
    stream = request
    encoding = request.headers.get("Content-Encoding", "").lower()
    if encoding == "gzip":
        stream = gzip.GzipFile(fileobj=request)
    elif encoding not in ("", "identity"):
        invalid("body", f"unsupported Content-Encoding {encoding!r}: send it plain or gzip")
    first = stream.read(1)
    while first in (b" ", b"\n", b"\r", b"\t"):
        first = stream.read(1)
    if first == b"[":
        body = first + stream.read(JSON_ARRAY_LIMIT)
        if stream.read(1):
            invalid("body", f"a JSON array body may have at most {JSON_ARRAY_LIMIT} bytes; send JSON lines to stream more")
        try:
            items = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            invalid("body", f"malformed JSON array: {exc}")
        return [item if isinstance(item, str) else json.dumps(item) for item in items]

    def rest():
        line = first + stream.readline()
        while line:
            yield line
            line = stream.readline()

    return rest() if first else iter(())


@router.post("/logs/{source}", response=IngestOut, auth=None)
def post_lines(request, source: str):
    # auth=None here and checked by hand: the router's auth would read the body before we stream it.
    from vigil.api import BearerToken

    header = request.headers.get("Authorization", "")
    user = BearerToken().authenticate(request, header[7:].strip()) if header[:7].lower() == "bearer " else None
    if user is None:
        from ninja.errors import AuthenticationError

        raise AuthenticationError()
    found = get_for_user(LogSource.objects.select_related("service"), user, team_field="service__team", name=source)
    require_role(user, found.service.team_id, Role.RESPONDER)
    try:
        result = ingest_lines(found.service, _lines(request), source=found)
    except (OSError, EOFError, zlib.error) as exc:
        invalid("body", f"cannot read the body: {exc}")
    return {"source": found.name, "service_id": found.service_id, "lines": result.lines, "groups": result.groups,
            "new_groups": len(result.new_groups), "regressed": len(result.regressed), "alerts": result.alerts}


class SourceOut(Schema):
    id: int
    service_id: int
    name: str
    log_format: str
    lines_received: int
    last_received_at: Optional[datetime]
    url: str

    @staticmethod
    def resolve_url(source):
        return f"{settings.BASE_URL}/api/v1/logs/{source.name}"


class SourceIn(Schema):
    model_config = ConfigDict(extra="forbid")
    service_id: int
    name: str = Field(min_length=1, max_length=100, pattern=r"^[-a-zA-Z0-9_]+$")
    log_format: str = Field("", max_length=300)


@router.get("/log-sources", response=list[SourceOut])
def list_sources(request, service_id: Optional[int] = None):
    sources = for_user(LogSource.objects.all(), request.user, team_field="service__team")
    if service_id is not None:
        sources = sources.filter(service_id=service_id)
    return sources


@router.post("/log-sources", response={201: SourceOut})
def create_source(request, payload: SourceIn):
    service = for_user(Service.objects.all(), request.user).filter(pk=payload.service_id).first()
    if service is None:
        invalid("service_id", "no such service")
    require_role(request.user, service.team_id, Role.ADMIN)
    if payload.log_format:
        try:
            UserFormat(payload.log_format)
        except ValueError as exc:
            invalid("log_format", str(exc))
    try:
        with transaction.atomic():
            source = LogSource.objects.create(service=service, name=payload.name, log_format=payload.log_format)
            record("log_source.create", source, actor=request.user, team=service.team,
                   after=snapshot(source, ["name", "log_format"]))
    except IntegrityError:
        invalid("name", "a source with this name exists")
    return Status(201, source)


class GroupOut(Schema):
    id: int
    service_id: int
    template: str
    level: str
    count: int
    first_seen: datetime
    last_seen: datetime
    state: str
    incident_id: Optional[int]
    action_item_ids: list[int]
    hourly: dict[str, int]
    samples: list[str]
    hosts: list[str]
    components: list[str]
    score: float = 0
    reasons: list[dict[str, Any]] = []
    url: str

    @staticmethod
    def resolve_url(group):
        return settings.BASE_URL + group.get_absolute_url()

    @staticmethod
    def resolve_action_item_ids(group):
        return [item.pk for item in group.action_items.all()]


class GroupFilters(Schema):
    service_id: Optional[int] = None
    state: Optional[ErrorGroup.State] = None
    level: Optional[str] = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


class GroupPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    state: Optional[ErrorGroup.State] = None
    incident_id: Optional[int] = None


def _scored(groups):
    logs = {s.service_id: s.data_since for s in ServiceLogs.objects.filter(service_id__in={g.service_id for g in groups})}
    out = []
    now = timezone.now()
    deploys = {}
    for group in groups:
        if group.service_id not in deploys:
            deploys[group.service_id] = last_deploy(group.service_id, now)
        (_, points, reasons), = ranked([group], now=now, data_since=logs.get(group.service_id),
                                       deployed_at=deploys[group.service_id])
        group.score = points
        group.reasons = [{"factor": f, "points": p, "reason": r} for f, p, r in reasons]
        out.append(group)
    return out


@router.get("/error-groups", response=dict)
def list_groups(request, filters: Query[GroupFilters]):
    """Error groups ranked by score (best first); `reasons` says why each ranks where it does."""
    groups = for_user(ErrorGroup.objects.prefetch_related("action_items"), request.user, team_field="service__team")
    if filters.service_id is not None:
        groups = groups.filter(service_id=filters.service_id)
    if filters.state:
        groups = groups.filter(state=filters.state)
    if filters.level:
        groups = groups.filter(level=filters.level.upper())
    rows = _scored(list(groups))
    rows.sort(key=lambda g: (g.state == ErrorGroup.State.IGNORED, -g.score, -g.count))
    page = rows[filters.offset:filters.offset + filters.limit]
    return {"items": [GroupOut.from_orm(g).dict() for g in page], "count": len(rows)}


@router.get("/error-groups/{group_id}", response=GroupOut)
def get_group(request, group_id: int):
    group = get_for_user(ErrorGroup.objects.all(), request.user, team_field="service__team", pk=group_id)
    return _scored([group])[0]


@router.patch("/error-groups/{group_id}", response=GroupOut)
def update_group(request, group_id: int, payload: GroupPatch):
    group = get_for_user(ErrorGroup.objects.select_related("service"), request.user, team_field="service__team", pk=group_id)
    require_role(request.user, group.service.team_id, Role.RESPONDER)
    changes = payload.dict(exclude_unset=True)
    if "state" in changes:
        if changes["state"] is None or changes["state"] == ErrorGroup.State.REGRESSED:
            invalid("state", "one of new, acknowledged, fixed, ignored (regressed is set by Vigil)")
    incident = None
    if changes.get("incident_id") is not None:
        incident = Incident.objects.filter(pk=changes["incident_id"], service=group.service).first()
        if incident is None:
            invalid("incident_id", "no incident of this group's service with this id")
    if "state" in changes:
        actions.set_state(group, changes["state"], actor=request.user)
    if "incident_id" in changes:
        actions.link_incident(group, incident, actor=request.user)
    return _scored([group])[0]


class GroupActionItemIn(Schema):
    model_config = ConfigDict(extra="forbid")
    title: Optional[str] = Field(None, min_length=1, max_length=255)
    description: str = Field("", max_length=20000)
    kind: Literal["corrective", "preventive"] = "corrective"
    owner_id: int
    due_date: date
    priority: ActionItem.Priority = ActionItem.Priority.MEDIUM


@router.post("/error-groups/{group_id}/action-item", response={201: ActionItemOut},
             summary="Turn the group into an action item (on its incident, if linked); the title defaults to 'Fix: <template>'")
def create_action_item(request, group_id: int, payload: GroupActionItemIn):
    group = get_for_user(ErrorGroup.objects.select_related("service__team", "incident"), request.user,
                         team_field="service__team", pk=group_id)
    require_role(request.user, group.service.team_id, Role.RESPONDER)
    owner = User.objects.filter(pk=payload.owner_id).first()
    if owner is None:
        invalid("owner_id", "no such user")
    data = payload.dict(exclude={"owner_id"})
    data["title"] = data["title"] or actions.default_title(group)
    try:
        item = actions.turn_into_action_item(group, actor=request.user, owner=owner, **data)
    except Invalid as e:
        invalid(e.field, e.message)
    return Status(201, item)
