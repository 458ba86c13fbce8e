"""The monitor pages: every monitor of the user's teams, a service's monitors, a monitor with its
chart and history, the create and edit form. Members of the team see them; responders and
admins change them. Another team's monitors are not found (404)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.catalog.models import Service

from . import actions, chart, stats
from .forms import MonitorForm
from .models import Monitor


def _service(request, slug, role=Role.VIEWER):
    service = get_for_user(Service.objects.select_related("team"), request.user, slug=slug)
    require_role(request.user, service.team_id, role)
    return service


def _monitor(request, pk, role=Role.VIEWER):
    monitor = get_for_user(Monitor.objects.select_related("service__team", "integration"), request.user,
                           "service__team", pk=pk)
    require_role(request.user, monitor.service.team_id, role)
    return monitor


@login_required
def monitor_list(request):
    monitors = for_user(Monitor.objects.select_related("service"), request.user, "service__team")
    state = request.GET.get("state")
    if state == "down":
        monitors = monitors.filter(status=Monitor.Status.DOWN, paused=False)
    elif state == "paused":
        monitors = monitors.filter(paused=True)
    return render(request, "monitors/list.html", {"monitors": monitors, "state": state, "service": None})


@login_required
def service_monitors(request, slug):
    service = _service(request, slug)
    ctx = {"monitors": service.monitors.select_related("service"), "service": service,
           "can_change": has_role(request.user, service.team_id, Role.RESPONDER)}
    return render(request, "monitors/list.html", ctx)


@login_required
def monitor_new(request, slug):
    service = _service(request, slug, Role.RESPONDER)
    form = MonitorForm(request.POST or None, service=service)
    if request.method == "POST" and form.is_valid():
        monitor = actions.do_create_monitor(service, actor=request.user, **form.config())
        messages.success(request, "Monitor created: its first check runs now.")
        return redirect(monitor)
    return render(request, "monitors/form.html", {"form": form, "service": service, "monitor": None})


@login_required
def monitor_detail(request, pk):
    monitor = _monitor(request, pk)
    span = request.GET.get("span") if request.GET.get("span") in stats.RANGES else "24h"
    summary = stats.summary(monitor, span)
    results = Paginator(monitor.results.all(), 25).get_page(request.GET.get("page"))
    ctx = {"monitor": monitor, "service": monitor.service, "summary": summary, "span": span,
           "spans": list(stats.RANGES), "chart": mark_safe(chart.svg(summary)),  # built from numbers, labels escaped
           "results": results, "can_change": has_role(request.user, monitor.service.team_id, Role.RESPONDER)}
    return render(request, "monitors/detail.html", ctx)


@login_required
def monitor_edit(request, pk):
    monitor = _monitor(request, pk, Role.RESPONDER)
    form = MonitorForm(request.POST or None, instance=monitor, service=monitor.service)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if changes:
            # The form saved nothing itself: the action does, with its audit row.
            monitor.refresh_from_db()
            actions.do_update_monitor(monitor, actor=request.user, **changes)
            messages.success(request, "Monitor saved.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect(monitor)
    return render(request, "monitors/form.html", {"form": form, "service": monitor.service, "monitor": monitor})


@require_POST
@login_required
def monitor_pause(request, pk):
    actions.do_pause_monitor(_monitor(request, pk, Role.RESPONDER), actor=request.user)
    messages.warning(request, "Paused: no checks, and its alerts are resolved, until you resume it.")
    return redirect("monitor-detail", pk)


@require_POST
@login_required
def monitor_resume(request, pk):
    actions.do_resume_monitor(_monitor(request, pk, Role.RESPONDER), actor=request.user)
    messages.success(request, "Resumed: it is checked now.")
    return redirect("monitor-detail", pk)


@require_POST
@login_required
def monitor_check(request, pk):
    actions.do_check_monitor_now(_monitor(request, pk, Role.RESPONDER), actor=request.user)
    messages.info(request, "Checking now: reload in a few seconds for the result.")
    return redirect("monitor-detail", pk)


@login_required
def monitor_delete(request, pk):
    """GET asks to confirm; POST deletes the monitor and its history."""
    monitor = _monitor(request, pk, Role.RESPONDER)
    if request.method == "POST":
        service = monitor.service
        actions.do_delete_monitor(monitor, actor=request.user)
        messages.success(request, f"Monitor {monitor.name} deleted.")
        return redirect("service-monitors", service.slug)
    return render(request, "monitors/confirm_delete.html", {"monitor": monitor})
