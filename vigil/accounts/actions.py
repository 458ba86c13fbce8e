"""The write path for accounts: each function is one transaction that also writes the audit row."""

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from . import audit
from .models import ApiToken, Membership, Role, Team, TeamNeedsAnAdmin, User

USER_FIELDS = ["email", "name", "time_zone", "is_superuser", "is_active"]


@transaction.atomic
def do_create_user(email, *, actor, name="", password=None, time_zone="UTC", is_admin=False):
    user = User.objects.create_user(
        email, password, name=name, time_zone=time_zone, is_superuser=is_admin, is_staff=is_admin
    )
    audit.record("user.create", user, actor=actor, after=audit.snapshot(user, USER_FIELDS))
    return user


@transaction.atomic
def do_create_team(name, *, actor):
    """Create a team; the user who creates it becomes its first admin."""
    team = Team.objects.create(name=name, slug=unique_slug(Team, name))
    audit.record("team.create", team, actor=actor, team=team, after={"name": name})
    if actor is not None and not actor.is_superuser:
        do_add_member(team, actor, Role.ADMIN, actor=actor)
    return team


@transaction.atomic
def do_add_member(team, user, role, *, actor):
    membership = Membership.objects.create(team=team, user=user, role=role)
    audit.record("membership.create", membership, actor=actor, team=team, after={"user": user.pk, "role": role})
    return membership


@transaction.atomic
def do_change_member_role(membership, role, *, actor):
    if role != Role.ADMIN and membership.is_last_admin():
        raise TeamNeedsAnAdmin("a team needs at least one admin: make someone else admin first")
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit.record("membership.update", membership, actor=actor, team=membership.team, before={"role": before}, after={"role": role})
    return membership


@transaction.atomic
def do_remove_member(membership, *, actor):
    if membership.is_last_admin():
        raise TeamNeedsAnAdmin("a team needs at least one admin: make someone else admin first")
    audit.record(
        "membership.delete", membership, actor=actor, team=membership.team,
        before={"user": membership.user_id, "role": membership.role},
    )
    membership.delete()


@transaction.atomic
def do_create_api_token(user, name, *, actor):
    """Returns (token row, raw token); the raw token exists only in the caller's hands."""
    token, raw = ApiToken.generate(user, name)
    audit.record("api_token.create", token, actor=actor, after={"user": user.pk, "name": name, "hint": token.hint})
    return token, raw


@transaction.atomic
def do_revoke_api_token(token, *, actor):
    """Idempotent: revoking a revoked token keeps the first revocation time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record("api_token.revoke", token, actor=actor, after={"revoked_at": token.revoked_at.isoformat()})
    return token


def unique_slug(model, name, field="slug", reserved=()):
    base = slugify(name)[:90] or model._meta.model_name
    slug, n = base, 1
    while slug in reserved or model.objects.filter(**{field: slug}).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug
