"""The write path for time: log minutes, start and stop a timer, answer an overrun question.
Each is one transaction that locks the incident row first, so two responders logging at once
cannot both be the first past the allowance (and the question is asked once)."""

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from vigil import worker
from vigil.accounts import audit
from vigil.incidents.models import Incident
from vigil.paging.models import Notification

from .models import Kind, Overrun, TimeAllowance, TimeEntry, hours, month_bounds, month_start

FIELDS = ["kind", "minutes", "note", "at", "running"]


class TimerError(Exception):
    """No timer to stop, or one already running (answered as 409)."""


def _lock(incident):
    return (Incident.objects.select_for_update(of=("self",)).select_related("service__project_manager", "team")
            .get(pk=incident.pk))


@transaction.atomic
def do_log_time(incident, *, actor, minutes, kind, note="", at=None):
    incident = _lock(incident)
    entry = TimeEntry.objects.create(incident=incident, user=actor, kind=kind, minutes=minutes, note=note,
                                     at=at or timezone.now())
    incident.add_entry("time_logged", actor=actor, body=f"{hours(minutes)} of {kind} work logged" + (f": {note}" if note else ""),
                       data={"time_entry": entry.pk, "minutes": minutes, "kind": kind})
    audit.record("time_entry.create", entry, actor=actor, team=incident.team, after=audit.snapshot(entry, FIELDS))
    check_overrun(incident, entry)
    return entry


@transaction.atomic
def do_start_timer(incident, *, actor, kind, note=""):
    incident = _lock(incident)
    if TimeEntry.objects.filter(incident=incident, user=actor, running=True).exists():
        raise TimerError("your timer on this incident is already running")
    entry = TimeEntry.objects.create(incident=incident, user=actor, kind=kind, note=note, running=True)
    audit.record("time_entry.start", entry, actor=actor, team=incident.team, after=audit.snapshot(entry, FIELDS))
    return entry


@transaction.atomic
def do_stop_timer(incident, *, actor, now=None):
    incident = _lock(incident)
    entry = TimeEntry.objects.filter(incident=incident, user=actor, running=True).first()
    if entry is None:
        raise TimerError("you have no timer running on this incident")
    entry.minutes, entry.running = entry.running_minutes(now), False
    entry.save(update_fields=["minutes", "running"])
    incident.add_entry("time_logged", actor=actor,
                       body=f"{hours(entry.minutes)} of {entry.kind} work logged by timer" + (f": {entry.note}" if entry.note else ""),
                       data={"time_entry": entry.pk, "minutes": entry.minutes, "kind": entry.kind})
    audit.record("time_entry.stop", entry, actor=actor, team=incident.team, after=audit.snapshot(entry, FIELDS))
    check_overrun(incident, entry)
    return entry


def corrective_minutes(entries):
    return entries.filter(kind=Kind.CORRECTIVE, running=False).aggregate(total=Sum("minutes"))["total"] or 0


def check_overrun(incident, entry):
    """After corrective time was added: ask why if the incident passed its allowance, or the
    service's month passed its approved hours (0 approved hours means no monthly budget).
    Each question is asked once and told to the project manager."""
    if entry.kind != Kind.CORRECTIVE:
        return
    service = incident.service
    allowance = TimeAllowance.minutes_for(service.pk)
    spent = corrective_minutes(TimeEntry.objects.filter(incident=incident))
    if spent > allowance:
        _ask(incident, Overrun.Trigger.ALLOWANCE, month_start(entry.at), spent, allowance)
    approved = int(service.monthly_approved_hours * 60)
    if approved > 0:
        month = month_start(entry.at)
        start, end = month_bounds(month)
        used = corrective_minutes(TimeEntry.objects.filter(incident__service=service, at__gte=start, at__lt=end))
        if used > approved:
            _ask(incident, Overrun.Trigger.BUDGET, month, used, approved)


def _ask(incident, trigger, month, spent, limit):
    lookup = {"incident": incident, "trigger": trigger}
    if trigger == Overrun.Trigger.BUDGET:
        lookup["month"] = month
    if Overrun.objects.filter(**lookup).exists():
        return None
    overrun = Overrun.objects.create(corrective_minutes=spent, limit_minutes=limit, **{"month": month, **lookup})
    manager = incident.service.project_manager
    told = ""
    if manager is not None and manager.is_active and manager.email:
        _tell_project_manager(incident, overrun, manager)
        told = f" {manager} (project manager) is told by email."
    incident.add_entry("time_overrun", actor=None, body=f"{overrun.question} A reason is asked.{told}",
                       data={"overrun": overrun.pk, "trigger": trigger, "minutes": spent, "limit_minutes": limit})
    return overrun


def _tell_project_manager(incident, overrun, manager):
    """Into the paging outbox, in this transaction: delivered (and retried) by the worker."""
    url = settings.BASE_URL + incident.get_absolute_url()
    now = timezone.now()
    Notification.objects.bulk_create([Notification(
        incident=incident, user=manager, kind="email", address=manager.email, reason="time overrun",
        subject=f"[Vigil] Corrective time over {overrun.get_trigger_display()}: #{incident.number} {incident.title} ({incident.service.name})",
        text=(f"Hello {manager},\n\nOn incident #{incident.number} \"{incident.title}\" of {incident.service.name}:\n"
              f"{overrun.question}\n\nThe responders are asked for a reason; it will be on the incident page:\n{url}\n"),
        due_at=now, created_at=now, idempotency_key=f"inc{incident.pk}:overrun{overrun.pk}:u{manager.pk}",
    )], ignore_conflicts=True)
    transaction.on_commit(worker.wake)


@transaction.atomic
def do_answer_overrun(overrun, *, actor, reason, text=""):
    incident = _lock(overrun.incident)
    overrun = Overrun.objects.select_for_update().get(pk=overrun.pk)
    before = audit.snapshot(overrun, ["reason", "reason_text"])
    overrun.reason, overrun.reason_text = reason, text
    overrun.answered_by, overrun.answered_at = actor, timezone.now()
    overrun.save(update_fields=["reason", "reason_text", "answered_by", "answered_at"])
    label = overrun.get_reason_display() + (f": {text}" if text else "")
    incident.add_entry("time_overrun", actor=actor, body=f"Reason for the time over {overrun.get_trigger_display()}: {label}",
                       data={"overrun": overrun.pk, "reason": reason})
    audit.record("time_overrun.answer", overrun, actor=actor, team=incident.team, before=before,
                 after=audit.snapshot(overrun, ["reason", "reason_text"]))
    return overrun


@transaction.atomic
def do_set_allowance(service, *, actor, incident_minutes):
    allowance, _ = TimeAllowance.objects.select_for_update().get_or_create(service=service)
    before = {"incident_minutes": allowance.incident_minutes}
    allowance.incident_minutes = incident_minutes
    allowance.save(update_fields=["incident_minutes"])
    audit.record("time_allowance.set", allowance, actor=actor, team=service.team, before=before,
                 after={"incident_minutes": incident_minutes})
    return allowance
