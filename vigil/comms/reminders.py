"""The update reminder of each open incident: a timer row (UpdateReminder.due_at) set from the
last update (or the opening) plus the severity's quiet period, kept current by listening to the
incident's changes, and claimed by the worker (jobs.remind_quiet_incident)."""

from datetime import timedelta

from django.dispatch import receiver
from django.utils import timezone

from vigil.incidents.signals import incident_changed

from .models import CommsSettings, UpdateReminder


@receiver(incident_changed)
def on_incident_changed(sender, incident, action, **extra):
    # Severity (in "update") sets the period; opening, reopening and resolving start or stop it.
    if action == "create":
        schedule(incident, new=True)
    elif action in ("update", "reopen", "resolve"):
        schedule(incident)


def last_update_at(incident):
    """When stakeholders last heard: the latest update, else when the incident was (re)opened."""
    latest = incident.stakeholder_updates.order_by("-posted_at").values_list("posted_at", flat=True).first()
    return max(t for t in (latest, incident.created_at, incident.reopened_at) if t is not None)


def schedule(incident, new=False):
    """Set the incident's reminder: due one quiet period after the last update, or none. Call
    inside the transaction of the change. Idempotent. `new`: the incident has just opened, so it
    has neither updates nor a reminder yet."""
    minutes = CommsSettings.of(incident.service).minutes_for(incident.severity)
    due = None
    if incident.is_open and minutes:
        due = (incident.created_at if new else last_update_at(incident)) + timedelta(minutes=minutes)
    if new:
        UpdateReminder.objects.create(incident=incident, due_at=due, quiet_minutes=minutes)
    else:
        UpdateReminder.objects.update_or_create(incident=incident, defaults={"due_at": due, "quiet_minutes": minutes})
    return due


def quiet_for(incident, now=None):
    """Minutes since stakeholders last heard about the incident."""
    return int(((now or timezone.now()) - last_update_at(incident)).total_seconds() // 60)
