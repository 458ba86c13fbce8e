from datetime import date, datetime
from typing import Any, Optional

from django.conf import settings
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.accounts.models import Role, Team, User
from vigil.accounts.permissions import for_user, get_for_user, require_role
from vigil.api import api, conflict, invalid
from vigil.incidents.models import Incident

from . import actions, export
from .models import ActionItem, Review, ReviewNotAllowed, ReviewSettings
from .models import Status as ReviewStatus

router = Router(tags=["reviews"])


api.add_exception_handler(ReviewNotAllowed, conflict)


@api.exception_handler(export.PdfUnavailable)
def pdf_unavailable(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=503)


def reviews_for(user):
    """The reviews of the user's teams, and those they were asked to review (a project manager
    need not be in the team)."""
    reviews = Review.objects.select_related("team", "incident__service").prefetch_related("reviewer_rows__user", "action_items")
    if user.is_superuser:
        return reviews
    return reviews.filter(Q(team_id__in=user.team_ids()) | Q(reviewer_rows__user=user)).distinct()


def items_for(user):
    return for_user(ActionItem.objects.select_related("owner", "team"), user)


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except actions.Invalid as e:
        invalid(e.field, e.message)


def _users(ids, field):
    users = list(User.objects.filter(pk__in=ids, is_active=True))
    if len(users) != len(set(ids)):
        invalid(field, "no such user")
    return users


# --- reviews ---------------------------------------------------------------------------------------

class ReviewerOut(Schema):
    user_id: int
    name: str
    approved_at: Optional[datetime]


class ReviewOut(Schema):
    id: int
    incident_id: int
    team_id: int
    title: str
    status: ReviewStatus
    author_id: Optional[int]
    template: list[dict[str, Any]]
    sections: dict[str, str]
    timeline: list[dict[str, Any]]
    technique: str
    whys: list[dict[str, Any]]
    factors: list[dict[str, Any]]
    root_cause_category: str
    root_cause: str
    fix_type: str
    reviewers: list[ReviewerOut]
    no_action_reason: str
    no_action_by_id: Optional[int]
    action_item_ids: list[int]
    created_at: datetime
    updated_at: datetime
    published_at: Optional[datetime]
    url: str
    export_md_url: str
    export_pdf_url: str

    @staticmethod
    def resolve_reviewers(review):
        return [{"user_id": r.user_id, "name": str(r.user), "approved_at": r.approved_at}
                for r in review.reviewer_rows.all()]

    @staticmethod
    def resolve_action_item_ids(review):
        return [item.pk for item in review.action_items.all()]

    @staticmethod
    def resolve_url(review):
        return settings.BASE_URL + review.get_absolute_url()

    @staticmethod
    def resolve_export_md_url(review):
        return f"{settings.BASE_URL}/api/v1/reviews/{review.pk}/export.md"

    @staticmethod
    def resolve_export_pdf_url(review):
        return f"{settings.BASE_URL}/api/v1/reviews/{review.pk}/export.pdf"


class ReviewIn(Schema):
    model_config = ConfigDict(extra="forbid")
    incident_id: int
    title: str = Field("", max_length=255)


class ReviewPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    title: str = None
    sections: dict[str, Any] = None
    timeline: list[Any] = None
    technique: str = None
    whys: list[Any] = None
    factors: list[Any] = None
    root_cause_category: str = None
    root_cause: str = None
    fix_type: str = None
    reviewer_ids: list[int] = Field(None, max_length=20)


class ReviewFilters(Schema):
    status: Optional[ReviewStatus] = None
    incident_id: Optional[int] = None
    team_id: Optional[int] = None
    root_cause_category: Optional[str] = None


class ReasonIn(Schema):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=5000)


class CommentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=20000)


class CommentOut(Schema):
    id: int
    author_id: Optional[int]
    body: str
    created_at: datetime


