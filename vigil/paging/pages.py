"""The paging pages: how to reach me (contact methods and notification rules), escalation
policies, and the incident page's Paging section with "ask for help".

Access: contact methods and rules are each person's own (someone else's is not found). Members of
a team see its policies; its admins change them; another team's policy is not found (404), a role
too low is refused (403). Any responder of the incident's team can ask for help.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from vigil.accounts.models import Role, Team, User
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.incidents import actions as incident_actions
from vigil.incidents.models import Incident, TransitionNotAllowed
from vigil.oncall.models import EscalationPolicy, Schedule

from . import actions
from .forms import (MAX_LEVELS, AskForHelpForm, ContactMethodForm, LevelFormSet, PolicyForm, RuleForm, levels_from_post,
                    levels_initial, target_choices, team_responders)
from .models import ContactMethod, NotificationRule

# --- how to reach me ----------------------------------------------------------------------------


@login_required
def contact(request):
    user = request.user
    adding_method, adding_rule = "add-method" in request.POST, "add-rule" in request.POST
    method_form = ContactMethodForm(request.POST if adding_method else None)
    rule_form = RuleForm(request.POST if adding_rule else None, user=user)
    created = None
    if adding_method and method_form.is_valid():
        created = actions.do_create_contact_method(user, actor=user, **method_form.cleaned_data)
        messages.success(request, f"{created} added. Send a test to check it works.")
        # Rendered, not redirected: a webhook's signing secret is on this answer and no other.
        method_form = ContactMethodForm()
        rule_form = RuleForm(user=user)
    if adding_rule and rule_form.is_valid():
        data = rule_form.cleaned_data
        actions.do_create_rule(user, data["contact_method"], data["delay_minutes"] * 60, actor=user)
        messages.success(request, "Rule added.")
        return redirect(reverse("contact") + "#rules")
    methods = list(user.contact_methods.all())
    rules = list(user.notification_rules.select_related("contact_method"))
    for rule in rules:
        rule.when = after(rule.delay_seconds)
    return render(request, "paging/contact.html", {
        "methods": methods,
        "has_webhook": any(m.kind == ContactMethod.Kind.WEBHOOK for m in methods),
        "rules": rules,
        "method_form": method_form, "rule_form": rule_form, "created": created,
    })


def after(seconds):
    """A rule's delay as the page says it: minutes (the API may have set seconds)."""
    if not seconds:
        return "Immediately"
    return f"After {seconds // 60} min" if seconds % 60 == 0 else f"After {seconds} s"


def _own_method(request, pk):
    # Someone else's method is not found, as another team's objects are.
    return get_object_or_404(ContactMethod, pk=pk, user=request.user)


@require_POST
@login_required
def contact_test(request, pk):
    method = _own_method(request, pk)
    ok, detail = actions.send_test(method)
    if ok:
        messages.success(request, f"Test sent to {method}: {detail}.")
    else:
        messages.error(request, f"Test to {method} failed: {detail}.")
    return redirect("contact")


@require_POST
@login_required
def contact_delete(request, pk):
    method = _own_method(request, pk)
    actions.do_delete_contact_method(method, actor=request.user)
    messages.success(request, f"{method} removed, with its rules.")
    return redirect("contact")


@require_POST
@login_required
def rule_delete(request, pk):
    rule = get_object_or_404(NotificationRule, pk=pk, user=request.user)
    actions.do_delete_rule(rule, actor=request.user)
    messages.success(request, "Rule removed.")
    return redirect(reverse("contact") + "#rules")


# --- escalation policies ------------------------------------------------------------------------


def _policy(request, pk, role=Role.VIEWER):
    policy = get_for_user(EscalationPolicy.objects.select_related("team"), request.user, pk=pk)
    require_role(request.user, policy.team_id, role)
    return policy


