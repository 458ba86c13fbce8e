"""The paging pages: your contact methods and notification rules, escalation policies, asking
for help on an incident."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import ProtectedError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from vigil.accounts.models import Role, Team
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.incidents import actions as incident_actions
from vigil.incidents.models import Incident, TransitionNotAllowed
from vigil.oncall.models import EscalationPolicy

from . import actions
from .forms import AskForHelpForm, ContactMethodForm, LevelFormSet, PolicyForm, RuleForm
from .models import ContactMethod, NotificationRule


@login_required
def contact(request):
    user = request.user
    method_form = ContactMethodForm(request.POST if "add-method" in request.POST else None)
    rule_form = RuleForm(request.POST if "add-rule" in request.POST else None, user=user)
    created = None
    if "add-method" in request.POST and method_form.is_valid():
        created = actions.do_create_contact_method(user, actor=user, **method_form.cleaned_data)
        messages.success(request, f"{created} added. Send a test to check it works.")
        method_form = ContactMethodForm()
    if "add-rule" in request.POST and rule_form.is_valid():
        data = rule_form.cleaned_data
        actions.do_create_rule(user, data["contact_method"], data["delay_minutes"] * 60, actor=user)
        messages.success(request, "Rule added.")
        return redirect("contact")
    return render(request, "paging/contact.html", {
        "methods": user.contact_methods.all(), "rules": user.notification_rules.select_related("contact_method"),
        "method_form": method_form, "rule_form": rule_form, "created": created,
    })


def _own_method(request, pk):
    return get_object_or_404(ContactMethod, pk=pk, user=request.user)


@require_POST
@login_required
def contact_test(request, pk):
    method = _own_method(request, pk)
    ok, detail = actions.send_test(method)
    (messages.success if ok else messages.error)(request, f"Test to {method}: {'sent' if ok else 'failed'} ({detail}).")
    return redirect("contact")


@require_POST
@login_required
def contact_delete(request, pk):
    method = _own_method(request, pk)
    actions.do_delete_contact_method(method, actor=request.user)
    messages.success(request, f"{method} removed.")
    return redirect("contact")


@require_POST
@login_required
def rule_delete(request, pk):
    rule = get_object_or_404(NotificationRule, pk=pk, user=request.user)
    actions.do_delete_rule(rule, actor=request.user)
    messages.success(request, "Rule removed.")
    return redirect("contact")


@login_required
def policy_list(request):
    policies = for_user(EscalationPolicy.objects.select_related("team").prefetch_related("services"), request.user)
    teams = Team.objects.all() if request.user.is_superuser else Team.objects.filter(pk__in=request.user.team_ids())
    return render(request, "paging/policy_list.html", {
        "policies": policies.order_by("team__name", "name"),
        "admin_teams": [t for t in teams if has_role(request.user, t.pk, Role.ADMIN)],
    })


@login_required
def policy_detail(request, pk):
    policy = get_for_user(EscalationPolicy.objects.select_related("team"), request.user, pk=pk)
    return render(request, "paging/policy_detail.html", {
        "policy": policy, "levels": describe_levels(policy.levels),
        "can_change": has_role(request.user, policy.team_id, Role.ADMIN),
    })


def describe_levels(levels):
    """Each level with names for its targets, for the page."""
    from vigil.accounts.models import User
    from vigil.oncall.models import Schedule

    names = {
        "user": dict((u.pk, str(u)) for u in User.objects.all()),
        "schedule": dict(Schedule.objects.values_list("pk", "name")),
        "team": dict(Team.objects.values_list("pk", "name")),
    }
    kinds = {"user": "", "schedule": "on call in ", "team": "team "}
    return [{
        "number": i + 1, "delay_minutes": level.get("delay_seconds", 0) // 60,
        "targets": [kinds.get(t["type"], "") + names.get(t["type"], {}).get(t["id"], f"{t['type']} {t['id']} (gone)")
                    for t in level.get("targets", [])],
    } for i, level in enumerate(levels)]


@login_required
def policy_edit(request, pk=None, team_slug=None):
    if pk is not None:
        policy = get_for_user(EscalationPolicy.objects.select_related("team"), request.user, pk=pk)
        team = policy.team
    else:
        policy, team = None, get_object_or_404(Team, slug=team_slug)
        if not has_role(request.user, team.pk, Role.VIEWER):
            raise Http404
    require_role(request.user, team.pk, Role.ADMIN)
    initial_levels = [{"delay_minutes": lv["delay_seconds"] // 60,
                       "targets": [f"{t['type']}:{t['id']}" for t in lv["targets"]]} for lv in (policy.levels if policy else [])]
    initial_levels += [{"delay_minutes": 5, "targets": []}] * 2
    form = PolicyForm(request.POST or None, team=team, policy=policy,
                      initial={"name": policy.name, "description": policy.description, "repeat": policy.repeat} if policy else None)
    levels = LevelFormSet(request.POST or None, initial=initial_levels, form_kwargs={"team": team}, prefix="level")
    if request.method == "POST" and form.is_valid() and levels.is_valid():
        chosen = [lf.as_level() for lf in levels.forms if lf.as_level()]
        if not chosen:
            form.add_error(None, "Give at least one level someone to page.")
        else:
            data = {**form.cleaned_data, "levels": chosen}
            if policy is None:
                policy = actions.do_create_policy(team, actor=request.user, **data)
            else:
                actions.do_update_policy(policy, actor=request.user, **data)
            messages.success(request, f"Escalation policy “{policy.name}” saved.")
            return redirect("policy-detail", policy.pk)
    return render(request, "paging/policy_form.html", {"form": form, "levels": levels, "policy": policy, "team": team})


@require_POST
@login_required
def policy_delete(request, pk):
    policy = get_for_user(EscalationPolicy.objects.select_related("team"), request.user, pk=pk)
    require_role(request.user, policy.team_id, Role.ADMIN)
    try:
        actions.do_delete_policy(policy, actor=request.user)
    except ProtectedError:
        messages.error(request, "The policy is in use.")
        return redirect("policy-detail", policy.pk)
    messages.success(request, f"Policy “{policy.name}” deleted; its services notify their team's admins.")
    return redirect("policy-list")


@require_POST
@login_required
def ask_for_help(request, pk):
    incident = get_for_user(Incident.objects.all(), request.user, pk=pk)
    require_role(request.user, incident.team_id, Role.RESPONDER)
    form = AskForHelpForm(request.POST, incident=incident)
    if not form.is_valid():
        messages.error(request, "Choose people of the team, or a team.")
        return redirect(incident)
    data = form.cleaned_data
    try:
        incident_actions.do_escalate_incident(incident, actor=request.user, reason=data["reason"],
                                              users=list(data["users"]), team=data["team"])
    except TransitionNotAllowed as e:
        messages.warning(request, f"Not done: {e}.")
    else:
        asked = [str(u) for u in data["users"]] + ([f"team {data['team']}"] if data["team"] else [])
        messages.success(request, f"Paging {', '.join(asked)} now." if asked else "Paging the next level now.")
    return redirect(incident)