def _review(request, review_id, write=False):
    review = get_object_or_404(reviews_for(request.user), pk=review_id)
    if write:
        require_role(request.user, review.team_id, Role.RESPONDER)
    return review


@router.get("/reviews", response=list[ReviewOut])
@paginate(LimitOffsetPagination)
def list_reviews(request, filters: Query[ReviewFilters]):
    reviews = reviews_for(request.user)
    for field, value in filters.dict(exclude_none=True).items():
        reviews = reviews.filter(**{field: value})
    return reviews


@router.post("/reviews", response={201: ReviewOut})
def create_review(request, payload: ReviewIn):
    """Start a review of an incident, open or resolved. The team's template, the incident's timeline
    and its facts (duration, detection) are filled in; the default reviewers are asked."""
    incident = for_user(Incident.objects.select_related("team", "service"), request.user).filter(pk=payload.incident_id).first()
    if incident is None:
        invalid("incident_id", "no such incident")
    require_role(request.user, incident.team_id, Role.RESPONDER)
    return Status(201, actions.do_start_review(incident, actor=request.user, title=payload.title.strip()))


@router.get("/reviews/{review_id}", response=ReviewOut)
def get_review(request, review_id: int):
    return _review(request, review_id)


@router.patch("/reviews/{review_id}", response=ReviewOut)
def update_review(request, review_id: int, payload: ReviewPatch):
    review = _review(request, review_id, write=True)
    changes = payload.dict(exclude_unset=True)
    for field, value in changes.items():
        if value is None:
            invalid(field, "may not be null")
    reviewers = None
    if "reviewer_ids" in changes:
        reviewers = _users(changes.pop("reviewer_ids"), "reviewer_ids")
    return _call(actions.do_update_review, review, actor=request.user, reviewers=reviewers, **changes)


@router.post("/reviews/{review_id}/submit", response=ReviewOut, summary="Send a draft to its reviewers")
def submit_review(request, review_id: int):
    return actions.do_submit_review(_review(request, review_id, write=True), actor=request.user)


@router.post("/reviews/{review_id}/approve", response=ReviewOut, summary="Approve, as one of the reviewers")
def approve_review(request, review_id: int):
    return actions.do_approve_review(_review(request, review_id), actor=request.user)


@router.post("/reviews/{review_id}/request-changes", response=ReviewOut, summary="Send back to draft, as a reviewer")
def request_changes(request, review_id: int, payload: ReasonIn):
    return _call(actions.do_request_changes, _review(request, review_id), actor=request.user, reason=payload.reason)


@router.post("/reviews/{review_id}/no-action-needed", response=ReviewOut,
             summary="As a reviewer, say no action item is needed (and why); an empty reason takes it back")
def no_action_needed(request, review_id: int, payload: ReasonIn):
    return _call(actions.do_mark_no_action_needed, _review(request, review_id), actor=request.user, reason=payload.reason)


class PublishIn(Schema):
    model_config = ConfigDict(extra="forbid")
    postmortem: str = Field("", max_length=20000)


@router.post("/reviews/{review_id}/publish", response=ReviewOut)
def publish_review(request, review_id: int, payload: PublishIn = None):
    """With `postmortem` text, also post it as the public postmortem update on each status page
    where the incident was told to customers and is resolved (409 when there is none)."""
    postmortem = payload.postmortem if payload else ""
    return _call(actions.do_publish_review, _review(request, review_id, write=True), actor=request.user,
                 postmortem=postmortem)


@router.get("/reviews/{review_id}/comments", response=list[CommentOut])
@paginate(LimitOffsetPagination)
def list_comments(request, review_id: int):
    return _review(request, review_id).comments.all()


@router.post("/reviews/{review_id}/comments", response={201: CommentOut})
def add_comment(request, review_id: int, payload: CommentIn):
    review = _review(request, review_id)
    if not review.reviewer_rows.filter(user=request.user).exists():
        require_role(request.user, review.team_id, Role.RESPONDER)
    return Status(201, _call(actions.do_add_comment, review, actor=request.user, body=payload.body))


