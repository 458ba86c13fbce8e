"""The worker's units of stakeholder communication: remind a quiet incident, deliver one message,
take back a message whose sender died. Each claims its row with a row lock (SKIP LOCKED) and
commits; no lock is held across the network: a message is claimed (`sending`, with a deadline),
sent, then recorded, as paging does with pages."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vigil.incidents.models import IncidentRole, RoleAssignment, TimelineEntry
from vigil.paging import channels
from vigil.paging.engine import ways_to_reach
from vigil.paging.jobs import MAX_ATTEMPTS, backoff
from vigil.worker import claim_one, job

from .models import Message, UpdateReminder, minutes_text, one_line
from .reminders import quiet_for

log = logging.getLogger("vigil.comms")


@job
def remind_quiet_incident(now=None):
    """An open incident whose stakeholders have heard nothing for its quiet period: say so on the
    timeline, remind its commander and communications lead, and set the next reminder one quiet
    period later (it repeats until someone posts an update)."""
    now = now or timezone.now()
    due = UpdateReminder.objects.filter(due_at__lte=now).select_related("incident__service", "incident__team")
    with claim_one(due, ["due_at"]) as reminder:
        if reminder is None:
            return False
        incident = reminder.incident
        if not incident.is_open or not reminder.quiet_minutes:
            reminder.due_at = None
            reminder.save(update_fields=["due_at"])
            return True
        quiet = quiet_for(incident, now)
        holders = list(RoleAssignment.objects.filter(
            incident=incident, ended_at=None, role__in=[IncidentRole.COMMANDER, IncidentRole.COMMUNICATIONS])
            .select_related("user").order_by("role"))
        people = {}
        for holder in holders:
            people.setdefault(holder.user, []).append(holder.get_role_display().lower())
        subject = one_line(f"Post an update: #{incident.number} {incident.title} ({incident.service.name})")
        text = (f"Stakeholders of {incident.service.name} have heard nothing about incident #{incident.number} "
                f"({incident.severity.upper()}, {incident.get_status_display().lower()}) for {minutes_text(quiet)}.\n"
                f"Post an update: {settings.BASE_URL}{incident.get_absolute_url()}#updates\n")
        rows = []
        for user, roles in people.items():
            for method, _delay in ways_to_reach(user):
                rows.append(Message(
                    incident=incident, user=user, contact_method=method, recipient=str(user),
                    kind=method.kind if method else "email", address=method.address if method else user.email,
                    subject=subject, text=text, due_at=now, created_at=now,
                    idempotency_key=f"remind{incident.pk}:{reminder.reminded + 1}:u{user.pk}:m{method.pk if method else 0}",
                ))
        Message.objects.bulk_create(rows, ignore_conflicts=True)
        who = "; ".join(f"{u} ({', '.join(r)})" for u, r in people.items())
        body = f"No stakeholder update for {minutes_text(quiet)}: post one. " + (
            f"Reminded {who}." if people else "Nobody is commander or communications lead to remind.")
        incident.add_entry(TimelineEntry.Kind.UPDATE_REMINDER, actor=None, at=now, body=body,
                           data={"quiet_minutes": quiet, "reminded": [u.pk for u in people]})
        reminder.reminded += 1
        reminder.last_reminded_at = now
        reminder.due_at = now + timedelta(minutes=reminder.quiet_minutes)
        reminder.save(update_fields=["reminded", "last_reminded_at", "due_at"])
    return True


@job
def deliver_due_message(now=None):
    """Send one message from the outbox; at least once, retried with backoff."""
    now = now or timezone.now()
    due = Message.objects.filter(state=Message.State.PENDING, due_at__lte=now).select_related("contact_method")
    with claim_one(due, ["due_at"]) as message:
        if message is None:
            return False
        message.state = Message.State.SENDING
        message.attempts += 1
        message.sending_deadline = now + timedelta(seconds=settings.SENDING_DEADLINE_SECONDS)
        message.save(update_fields=["state", "attempts", "sending_deadline"])

    claimed_attempt = message.attempts
    outgoing = channels.Message(message.subject, message.text, _webhook_body(message), message.idempotency_key)
    secret = message.contact_method.signing_secret if message.contact_method else ""
    ok, detail = channels.deliver(message.kind, message.address, outgoing, secret=secret)

    with transaction.atomic():
        current = Message.objects.select_for_update().select_related("incident").get(pk=message.pk)
        if current.state == Message.State.SENDING and current.attempts == claimed_attempt:
            _record(current, ok, detail, timezone.now())
        elif ok and current.state == Message.State.PENDING:
            # Our claim ran out mid-send and the message was taken back: it did go, so it is sent.
            current.state, current.sent_at = Message.State.SENT, timezone.now()
            current.save(update_fields=["state", "sent_at"])
    return True


def _webhook_body(message):
    return {"event": "incident.update_reminder" if message.update_id is None else "incident.stakeholder_update",
            "idempotency_key": message.idempotency_key, "incident_id": message.incident_id,
            "subject": message.subject, "text": message.text}


def _record(message, ok, detail, now):
    if ok:
        message.state, message.sent_at, message.last_error = Message.State.SENT, now, ""
    elif message.attempts < MAX_ATTEMPTS:
        message.state, message.due_at, message.last_error = Message.State.PENDING, now + backoff(message.attempts), detail[:2000]
    else:
        message.state, message.last_error = Message.State.FAILED, detail[:2000]
        what = "the update" if message.update_id else "the update reminder"
        message.incident.add_entry(TimelineEntry.Kind.DELIVERY, actor=None, at=now,
                                   body=f"Could not deliver {what} to {message.recipient} after {MAX_ATTEMPTS} attempts: {detail}.",
                                   data={"comms_message": message.pk, "ok": False})
    message.sending_deadline = None
    message.save(update_fields=["state", "sent_at", "due_at", "last_error", "sending_deadline"])


@job
def requeue_stuck_message(now=None):
    """A worker died while sending: its claim ran out, so the message is due again."""
    now = now or timezone.now()
    with claim_one(Message.objects.filter(state=Message.State.SENDING, sending_deadline__lt=now)) as stuck:
        if stuck is None:
            return False
        stuck.state, stuck.due_at, stuck.sending_deadline = Message.State.PENDING, now, None
        stuck.save(update_fields=["state", "due_at", "sending_deadline"])
        log.warning("stakeholder message %s was stuck in sending; due again", stuck.pk)
    return True
