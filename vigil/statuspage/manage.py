"""The team's side: status pages, their components, maintenances, subscribers, and the incident
page's "Status pages" section (public updates)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from vigil.accounts import audit
from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, has_role, is_any_team_admin, require_role
from vigil.incidents.models import Incident

from . import services
from .documents import PageState
from .forms import (
    ComponentForm,
    MaintenanceForm,
    MaintenanceUpdateForm,
    PageForm,
    PublicUpdateForm,
    SubscriberForm,
)
from .models import StatusPage


def pages_for(user):
    return for_user(StatusPage.objects.select_related("team"), user)


def _page(request, slug, role=None):
    page = get_for_user(pages_for(request.user), request.user, slug=slug)
    if role:
        require_role(request.user, page.team_id, role)
    return page


@login_required
def page_list(request):
    return render(request, "statuspage/manage_list.html", {
        "pages": pages_for(request.user).order_by("team__name", "name"), "can_create": is_any_team_admin(request.user)})


@login_required
def page_new(request):
    if not is_any_team_admin(request.user):
        raise PermissionDenied("only team admins can add status pages")
    form = PageForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        require_role(request.user, form.cleaned_data["team"].pk, Role.ADMIN)
        with transaction.atomic():
            page = form.save()
            audit.record("statuspage.create", page, actor=request.user, team=page.team, after={"slug": page.slug, "name": page.name})
        messages.success(request, f"Status page {page.name} added. Add its components next.")
        return redirect(page)
    return render(request, "statuspage/manage_form.html", {"form": form})


@login_required
def page_edit(request, slug):
    page = _page(request, slug, Role.ADMIN)
    form = PageForm(request.POST or None, request.FILES or None, instance=page, user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            page = form.save()
            page.touch()
            audit.record("statuspage.update", page, actor=request.user, team=page.team,
                         after={f: form.cleaned_data.get(f) for f in form.changed_data if f not in ("logo_file",)})
        messages.success(request, "Status page saved.")
        return redirect(page)
    return render(request, "statuspage/manage_form.html", {"form": form, "page": page})


@login_required
def page_manage(request, slug):
    page = _page(request, slug)
    state = PageState(page)
    can_respond = has_role(request.user, page.team_id, Role.RESPONDER)
    return render(request, "statuspage/manage_detail.html", {
        "page": page, "state": state, "can_edit": has_role(request.user, page.team_id, Role.ADMIN),
        "can_respond": can_respond,
        "component_form": ComponentForm(page=page), "maintenance_form": MaintenanceForm(page=page),
        "maintenance_update_form": MaintenanceUpdateForm(), "subscriber_form": SubscriberForm(page=page),
        "subscribers": page.subscribers.prefetch_related("components"),
        "new_secret": request.session.pop(f"statuspage-secret-{page.pk}", None),
    })


@login_required
def component_add(request, slug):
    return component_edit(request, slug, None)


@login_required
def component_edit(request, slug, pk):
    page = _page(request, slug, Role.ADMIN)
    component = get_object_or_404(page.components, pk=pk) if pk else None
    if request.method == "POST" and request.POST.get("delete") and component:
        with transaction.atomic():
            component.delete()
            page.touch()
        messages.success(request, f"Component {component.name} removed.")
        return redirect(page)
    form = ComponentForm(request.POST or None, instance=component, page=page)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            component = form.save()
            services.refresh_components([component])
            page.touch()
            audit.record("statuspage.component", component, actor=request.user, team=page.team,
                         after={"name": component.name, "service": component.service_id, "override": component.status_override})
        messages.success(request, f"Component {component.name} saved.")
        return redirect(page)
    return render(request, "statuspage/manage_component.html", {"form": form, "page": page, "component": component})


@login_required
def maintenance_new(request, slug):
    page = _page(request, slug, Role.RESPONDER)
    form = MaintenanceForm(request.POST or None, page=page)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        maintenance = services.schedule_maintenance(
            page, name=d["name"], components=list(d["components"]), scheduled_for=d["scheduled_for"],
            scheduled_until=d["scheduled_until"], body=d["body"], actor=request.user)
        messages.success(request, f"Maintenance “{maintenance.name}” scheduled; alerts of its services are silenced during it.")
        return redirect(page)
    return render(request, "statuspage/manage_maintenance.html", {"form": form, "page": page})


@require_POST
@login_required
def maintenance_update(request, slug, pk):
    page = _page(request, slug, Role.RESPONDER)
    maintenance = get_object_or_404(page.incidents.filter(scheduled_for__isnull=False), pk=pk)
    form = MaintenanceUpdateForm(request.POST)
    if form.is_valid():
        try:
            services.post_maintenance_update(maintenance, status=form.cleaned_data["status"], body=form.cleaned_data["body"],
                                             actor=request.user)
            messages.success(request, "Maintenance updated.")
        except services.NotAllowed as e:
            messages.warning(request, f"Not done: {e}.")
    else:
        messages.error(request, "Choose a status from the list.")
    return redirect(page)


@require_POST
@login_required
def subscriber_add(request, slug):
    page = _page(request, slug, Role.RESPONDER)
    if request.POST.get("remove"):
        page.subscribers.filter(pk=request.POST["remove"]).delete()
        messages.success(request, "Subscriber removed.")
        return redirect(page)
    form = SubscriberForm(request.POST, page=page)
    if form.is_valid():
        d = form.cleaned_data
        services.subscribe(page, kind=d["kind"], address=d["address"], components=list(d["components"]),
                           confirmed=d["kind"] == "webhook")
        messages.success(request, "Subscriber added." if d["kind"] == "webhook" else
                         "A confirmation mail is on its way: the subscription starts when it is confirmed.")
    else:
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
    return redirect(page)


@require_POST
@login_required
def secret_link(request, slug):
    page = _page(request, slug, Role.ADMIN)
    raw = page.new_secret()
    page.save(update_fields=["secret_hash"])
    # Shown once, on the next page view, and never stored in clear.
    request.session[f"statuspage-secret-{page.pk}"] = page.public_url() + f"?key={raw}"
    messages.success(request, "New secret link made: the old one no longer works.")
    return redirect(page)


def pages_for_incident(incident):
    """The status pages a responder of the incident may post to: those of the incident's team."""
    return StatusPage.objects.filter(team_id=incident.team_id)


@require_POST
@login_required
def incident_public_update(request, pk):
    incident = get_for_user(for_user(Incident.objects.select_related("service"), request.user), request.user, pk=pk)
    require_role(request.user, incident.team_id, Role.RESPONDER)
    form = PublicUpdateForm(request.POST, pages=pages_for_incident(incident))
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.post_public_update(incident, page=d["page"], status=d["status"], body=d["body"],
                                        name=d["name"] or None, actor=request.user)
            messages.success(request, f"Published on {d['page'].name}.")
        except services.NotAllowed as e:
            messages.warning(request, f"Not published: {e}.")
    else:
        messages.error(request, "Not published: " + "; ".join(e for errors in form.errors.values() for e in errors))
    return redirect(incident)