@router.get("/reviews/{review_id}/export.md", summary="The review as Markdown")
def export_markdown(request, review_id: int):
    review = _review(request, review_id)
    response = HttpResponse(export.markdown(review), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="review-{review.pk}.md"'
    return response


@router.get("/reviews/{review_id}/export.pdf", summary="The review as PDF, fit to send to a client")
def export_pdf(request, review_id: int):
    review = _review(request, review_id)
    response = HttpResponse(export.pdf(review), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="review-{review.pk}.pdf"'
    return response


# --- action items ----------------------------------------------------------------------------------

class ActionItemOut(Schema):
    id: int
    team_id: int
    review_id: Optional[int]
    incident_id: Optional[int]
    title: str
    description: str
    kind: ActionItem.Kind
    owner_id: int
    due_date: date
    priority: ActionItem.Priority
    status: ActionItem.State
    wont_do_reason: str
    external_url: str
    overdue: bool
    created_at: datetime
    closed_at: Optional[datetime]
    url: str

    @staticmethod
    def resolve_overdue(item):
        return item.is_overdue()

    @staticmethod
    def resolve_url(item):
        return settings.BASE_URL + item.get_absolute_url()


class ActionItemIn(Schema):
    model_config = ConfigDict(extra="forbid")
    review_id: Optional[int] = None
    incident_id: Optional[int] = None
    team_id: Optional[int] = None
    title: str = Field(min_length=1, max_length=255)
    description: str = Field("", max_length=20000)
    kind: ActionItem.Kind = ActionItem.Kind.CORRECTIVE
    owner_id: int
    due_date: date
    priority: ActionItem.Priority = ActionItem.Priority.MEDIUM
    status: ActionItem.State = ActionItem.State.OPEN
    wont_do_reason: str = Field("", max_length=5000)
    external_url: str = Field("", max_length=2000)


class ActionItemPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(None, min_length=1, max_length=255)
    description: str = Field(None, max_length=20000)
    kind: ActionItem.Kind = None
    owner_id: int = None
    due_date: date = None
    priority: ActionItem.Priority = None
    status: ActionItem.State = None
    wont_do_reason: str = Field(None, max_length=5000)
    external_url: str = Field(None, max_length=2000)


class ActionItemFilters(Schema):
    status: Optional[ActionItem.State] = None
    owner_id: Optional[int] = None
    review_id: Optional[int] = None
    incident_id: Optional[int] = None
    team_id: Optional[int] = None
    overdue: Optional[bool] = None


@router.get("/action-items", response=list[ActionItemOut])
@paginate(LimitOffsetPagination)
def list_action_items(request, filters: Query[ActionItemFilters]):
    """Filter with `overdue=true` for the open items past their due date."""
    items = items_for(request.user)
    wanted = filters.dict(exclude_none=True)
    if "overdue" in wanted:
        overdue = actions.overdue(items)
        items = overdue if wanted.pop("overdue") else items.exclude(pk__in=overdue)
    return items.filter(**wanted)


@router.post("/action-items", response={201: ActionItemOut})
def create_action_item(request, payload: ActionItemIn):
    """From a review (`review_id`), an incident (`incident_id`) or for a team (`team_id`)."""
    review = incident = team = None
    if payload.review_id is not None:
        review = reviews_for(request.user).filter(pk=payload.review_id).first()
        if review is None:
            invalid("review_id", "no such review")
        team, incident = review.team, review.incident
    if payload.incident_id is not None:
        incident = for_user(Incident.objects.select_related("team"), request.user).filter(pk=payload.incident_id).first()
        if incident is None or (review is not None and review.incident_id != incident.pk):
            invalid("incident_id", "no such incident" if incident is None else "not the review's incident")
        team = incident.team
    if team is None:
        if payload.team_id is None:
            invalid("review_id", "give review_id, incident_id or team_id")
        team = visible_teams(request.user).filter(pk=payload.team_id).first()
        if team is None:
            invalid("team_id", "no such team")
    require_role(request.user, team.pk, Role.RESPONDER)
    owner = User.objects.filter(pk=payload.owner_id).first()
    if owner is None:
        invalid("owner_id", "no such user")
    data = payload.dict(exclude={"review_id", "incident_id", "team_id", "owner_id"})
    return Status(201, _call(actions.do_create_action_item, team, actor=request.user, review=review, incident=incident,
                             owner=owner, **data))


@router.get("/action-items/{item_id}", response=ActionItemOut)
def get_action_item(request, item_id: int):
    return get_for_user(items_for(request.user), request.user, pk=item_id)


@router.patch("/action-items/{item_id}", response=ActionItemOut)
def update_action_item(request, item_id: int, payload: ActionItemPatch):
    item = get_for_user(items_for(request.user), request.user, pk=item_id)
    changes = payload.dict(exclude_unset=True)
    for field, value in changes.items():
        if value is None:
            invalid(field, "may not be null")
    # The owner may update their own item (mark it done) whatever their role.
    if item.owner_id != request.user.pk:
        require_role(request.user, item.team_id, Role.RESPONDER)
    if "owner_id" in changes:
        owner = User.objects.filter(pk=changes.pop("owner_id")).first()
        if owner is None:
            invalid("owner_id", "no such user")
        changes["owner"] = owner
    return _call(actions.do_update_action_item, item, actor=request.user, **changes)


# --- a team's review settings ------------------------------------------------------------------------

class SectionSchema(Schema):
    key: str
    title: str
    prompt: str = ""


class ReviewSettingsOut(Schema):
    team_id: int
    lead_id: Optional[int]
    reviewer_ids: list[int]
    uses_default_reviewers: bool
    sections: list[dict[str, Any]]
    remind_days_before: int
    escalate_days_after: int


class ReviewSettingsPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    lead_id: Optional[int] = None
    reviewer_ids: list[int] = Field(None, max_length=20)
    sections: list[Any] = None
    remind_days_before: int = None
    escalate_days_after: int = None


def settings_out(team):
    chosen = ReviewSettings.of(team)
    ids = sorted(chosen.reviewers.values_list("pk", flat=True)) if chosen.pk else []
    return {"team_id": team.pk, "lead_id": team.lead_id, "reviewer_ids": ids, "uses_default_reviewers": not ids,
            "sections": chosen.template(), "remind_days_before": chosen.remind_days_before,
            "escalate_days_after": chosen.escalate_days_after}


def visible_teams(user):
    return Team.objects.all() if user.is_superuser else Team.objects.filter(pk__in=user.team_ids())


def _team(request, team_id):
    return get_object_or_404(visible_teams(request.user), pk=team_id)


@router.get("/review-settings/{team_id}", response=ReviewSettingsOut)
def get_review_settings(request, team_id: int):
    return settings_out(_team(request, team_id))


@router.patch("/review-settings/{team_id}", response=ReviewSettingsOut)
def update_review_settings(request, team_id: int, payload: ReviewSettingsPatch):
    """Team admins: the lead, the reviewers (an empty list: the lead and the service's project
    manager), the template's sections (an empty list: the default template), reminder days."""
    team = _team(request, team_id)
    require_role(request.user, team.pk, Role.ADMIN)
    changes = payload.dict(exclude_unset=True)
    kwargs = {k: v for k, v in changes.items() if k in ("sections", "remind_days_before", "escalate_days_after")}
    if "lead_id" in changes:
        kwargs["lead"] = _users([changes["lead_id"]], "lead_id")[0] if changes["lead_id"] is not None else None
    if "reviewer_ids" in changes:
        kwargs["reviewers"] = _users(changes["reviewer_ids"] or [], "reviewer_ids")
    _call(actions.do_update_review_settings, team, actor=request.user, **kwargs)
    return settings_out(team)
