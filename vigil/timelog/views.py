from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.catalog.models import Service
from vigil.incidents.models import Incident

from . import actions, chart, reports
from .api import parse_month
from .forms import AllowanceForm, OverrunAnswerForm, TimeEntryForm, TimerForm
from .models import Overrun, TimeAllowance, hours, month_start


def _back(incident):
    return redirect(reverse("incident-detail", args=[incident.pk]) + "#time")


def _responder_incident(request, pk):
    incident = get_for_user(Incident.objects.select_related("service", "team"), request.user, pk=pk)
    require_role(request.user, incident.team_id, Role.RESPONDER)
    return incident


@require_POST
@login_required
def log_time(request, pk):
    incident = _responder_incident(request, pk)
    form = TimeEntryForm(request.POST)
    if form.is_valid():
        entry = actions.do_log_time(incident, actor=request.user, **form.cleaned_data)
        messages.success(request, f"{hours(entry.minutes)} of {entry.kind} time logged.")
    else:
        messages.error(request, "Not logged: " + "; ".join(f"{f}: {' '.join(e)}" for f, e in form.errors.items()))
    return _back(incident)


@require_POST
@login_required
def timer(request, pk, action):
    if action not in ("start", "stop"):
        raise Http404("no such timer action")
    incident = _responder_incident(request, pk)
    try:
        if action == "start":
            form = TimerForm(request.POST)
            kind = form.cleaned_data["kind"] if form.is_valid() else "corrective"
            actions.do_start_timer(incident, actor=request.user, kind=kind)
            messages.success(request, "Timer started.")
        else:
            entry = actions.do_stop_timer(incident, actor=request.user)
            messages.success(request, f"Timer stopped: {hours(entry.minutes)} of {entry.kind} time logged.")
    except actions.TimerError as e:
        messages.warning(request, f"Not done: {e}.")
    return _back(incident)


@require_POST
@login_required
def answer_overrun(request, pk):
    overrun = get_for_user(Overrun.objects.select_related("incident"), request.user, team_field="incident__team", pk=pk)
    require_role(request.user, overrun.incident.team_id, Role.RESPONDER)
    form = OverrunAnswerForm(request.POST)
    if form.is_valid():
        actions.do_answer_overrun(overrun, actor=request.user, reason=form.cleaned_data["reason"], text=form.cleaned_data["text"])
        messages.success(request, "Reason recorded.")
    else:
        messages.error(request, "Choose a reason" + (" and say what it is." if "text" in form.errors else "."))
    return _back(overrun.incident)


@login_required
def service_time(request, slug):
    service = get_for_user(for_user(Service.objects.select_related("team"), request.user), request.user, slug=slug)
    can_edit = has_role(request.user, service.team_id, Role.ADMIN)
    allowance_form = AllowanceForm(request.POST or None,
                                   initial={"incident_hours": TimeAllowance.minutes_for(service.pk) / 60})
    if request.method == "POST":
        require_role(request.user, service.team_id, Role.ADMIN)
        if allowance_form.is_valid():
            minutes = int(allowance_form.cleaned_data["incident_hours"] * 60)
            actions.do_set_allowance(service, actor=request.user, incident_minutes=minutes)
            messages.success(request, f"Per-incident allowance set to {hours(minutes)}.")
            return redirect("service-time", service.slug)
    month = parse_month(request.GET.get("month")) or month_start(timezone.now())
    report = reports.month_report(service, month)
    totals = report["minutes_by_kind"]
    for row in report["incidents"]:
        row["total"] = sum(row["minutes_by_kind"].values())
    return render(request, "timelog/service_time.html", {
        "service": service, "report": report, "month": month, "can_edit": can_edit,
        "total": sum(totals.values()), "chart": chart.used_vs_approved(service, month),
        "previous": chart.months_back(month, 2)[0], "allowance_form": allowance_form,
        "csv_url": reverse("api:time_report", args=[service.pk]) + f"?month={month:%Y-%m}&format=csv",
    })
