from django.contrib import messages
from django.utils import timezone
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.comms.views import incident_updates_context
from vigil.paging.pages import incident_paging_context

from . import actions
from .forms import OPEN, FilterForm, FixForm, ImpactForm, IncidentForm, NoteForm, RoleForm
from .models import OPEN_STATUSES, FixAction, Incident, IncidentRole, RoleAssignment, TransitionNotAllowed

ACTIONS = {
    "acknowledge": actions.do_acknowledge_incident,
    "mitigate": actions.do_mitigate_incident,
    "resolve": actions.do_resolve_incident,
    "reopen": actions.do_reopen_incident,
    "escalate": actions.do_escalate_incident,
}
BUTTONS = {"acknowledge": "Acknowledge", "mitigate": "Mitigated", "resolve": "Resolve", "reopen": "Reopen"}
DONE = {
    "acknowledge": "Acknowledged.",
    "mitigate": "Marked as mitigated.",
    "resolve": "Resolved.",
    "reopen": "Reopened.",
    "escalate": "Escalated: the next level is asked for help.",
}


def _incidents(user):
    return for_user(Incident.objects.select_related("service", "team", "commander"), user)


def _render_live(request, template, context, full_template):
    """The full page, or only the part htmx polls for (same URL, HX-Request header)."""
    htmx = request.headers.get("HX-Request") == "true"
    response = render(request, template if htmx else full_template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def incident_list(request):
    form = FilterForm(request.GET or None, user=request.user)
    incidents = _incidents(request.user)
    filters = {}
    if form.is_bound:
        form.is_valid()
        # cleaned_data keeps only the valid filters: a stale or foreign value drops out, the rest apply.
        filters = form.cleaned_data
    if filters.get("status") == OPEN:
        incidents = incidents.filter(status__in=OPEN_STATUSES)
    elif filters.get("status"):
        incidents = incidents.filter(status=filters["status"])
    if filters.get("service"):
        incidents = incidents.filter(service=filters["service"])
    if filters.get("severity"):
        incidents = incidents.filter(severity=filters["severity"])
    page = Paginator(incidents, 50).get_page(request.GET.get("page"))
    ctx = {"form": form, "page": page}
    return _render_live(request, "incidents/_table.html", ctx, "incidents/list.html")


@login_required
def incident_new(request):
    form = IncidentForm(request.POST or None, user=request.user, initial={"service": request.GET.get("service")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        service = data.pop("service")
        # The form's choices already hold only services where the user is a responder; checked again
        # here because that is the rule, not a property of the form.
        require_role(request.user, service.team_id, Role.RESPONDER)
        incident = actions.do_create_incident(service, actor=request.user, **data)
        messages.success(request, f"Incident #{incident.number} opened.")
        return redirect(incident)
    return render(request, "incidents/new.html", {"form": form})


@login_required
def incident_detail(request, pk):
    incident = get_for_user(_incidents(request.user), request.user, pk=pk)
    can_respond = has_role(request.user, incident.team_id, Role.RESPONDER)
    ctx = {
        "incident": incident,
        "timeline": incident.timeline.select_related("actor"),
        "can_respond": can_respond,
        "buttons": [(action, BUTTONS[action]) for action in incident.allowed_actions()],
        "note_form": NoteForm(),
        "alerts": _alerts(incident),
        "roles": _active_roles(incident),
    }
    if request.headers.get("HX-Request") != "true":
        # The Paging section (escalation, pages sent, ask for help) is outside the polled part.
        ctx.update(incident_paging_context(incident, request.user, can_respond))
        if can_respond:
            ctx.update(_workspace_forms(request, incident))
    return _render_live(request, "incidents/_live.html", ctx, "incidents/detail.html")


def _alerts(incident):
    """The incident's latest alerts for alerts/_incident_alerts.html, each with its labels as sorted
    pairs: in a template, `alert.labels.items` would read a label named "items"."""
    alerts = list(incident.alerts.all()[:100])
    for alert in alerts:
        alert.label_pairs = sorted(alert.labels.items())
    return alerts


def _responder_incident(request, pk):
    incident = get_for_user(_incidents(request.user), request.user, pk=pk)
    require_role(request.user, incident.team_id, Role.RESPONDER)
    return incident


@require_POST
@login_required
def incident_action(request, pk, action):
    if action not in ACTIONS:
        raise Http404("no such action")
    incident = _responder_incident(request, pk)
    try:
        ACTIONS[action](incident, actor=request.user, reason=request.POST.get("reason", "")[:2000])
    except TransitionNotAllowed as e:
        # Usually someone else was quicker; the page shows what happened.
        messages.warning(request, f"Not done: {e}.")
    else:
        messages.success(request, DONE[action])
    return redirect(incident)


@require_POST
@login_required
def incident_note(request, pk):
    incident = _responder_incident(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        actions.do_add_note(incident, actor=request.user, body=form.cleaned_data["body"])
        messages.success(request, "Note added.")
    else:
        messages.error(request, "The note is empty or too long.")
    return redirect(incident)


def _active_roles(incident):
    active = list(incident.role_assignments.filter(ended_at=None).select_related("user"))
    return {
        "commander": next((a for a in active if a.role == IncidentRole.COMMANDER), None),
        "communications": next((a for a in active if a.role == IncidentRole.COMMUNICATIONS), None),
        "responders": [a for a in active if a.role == IncidentRole.RESPONDER],
        "all": active,
    }


def _workspace_forms(request, incident):
    with timezone.override(request.user.time_zone or "UTC"):
        impact_form = ImpactForm(incident=incident, initial={
            "severity": incident.severity, "impact": incident.impact,
            "impact_started_at": timezone.localtime(incident.impact_started_at).replace(tzinfo=None, second=0, microsecond=0)
            if incident.impact_started_at else None,
            "affected_services": list(incident.affected_services.all()),
            "affected_components": ", ".join(incident.affected_components),
        })
    return {
        **incident_updates_context(incident, True),
        "now": timezone.now(),
        "role_form": RoleForm(incident=incident, user=request.user, initial={"role": IncidentRole.COMMANDER, "user": request.user.pk}),
        "fix_forms": [FixForm(action=action) for action in FixAction],
        "impact_form": impact_form,
    }


@require_POST
@login_required
def incident_role_assign(request, pk):
    incident = _responder_incident(request, pk)
    form = RoleForm(request.POST, incident=incident, user=request.user)
    if form.is_valid():
        user, role = form.cleaned_data["user"], form.cleaned_data["role"]
        _, created = actions.do_assign_role(incident, user, role, actor=request.user)
        label = IncidentRole(role).label.lower()
        messages.success(request, f"{user} is {label}." if created else f"{user} already was {label}.")
    else:
        messages.error(request, "Choose a role and a responder of the team.")
    return redirect(incident)


@require_POST
@login_required
def incident_role_leave(request, pk, assignment_pk):
    incident = _responder_incident(request, pk)
    assignment = get_object_or_404(RoleAssignment, incident=incident, pk=assignment_pk)
    try:
        actions.do_leave_role(assignment, actor=request.user)
    except TransitionNotAllowed as e:
        messages.warning(request, f"Not done: {e}.")
    else:
        messages.success(request, f"{assignment.user} no longer holds the {assignment.get_role_display().lower()} role.")
    return redirect(incident)


@require_POST
@login_required
def incident_fix(request, pk, action):
    if action not in FixAction.values:
        raise Http404("no such action")
    incident = _responder_incident(request, pk)
    form = FixForm(request.POST, action=action)
    if form.is_valid():
        actions.do_log_fix(incident, actor=request.user, action=action, outcome=form.cleaned_data["outcome"],
                           **form.fix_fields())
        messages.success(request, f"Logged: {FixAction(action).label.lower()}.")
    else:
        problems = "; ".join(f"{form.fields[f].label if f in form.fields else f}: {' '.join(e)}" for f, e in form.errors.items())
        messages.error(request, f"Not logged. {problems}")
    return redirect(incident)


@require_POST
@login_required
def incident_impact(request, pk):
    incident = _responder_incident(request, pk)
    with timezone.override(request.user.time_zone or "UTC"):
        form = ImpactForm(request.POST, incident=incident)
        valid = form.is_valid()
    if valid:
        actions.do_update_incident(incident, actor=request.user, **form.cleaned_data)
        messages.success(request, "Severity and impact saved.")
    else:
        problems = "; ".join(f"{form.fields[f].label or f}: {' '.join(e)}" for f, e in form.errors.items())
        messages.error(request, f"Not saved. {problems}")
    return redirect(incident)
