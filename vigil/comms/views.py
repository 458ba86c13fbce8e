"""The pages of stakeholder communication: a service's stakeholders and settings, and the incident
page's Stakeholder updates panel (posting, the template draft htmx fetches, the history)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.catalog.models import Service
from vigil.incidents.models import Incident, Status

from . import actions
from .forms import SettingsForm, StakeholderForm, UpdateForm
from .models import CommsSettings, Stakeholder, StakeholderUpdate, UpdateReminder, UpdateStatus, draft
from .reminders import quiet_for

# The update a responder most likely writes next, by the incident's status.
SUGGESTED = {Status.TRIGGERED: UpdateStatus.INVESTIGATING, Status.ACKNOWLEDGED: UpdateStatus.INVESTIGATING,
             Status.MITIGATED: UpdateStatus.MONITORING, Status.RESOLVED: UpdateStatus.RESOLVED}


def incident_updates_context(incident, can_respond):
    """For comms/_incident_updates.html, included in the incident page."""
    updates = list(StakeholderUpdate.objects.filter(incident=incident).select_related("posted_by").prefetch_related("messages")[:20])
    reminder = UpdateReminder.objects.filter(incident=incident).first()
    status = SUGGESTED[incident.status]
    return {"comms": {
        "updates": updates,
        "recipients": actions.recipients(incident),
        "quiet_minutes": quiet_for(incident) if incident.is_open else None,
        "next_reminder_at": reminder.due_at if reminder else None,
        "form": UpdateForm(prefix="update", initial={"status": status, "body": draft(incident, status)}) if can_respond else None,
    }}


def _responder_incident(request, pk):
    incident = get_for_user(Incident.objects.select_related("service", "team"), request.user, pk=pk)
    require_role(request.user, incident.team_id, Role.RESPONDER)
    return incident


@require_POST
@login_required
def post_update(request, pk):
    incident = _responder_incident(request, pk)
    form = UpdateForm(request.POST, prefix="update")
    if form.is_valid() and form.cleaned_data["body"].strip():
        update = actions.do_post_update(incident, actor=request.user, status=form.cleaned_data["status"],
                                        body=form.cleaned_data["body"].strip())
        count = update.messages.count()
        messages.success(request, f"Update posted; sending to {count} stakeholder{'s' if count != 1 else ''}." if count
                         else "Update posted on the timeline. The service has no stakeholders to send it to yet.")
    else:
        messages.error(request, "Not posted: choose a status and write the update.")
    return redirect(reverse("incident-detail", args=[incident.pk]) + "#updates")


@login_required
def update_draft(request, pk):
    """The body textarea filled from the template of the chosen status (htmx swaps it in)."""
    incident = get_for_user(Incident.objects.select_related("service", "team"), request.user, pk=pk)
    status = request.GET.get("update-status")
    if status not in UpdateStatus.values:
        status = SUGGESTED[incident.status]
    form = UpdateForm(prefix="update", initial={"status": status, "body": draft(incident, status)})
    return render(request, "comms/_update_body.html", {"field": form["body"]})


# --- a service's stakeholders and settings --------------------------------------------------------


@login_required
def service_stakeholders(request, slug):
    service = get_for_user(Service.objects.select_related("team"), request.user, slug=slug)
    can_edit = has_role(request.user, service.team_id, Role.RESPONDER)
    comms = CommsSettings.of(service)
    adding, saving = "add" in request.POST, "save-settings" in request.POST
    if request.method == "POST":
        require_role(request.user, service.team_id, Role.RESPONDER)
    form = StakeholderForm(request.POST if adding else None, service=service)
    settings_form = SettingsForm(request.POST if saving else None, comms=comms)
    if adding and form.is_valid():
        stakeholder = actions.do_create_stakeholder(service, actor=request.user, **form.cleaned_data)
        messages.success(request, f"{stakeholder.name} will hear about {service.name}'s incidents.")
        return redirect("service-stakeholders", service.slug)
    if saving and settings_form.is_valid():
        minutes, templates = settings_form.settings()
        actions.do_save_comms_settings(service, actor=request.user, reminder_minutes=minutes, templates=templates)
        messages.success(request, "Reminders and templates saved.")
        return redirect("service-stakeholders", service.slug)
    return render(request, "comms/stakeholders.html", {
        "service": service, "stakeholders": service.stakeholders.all(), "can_edit": can_edit,
        "form": form, "settings_form": settings_form,
    })


@require_POST
@login_required
def delete_stakeholder(request, slug, pk):
    stakeholder = get_object_or_404(for_user(Stakeholder.objects.select_related("service__team"), request.user, "service__team"),
                                    service__slug=slug, pk=pk)
    require_role(request.user, stakeholder.service.team_id, Role.RESPONDER)
    actions.do_delete_stakeholder(stakeholder, actor=request.user)
    messages.success(request, f"{stakeholder.name} removed.")
    return redirect("service-stakeholders", slug)
