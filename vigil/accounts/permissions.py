"""Team boundaries, enforced in the queries themselves.

Everything that belongs to a team is read through `for_user()`, so an object of another team
is simply not found (404), never fetched and then hidden. Writes then check the role with
`require_role()` (403).
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from .models import ROLE_RANK, Role


def for_user(queryset, user, team_field="team"):
    """Only the rows of the teams `user` belongs to (all rows for a site admin)."""
    if user.is_superuser:
        return queryset
    return queryset.filter(**{f"{team_field}_id__in": user.team_ids()})


def get_for_user(queryset, user, team_field="team", **lookup):
    return get_object_or_404(for_user(queryset, user, team_field), **lookup)


def has_role(user, team_id, role):
    held = user.role_in(team_id)
    return held is not None and ROLE_RANK[held] >= ROLE_RANK[role]


def require_role(user, team_id, role):
    if not has_role(user, team_id, role):
        raise PermissionDenied(f"this needs the {Role(role).label.lower()} role in the team")


def is_any_team_admin(user):
    return user.is_superuser or user.memberships.filter(role=Role.ADMIN).exists()
