from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from . import actions
from .forms import AddMemberForm, RoleForm, TeamForm, TokenForm
from .models import Role, Team, TeamNeedsAnAdmin
from .permissions import has_role, require_role


def _teams(user):
    teams = Team.objects.annotate(member_count=Count("memberships"))
    return teams if user.is_superuser else teams.filter(pk__in=user.team_ids())


@login_required
def team_list(request):
    form = TeamForm(request.POST or None)
    if request.method == "POST":
        if not request.user.is_superuser:
            raise PermissionDenied("only site admins can create teams")
        if form.is_valid():
            team = actions.do_create_team(form.cleaned_data["name"], actor=request.user)
            messages.success(request, f"Team {team.name} created.")
            return redirect("team-detail", team.slug)
    teams = [(team, request.user.role_in(team.pk)) for team in _teams(request.user)]
    return render(request, "accounts/team_list.html", {"teams": teams, "form": form})


def _team_page(request, team, add_form=None):
    ctx = {
        "team": team,
        "memberships": team.memberships.select_related("user").order_by("user__name", "user__email"),
        "is_admin": has_role(request.user, team.pk, Role.ADMIN),
        "add_form": add_form or AddMemberForm(team=team),
        "roles": Role.choices,
    }
    return render(request, "accounts/team_detail.html", ctx)


@login_required
def team_detail(request, slug):
    return _team_page(request, get_object_or_404(_teams(request.user), slug=slug))


def _admin_team(request, slug):
    team = get_object_or_404(_teams(request.user), slug=slug)
    require_role(request.user, team.pk, Role.ADMIN)
    return team


@require_POST
@login_required
def member_add(request, slug):
    team = _admin_team(request, slug)
    form = AddMemberForm(request.POST, team=team)
    if not form.is_valid():
        return _team_page(request, team, add_form=form)
    actions.do_add_member(team, form.user, form.cleaned_data["role"], actor=request.user)
    messages.success(request, f"{form.user} added as {Role(form.cleaned_data['role']).label.lower()}.")
    return redirect("team-detail", team.slug)


@require_POST
@login_required
def member_role(request, slug, user_id):
    team = _admin_team(request, slug)
    membership = get_object_or_404(team.memberships.select_related("user", "team"), user_id=user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role from the list.")
        return redirect("team-detail", team.slug)
    try:
        actions.do_change_member_role(membership, form.cleaned_data["role"], actor=request.user)
    except TeamNeedsAnAdmin as e:
        messages.error(request, str(e).capitalize() + ".")
    else:
        messages.success(request, f"{membership.user} is now {membership.get_role_display().lower()}.")
    return redirect("team-detail", team.slug)


@require_POST
@login_required
def member_remove(request, slug, user_id):
    team = _admin_team(request, slug)
    membership = get_object_or_404(team.memberships.select_related("user", "team"), user_id=user_id)
    try:
        actions.do_remove_member(membership, actor=request.user)
    except TeamNeedsAnAdmin as e:
        messages.error(request, str(e).capitalize() + ".")
    else:
        messages.success(request, f"{membership.user} removed from {team.name}.")
    return redirect("team-detail", team.slug)


@login_required
def token_list(request):
    form = TokenForm(request.POST or None)
    raw = None
    if request.method == "POST" and form.is_valid():
        # Rendered here rather than redirected: the raw token must not outlive this response.
        _, raw = actions.do_create_api_token(request.user, form.cleaned_data["name"], actor=request.user)
        form = TokenForm()
    ctx = {"tokens": request.user.api_tokens.all(), "form": form, "raw_token": raw}
    response = render(request, "accounts/tokens.html", ctx)
    add_never_cache_headers(response)
    return response


@require_POST
@login_required
def token_revoke(request, pk):
    token = get_object_or_404(request.user.api_tokens, pk=pk)
    actions.do_revoke_api_token(token, actor=request.user)
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("token-list")
