from datetime import datetime
from typing import Optional

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict, Field

from vigil.api import invalid

from . import actions
from .models import ApiToken, Membership, Role, Team, User, validate_time_zone
from .permissions import is_any_team_admin, require_role

router = Router(tags=["accounts"])


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class UserOut(Schema):
    id: int
    email: str
    name: str
    time_zone: str
    is_admin: bool = Field(alias="is_superuser")


class UserIn(In):
    email: str = Field(max_length=254)
    name: str = Field("", max_length=150)
    password: Optional[str] = None
    time_zone: str = "UTC"
    is_admin: bool = False


class TeamOut(Schema):
    id: int
    name: str
    slug: str
    lead_id: Optional[int] = None


class TeamIn(In):
    name: str = Field(min_length=1, max_length=100)


class MemberOut(Schema):
    user_id: int
    name: str = Field(alias="user.name")
    email: str = Field(alias="user.email")
    role: Role


class MemberIn(In):
    user_id: int
    role: Role = Role.RESPONDER


class RoleIn(In):
    role: Role


class TokenOut(Schema):
    id: int
    name: str
    hint: str
    created_at: datetime
    last_used_at: Optional[datetime]
    revoked_at: Optional[datetime]


class TokenCreated(TokenOut):
    token: str


class TokenIn(In):
    name: str = Field(min_length=1, max_length=100)


def visible_users(user):
    if user.is_superuser:
        return User.objects.all()
    return User.objects.filter(Q(memberships__team_id__in=user.team_ids()) | Q(pk=user.pk)).distinct()


@router.get("/users", response=list[UserOut])
@paginate(LimitOffsetPagination)
def list_users(request):
    return visible_users(request.user).order_by("id")


@router.post("/users", response={201: UserOut})
def create_user(request, payload: UserIn):
    if not is_any_team_admin(request.user):
        raise PermissionDenied("only admins can create users")
    if payload.is_admin and not request.user.is_superuser:
        raise PermissionDenied("only site admins can create site admins")
    try:
        validate_email(payload.email)
    except DjangoValidationError:
        invalid("email", "not a valid email address")
    if User.objects.filter(email__iexact=payload.email).exists():
        invalid("email", "a user with this email exists")
    try:
        validate_time_zone(payload.time_zone)
    except DjangoValidationError as e:
        invalid("time_zone", e.messages[0])
    if payload.password:
        try:
            validate_password(payload.password)
        except DjangoValidationError as e:
            invalid("password", " ".join(e.messages))
    user = actions.do_create_user(
        payload.email, actor=request.user, name=payload.name, password=payload.password,
        time_zone=payload.time_zone, is_admin=payload.is_admin,
    )
    return Status(201, user)


@router.get("/users/me", response=UserOut)
def me(request):
    return request.user


@router.get("/users/{user_id}", response=UserOut)
def get_user(request, user_id: int):
    return get_object_or_404(visible_users(request.user), pk=user_id)


@router.get("/teams", response=list[TeamOut])
@paginate(LimitOffsetPagination)
def list_teams(request):
    return _teams(request.user)


def _teams(user):
    teams = Team.objects.order_by("id")
    return teams if user.is_superuser else teams.filter(pk__in=user.team_ids())


@router.post("/teams", response={201: TeamOut})
def create_team(request, payload: TeamIn):
    if not request.user.is_superuser:
        raise PermissionDenied("only site admins can create teams")
    if Team.objects.filter(name__iexact=payload.name).exists():
        invalid("name", "a team with this name exists")
    return Status(201, actions.do_create_team(payload.name, actor=request.user))


@router.get("/teams/{team_id}", response=TeamOut)
def get_team(request, team_id: int):
    return get_object_or_404(_teams(request.user), pk=team_id)


@router.get("/teams/{team_id}/members", response=list[MemberOut])
@paginate(LimitOffsetPagination)
def list_members(request, team_id: int):
    team = get_object_or_404(_teams(request.user), pk=team_id)
    return team.memberships.select_related("user").order_by("id")


@router.post("/teams/{team_id}/members", response={201: MemberOut})
def add_member(request, team_id: int, payload: MemberIn):
    team = get_object_or_404(_teams(request.user), pk=team_id)
    require_role(request.user, team.pk, Role.ADMIN)
    user = User.objects.filter(pk=payload.user_id, is_active=True).first()
    if user is None:
        invalid("user_id", "no such user")
    if team.memberships.filter(user=user).exists():
        invalid("user_id", "already a member of this team")
    return Status(201, actions.do_add_member(team, user, payload.role, actor=request.user))


@router.patch("/teams/{team_id}/members/{user_id}", response=MemberOut)
def change_member_role(request, team_id: int, user_id: int, payload: RoleIn):
    team = get_object_or_404(_teams(request.user), pk=team_id)
    require_role(request.user, team.pk, Role.ADMIN)
    membership = get_object_or_404(Membership.objects.select_related("user"), team=team, user_id=user_id)
    return actions.do_change_member_role(membership, payload.role, actor=request.user)


@router.delete("/teams/{team_id}/members/{user_id}", response={204: None})
def remove_member(request, team_id: int, user_id: int):
    team = get_object_or_404(_teams(request.user), pk=team_id)
    require_role(request.user, team.pk, Role.ADMIN)
    actions.do_remove_member(get_object_or_404(Membership, team=team, user_id=user_id), actor=request.user)
    return Status(204, None)


@router.get("/tokens", response=list[TokenOut])
@paginate(LimitOffsetPagination)
def list_tokens(request):
    return request.user.api_tokens.all()


@router.post("/tokens", response={201: TokenCreated})
def create_token(request, payload: TokenIn):
    token, raw = actions.do_create_api_token(request.user, payload.name, actor=request.user)
    token.token = raw
    return Status(201, token)


@router.post("/tokens/{token_id}/revoke", response=TokenOut)
def revoke_token(request, token_id: int):
    return actions.do_revoke_api_token(get_object_or_404(request.user.api_tokens, pk=token_id), actor=request.user)