@login_required
def policy_list(request):
    user = request.user
    teams = Team.objects.order_by("name")
    if not user.is_superuser:
        teams = teams.filter(pk__in=user.team_ids())
    policies = for_user(EscalationPolicy.objects.prefetch_related("services"), user).order_by("name", "id")
    by_team = {}
    for policy in policies:
        by_team.setdefault(policy.team_id, []).append(policy)
    return render(request, "paging/policy_list.html", {
        "teams": [(team, by_team.get(team.pk, []), has_role(user, team.pk, Role.ADMIN)) for team in teams],
    })


@login_required
def policy_detail(request, pk):
    policy = _policy(request, pk)
    return render(request, "paging/policy_detail.html", {
        "policy": policy,
        "levels": describe_levels(policy.levels, policy.team, request.user, on_call_now=True),
        "services": policy.services.order_by("name"),
        "can_change": has_role(request.user, policy.team_id, Role.ADMIN),
    })


def describe_levels(levels, team, viewer, on_call_now=False):
    """The levels for a page: number, delay in minutes, and each target's name, link and a note
    (who is on call now; a person who no longer belongs to the team). A few queries, whatever the
    number of levels."""
    ids = {"user": set(), "schedule": set(), "team": set()}
    for level in levels:
        for target in level.get("targets", []):
            ids.setdefault(target.get("type"), set()).add(target.get("id"))
    users = User.objects.in_bulk(ids["user"])
    schedules = Schedule.objects.in_bulk(ids["schedule"])
    teams = Team.objects.in_bulk(ids["team"] | ids.get("team_admins", set()))
    responders = set(team_responders(team.pk).filter(pk__in=ids["user"]).values_list("pk", flat=True))
    visible_teams = None if viewer.is_superuser else set(viewer.team_ids())
    now = timezone.now()
    on_call = {}
    if on_call_now:
        from vigil.oncall.shifts import oncall_users

        on_call = {pk: oncall_users(s, now) for pk, s in schedules.items()}

    def describe(target):
        kind, pk = target.get("type"), target.get("id")
        if kind == "user":
            user = users.get(pk)
            if user is None:
                return {"label": f"user {pk} (deleted)"}
            return {"label": str(user), "note": "" if pk in responders else "no longer a responder of the team"}
        if kind == "schedule":
            schedule = schedules.get(pk)
            if schedule is None:
                return {"label": f"schedule {pk} (deleted)"}
            note = ""
            if on_call_now:
                note = "now: " + (", ".join(str(u) for u in on_call[pk]) or "nobody")
            return {"prefix": "on call in", "label": schedule.name, "url": schedule.get_absolute_url(), "note": note}
        if kind in ("team", "team_admins"):
            other = teams.get(pk)
            if other is None:
                return {"label": f"team {pk} (deleted)"}
            url = reverse("team-detail", args=[other.slug]) if visible_teams is None or pk in visible_teams else ""
            return {"prefix": "the admins of" if kind == "team_admins" else "every responder of", "label": other.name,
                    "url": url}
        return {"label": f"{kind} {pk}"}

    return [{"number": i + 1, "delay_minutes": int(level.get("delay_seconds", 0)) // 60,
             "targets": [describe(t) for t in level.get("targets", [])]} for i, level in enumerate(levels)]


