"""The alerts pages of the web UI: a service's alerts, integrations (with their setup
instructions), silences and maintenance windows. The ingestion endpoints are in views.py.

Access: members of the service's team see everything but integration keys; team admins manage
integrations; responders and admins manage silences and maintenance windows. Another team's
objects are not found (404), a role too low is refused (403).
"""

import functools
import zoneinfo
from datetime import UTC, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_POST

from vigil.accounts.models import Role
from vigil.accounts.permissions import get_for_user, has_role, require_role
from vigil.catalog.models import Service

from . import actions
from .forms import AlertFilterForm, IntegrationForm, IntegrationSettingsForm, MaintenanceWindowForm, SilenceForm
from .models import Integration, MaintenanceWindow, Silence

KEY_PLACEHOLDER = "<key>"


def _service(request, slug, role=Role.VIEWER):
    service = get_for_user(Service.objects.select_related("team"), request.user, slug=slug)
    require_role(request.user, service.team_id, role)
    return service


def _integration(request, pk, role=Role.VIEWER):
    integration = get_for_user(Integration.objects.select_related("service__team"), request.user, "service__team",
                               pk=pk)
    require_role(request.user, integration.service.team_id, role)
    return integration


def _user_zone(user):
    try:
        return zoneinfo.ZoneInfo(user.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def in_user_time_zone(view):
    """Times typed into a form are read in the user's zone, as the pages show them."""
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        with timezone.override(_user_zone(request.user)):
            return view(request, *args, **kwargs)
    return wrapper


def for_display(alerts):
    """The alerts as a list, each with `label_pairs` sorted by name. (In a template,
    `alert.labels.items` would read a label called "items" instead of the dict's method.)"""
    alerts = list(alerts)
    for alert in alerts:
        alert.label_pairs = sorted(alert.labels.items())
    return alerts


# --- alerts -------------------------------------------------------------------------------------

@login_required
def service_alerts(request, slug):
    service = _service(request, slug)
    form = AlertFilterForm(request.GET or None)
    alerts = service.alerts.select_related("incident")
    if form.is_bound and form.is_valid() and form.cleaned_data["status"]:
        alerts = alerts.filter(status=form.cleaned_data["status"])
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    page.object_list = for_display(page.object_list)
    ctx = {"service": service, "form": form, "page": page}
    # htmx polls the same URL and gets only the table back, as on the incident list.
    htmx = request.headers.get("HX-Request") == "true"
    response = render(request, "alerts/_service_alerts.html" if htmx else "alerts/service_alerts.html", ctx)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- integrations -------------------------------------------------------------------------------

def setup_context(integration, key=None):
    """What the setup instructions need; without the key (it is kept only as a hash) they show
    a placeholder where it goes."""
    shown = key or KEY_PLACEHOLDER
    return {"integration": integration, "key": key, "shown_key": shown, "hook_url": integration.url(shown),
            "base_url": settings.BASE_URL}


def _key_page(request, integration, key, heading):
    """The only response that ever holds the key: rendered, not redirected to, and not cached."""
    ctx = {**setup_context(integration, key), "heading": heading, "service": integration.service}
    response = render(request, "alerts/integration_key.html", ctx)
    add_never_cache_headers(response)
    return response


@login_required
def integration_list(request, slug):
    service = _service(request, slug)
    ctx = {"service": service, "integrations": service.integrations.all(),
           "is_admin": has_role(request.user, service.team_id, Role.ADMIN)}
    return render(request, "alerts/integration_list.html", ctx)


@login_required
def integration_new(request, slug):
    service = _service(request, slug, Role.ADMIN)
    form = IntegrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        integration, key = actions.do_create_integration(service, actor=request.user, **form.settings())
        return _key_page(request, integration, key, "Integration added")
    return render(request, "alerts/integration_new.html", {"service": service, "form": form})


@login_required
def integration_detail(request, pk):
    integration = _integration(request, pk)
    is_admin = has_role(request.user, integration.service.team_id, Role.ADMIN)
    form = IntegrationSettingsForm.for_integration(integration, request.POST if request.method == "POST" else None)
    if request.method == "POST":
        require_role(request.user, integration.service.team_id, Role.ADMIN)
        if form.is_valid():
            changes = form.changes()
            if changes:
                actions.do_update_integration(integration, actor=request.user, **changes)
                messages.success(request, "Integration saved.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect(integration)
    ctx = {**setup_context(integration), "service": integration.service, "form": form, "is_admin": is_admin}
    return render(request, "alerts/integration_detail.html", ctx)


@require_POST
@login_required
def integration_enabled(request, pk):
    integration = _integration(request, pk, Role.ADMIN)
    enabled = request.POST.get("enabled") == "on"
    if enabled != integration.enabled:
        actions.do_update_integration(integration, actor=request.user, enabled=enabled)
    if enabled:
        messages.success(request, "Enabled: alerts sent with its key are taken again.")
    else:
        messages.warning(request, "Disabled: requests with its key are refused (404) until you enable it again.")
    return redirect(integration)


@login_required
def integration_rotate(request, pk):
    """GET asks to confirm; POST gives the integration a new key and shows it once."""
    integration = _integration(request, pk, Role.ADMIN)
    if request.method == "POST":
        integration, key = actions.do_rotate_integration_key(integration, actor=request.user)
        return _key_page(request, integration, key, "New key")
    return render(request, "alerts/integration_confirm.html", {"integration": integration, "action": "rotate"})


@login_required
def integration_delete(request, pk):
    """GET asks to confirm; POST deletes. Its alerts stay, without their integration."""
    integration = _integration(request, pk, Role.ADMIN)
    if request.method == "POST":
        service = integration.service
        actions.do_delete_integration(integration, actor=request.user)
        messages.success(request, f"Integration {integration.name} deleted.")
        return redirect("service-integrations", service.slug)
    return render(request, "alerts/integration_confirm.html", {"integration": integration, "action": "delete"})


# --- silences -----------------------------------------------------------------------------------

@login_required
@in_user_time_zone
def service_silences(request, slug):
    service = _service(request, slug)
    can_change = has_role(request.user, service.team_id, Role.RESPONDER)
    form = SilenceForm(request.POST or None,
                       initial={"ends_at": (timezone.now() + timedelta(hours=2)).replace(second=0)})
    if request.method == "POST":
        require_role(request.user, service.team_id, Role.RESPONDER)
        if form.is_valid():
            data = form.cleaned_data
            actions.do_create_silence(service, actor=request.user, matchers=data["matchers"],
                                      starts_at=data["starts_at"], ends_at=data["ends_at"], comment=data["comment"])
            messages.success(request, "Silence created: matching alerts are recorded but page no one.")
            return redirect("service-silences", service.slug)
    now = timezone.now()
    silences = service.silences.select_related("created_by")
    ctx = {
        "service": service, "form": form, "can_change": can_change,
        "active": silences.filter(starts_at__lte=now, ends_at__gt=now),
        "pending": silences.filter(starts_at__gt=now).order_by("starts_at"),
        "expired": silences.filter(ends_at__lte=now).order_by("-ends_at")[:50],
    }
    return render(request, "alerts/silences.html", ctx)


@require_POST
@login_required
def silence_expire(request, pk):
    silence = get_for_user(Silence.objects.select_related("service__team"), request.user, "service__team", pk=pk)
    require_role(request.user, silence.service.team_id, Role.RESPONDER)
    actions.do_expire_silence(silence, actor=request.user)
    messages.success(request, "Silence expired: matching alerts page again.")
    return redirect("service-silences", silence.service.slug)


# --- maintenance windows ------------------------------------------------------------------------

@login_required
@in_user_time_zone
def service_maintenance(request, slug):
    service = _service(request, slug)
    can_change = has_role(request.user, service.team_id, Role.RESPONDER)
    now = timezone.now().replace(second=0, microsecond=0)
    form = MaintenanceWindowForm(request.POST or None,
                                 initial={"starts_at": now, "ends_at": now + timedelta(hours=1)})
    if request.method == "POST":
        require_role(request.user, service.team_id, Role.RESPONDER)
        if form.is_valid():
            data = form.cleaned_data
            actions.do_create_maintenance_window(service, actor=request.user, starts_at=data["starts_at"],
                                                 ends_at=data["ends_at"], reason=data["reason"])
            messages.success(request, "Maintenance window planned: while it runs, the service's alerts page no one.")
            return redirect("service-maintenance", service.slug)
    now = timezone.now()
    windows = service.maintenance_windows.select_related("created_by")
    ctx = {
        "service": service, "form": form, "can_change": can_change,
        "active": windows.filter(starts_at__lte=now, ends_at__gt=now),
        "upcoming": windows.filter(starts_at__gt=now).order_by("starts_at"),
        "past": windows.filter(ends_at__lte=now).order_by("-ends_at")[:50],
    }
    return render(request, "alerts/maintenance.html", ctx)


@require_POST
@login_required
def maintenance_delete(request, pk):
    window = get_for_user(MaintenanceWindow.objects.select_related("service__team"), request.user, "service__team",
                          pk=pk)
    require_role(request.user, window.service.team_id, Role.RESPONDER)
    actions.do_delete_maintenance_window(window, actor=request.user)
    messages.success(request, "Maintenance window deleted.")
    return redirect("service-maintenance", window.service.slug)

