"""The heartbeat pages: a service's heartbeats, one heartbeat with its ping log and setup
examples. Team members see them; responders and admins create, change, pause and delete."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.catalog.models import Service

from . import actions
from .forms import HeartbeatForm
from .models import Heartbeat


def _service(request, slug, role=Role.VIEWER):
    service = get_for_user(Service.objects.select_related("team"), request.user, slug=slug)
    require_role(request.user, service.team_id, role)
    return service


def _heartbeat(request, pk, role=Role.VIEWER):
    heartbeat = get_for_user(Heartbeat.objects.select_related("service__team"), request.user, "service__team", pk=pk)
    require_role(request.user, heartbeat.service.team_id, role)
    return heartbeat


@login_required
def heartbeat_list(request):
    heartbeats = for_user(Heartbeat.objects.select_related("service"), request.user, "service__team")
    return render(request, "heartbeats/list.html", {"heartbeats": heartbeats})


@login_required
def service_heartbeats(request, slug):
    service = _service(request, slug)
    can_edit = has_role(request.user, service.team_id, Role.RESPONDER)
    form = HeartbeatForm(request.POST or None)
    if request.method == "POST":
        require_role(request.user, service.team_id, Role.RESPONDER)
        if form.is_valid():
            heartbeat = actions.do_create_heartbeat(service, actor=request.user, **form.fields_for_model())
            messages.success(request, "Heartbeat added. Make the job ping its URL when it runs.")
            return redirect(heartbeat)
    ctx = {"service": service, "heartbeats": service.heartbeats.all(), "form": form, "can_edit": can_edit}
    return render(request, "heartbeats/service.html", ctx)


@login_required
def heartbeat_detail(request, pk):
    heartbeat = _heartbeat(request, pk)
    can_edit = has_role(request.user, heartbeat.service.team_id, Role.RESPONDER)
    form = HeartbeatForm.for_heartbeat(heartbeat, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        require_role(request.user, heartbeat.service.team_id, Role.RESPONDER)
        if form.is_valid():
            actions.do_update_heartbeat(heartbeat, actor=request.user, **form.fields_for_model())
            messages.success(request, "Heartbeat saved.")
            return redirect(heartbeat)
    ctx = {"heartbeat": heartbeat, "service": heartbeat.service, "form": form, "can_edit": can_edit,
           "pings": heartbeat.pings.all()[:50]}
    return render(request, "heartbeats/detail.html", ctx)


@login_required
def heartbeat_pings(request, pk):
    """The status and ping log alone, which the detail page polls with htmx."""
    heartbeat = _heartbeat(request, pk)
    return render(request, "heartbeats/_pings.html", {"heartbeat": heartbeat, "pings": heartbeat.pings.all()[:50]})


@login_required
@require_POST
def heartbeat_pause(request, pk):
    heartbeat = actions.do_pause_heartbeat(_heartbeat(request, pk, Role.RESPONDER), actor=request.user)
    messages.success(request, "Paused: it will not alert until its next success ping, or until resumed.")
    return redirect(heartbeat)


@login_required
@require_POST
def heartbeat_resume(request, pk):
    heartbeat = actions.do_resume_heartbeat(_heartbeat(request, pk, Role.RESPONDER), actor=request.user)
    messages.success(request, "Resumed: it is watched again from its next ping.")
    return redirect(heartbeat)


@login_required
def heartbeat_delete(request, pk):
    heartbeat = _heartbeat(request, pk, Role.RESPONDER)
    if request.method == "POST":
        service = heartbeat.service
        actions.do_delete_heartbeat(heartbeat, actor=request.user)
        messages.success(request, f"Heartbeat “{heartbeat.name}” deleted.")
        return redirect("service-heartbeats", service.slug)
    return render(request, "heartbeats/confirm_delete.html", {"heartbeat": heartbeat, "service": heartbeat.service})