@login_required
def policy_edit(request, pk=None, team_slug=None):
    if pk is not None:
        policy = _policy(request, pk, Role.ADMIN)
        team = policy.team
    else:
        policy = None
        team = get_object_or_404(Team, slug=team_slug)
        if not has_role(request.user, team.pk, Role.VIEWER):
            raise Http404("no such team")
        require_role(request.user, team.pk, Role.ADMIN)
    choices = target_choices(team)
    form_kwargs = {"team": team, "policy": policy}
    if request.method == "POST" and "add-level" in request.POST:
        # One more empty level, everything typed kept, nothing checked yet.
        form = PolicyForm(initial={f: request.POST.get(f, "") for f in ("name", "description", "repeat")}, **form_kwargs)
        typed = levels_from_post(request.POST)
        levels = LevelFormSet(initial=typed + [{}] if len(typed) < MAX_LEVELS else typed,
                              form_kwargs={"choices": choices}, prefix="level")
    elif request.method == "POST":
        form = PolicyForm(request.POST, **form_kwargs)
        levels = LevelFormSet(request.POST, form_kwargs={"choices": choices}, prefix="level")
        if form.is_valid() and levels.is_valid():
            chosen = [level for level in (f.as_level() for f in levels.forms) if level]
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
    else:
        initial = {"name": policy.name, "description": policy.description, "repeat": policy.repeat} if policy else None
        form = PolicyForm(initial=initial, **form_kwargs)
        levels = LevelFormSet(initial=levels_initial(policy.levels) if policy else [{}],
                              form_kwargs={"choices": choices}, prefix="level")
    return render(request, "paging/policy_form.html", {"form": form, "levels": levels, "policy": policy, "team": team})


@require_POST
@login_required
def policy_delete(request, pk):
    policy = _policy(request, pk, Role.ADMIN)
    services = policy.services.count()
    actions.do_delete_policy(policy, actor=request.user)
    then = f" {services} service{'s' if services != 1 else ''} now page{'s' if services == 1 else ''} the team's admins." \
        if services else ""
    messages.success(request, f"Escalation policy “{policy.name}” deleted.{then}")
    return redirect("policy-list")


# --- the incident page's Paging section ----------------------------------------------------------


def incident_paging_context(incident, user, can_respond):
    """What the incident page's Paging section shows: the latest escalation, the level due next,
    the pages sent (the outbox rows), and the ask-for-help form for responders."""
    escalation = incident.escalations.first()
    next_level = None
    if escalation is not None and escalation.active and escalation.next_step_at and escalation.levels:
        # As the engine's run_step: past the last level means round again from level 1.
        index, loop = escalation.level, escalation.loop
        if index >= len(escalation.levels):
            index, loop = 0, loop + 1
        next_level = describe_levels(escalation.levels, incident.team, user)[index]
        next_level["round"] = loop + 1
        next_level["due_now"] = escalation.next_step_at <= timezone.now()
    return {"paging": {
        "escalation": escalation,
        "next_level": next_level,
        "notifications": incident.notifications.select_related("user", "contact_method").order_by("created_at", "id")[:100],
        "help_form": AskForHelpForm(incident=incident, user=user) if can_respond and incident.is_open else None,
    }}


@login_required
def incident_paging(request, pk):
    """The Paging section's status alone, for htmx to refresh every few seconds."""
    incident = get_for_user(Incident.objects.select_related("team"), request.user, pk=pk)
    return render(request, "paging/_incident_paging_status.html",
                  {"incident": incident, **incident_paging_context(incident, request.user, can_respond=False)})


@require_POST
@login_required
def ask_for_help(request, pk):
    incident = get_for_user(Incident.objects.select_related("team"), request.user, pk=pk)
    require_role(request.user, incident.team_id, Role.RESPONDER)
    form = AskForHelpForm(request.POST, incident=incident, user=request.user)
    if not form.is_valid():
        messages.error(request, "Choose people of the team from the list, or a team.")
        return redirect(incident)
    data = form.cleaned_data
    try:
        incident_actions.do_escalate_incident(incident, actor=request.user, reason=data["reason"],
                                              users=list(data["users"]), team=data["team"])
    except TransitionNotAllowed as e:
        messages.warning(request, f"Not done: {e}.")
    else:
        asked = [str(u) for u in data["users"]] + ([f"every responder of {data['team']}"] if data["team"] else [])
        messages.success(request, f"Paging {', '.join(asked)} now." if asked else "Paging the next level now.")
    return redirect(reverse("incident-detail", args=[incident.pk]) + "#paging")
