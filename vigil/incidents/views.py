from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.paging.pages import incident_paging_context

from . import actions
from .forms import OPEN, FilterForm, IncidentForm, NoteForm, SeverityForm
from .models import OPEN_STATUSES, Incident, TransitionNotAllowed

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
        "severity_form": SeverityForm(initial={"severity": incident.severity}),
        "alerts": _alerts(incident),
    }
    if request.headers.get("HX-Request") != "true":
        # The Paging section (escalation, pages sent, ask for help) is outside the polled part.
        ctx.update(incident_paging_context(incident, request.user, can_respond))
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


@require_POST
@login_required
def incident_severity(request, pk):
    incident = _responder_incident(request, pk)
    form = SeverityForm(request.POST)
    if form.is_valid():
        actions.do_update_incident(incident, actor=request.user, severity=form.cleaned_data["severity"])
        messages.success(request, "Severity updated.")
    else:
        messages.error(request, "Choose a severity from the list.")
    return redirect(incident)
