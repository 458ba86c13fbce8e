"""The worker's units of paging work. Each claims one row with a row lock (SKIP LOCKED, so any
number of workers share the work), does it, and commits; none holds a lock across the network:
a notification is claimed (state `sending`, with a deadline), sent, then recorded. Rows are
claimed with worker.claim_one."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vigil.incidents.models import Status, TimelineEntry
from vigil.worker import claim_one, job

from . import channels, engine
from .models import DeliveryAttempt, Escalation, Notification

log = logging.getLogger("vigil.paging")

MAX_ATTEMPTS = 5


def backoff(attempts):
    """Wait before the next attempt: 10 s, 20 s, 40 s, 80 s... at most 10 minutes."""
    return timedelta(seconds=min(600, 10 * 2 ** (attempts - 1)))


@job
def step_due_escalation(now=None):
    """Page the next level of one escalation whose time has come."""
    now = now or timezone.now()
    due = Escalation.objects.filter(active=True, next_step_at__lte=now).select_related("incident__service")
    with claim_one(due, ["next_step_at"]) as escalation:
        if escalation is None:
            return False
        engine.run_step(escalation, now)
    return True


@job
def deliver_due_notification(now=None):
    """Send one notification from the outbox; at least once, retried with backoff."""
    now = now or timezone.now()
    due = (Notification.objects.filter(state=Notification.State.PENDING, due_at__lte=now)
           .select_related("incident__service", "user", "contact_method"))
    with claim_one(due, ["due_at"]) as notification:
        if notification is None:
            return False
        if _answered_since(notification):
            notification.state = Notification.State.CANCELLED
            notification.save(update_fields=["state"])
            return True
        notification.state = Notification.State.SENDING
        notification.attempts += 1
        notification.sending_deadline = now + timedelta(seconds=settings.SENDING_DEADLINE_SECONDS)
        notification.save(update_fields=["state", "attempts", "sending_deadline"])

    claimed_attempt = notification.attempts
    ok, detail = channels.send(notification)

    with transaction.atomic():
        current = Notification.objects.select_for_update().select_related("incident", "user").get(pk=notification.pk)
        if current.state == Notification.State.SENDING and current.attempts == claimed_attempt:
            _record(current, ok, detail, timezone.now())
        else:
            # Our claim ran out mid-send and another worker took the page over: keep its outcome.
            DeliveryAttempt.objects.create(notification=current, ok=ok, detail=f"(late, claim expired) {detail}"[:2000])
            if ok and current.state == Notification.State.PENDING:
                current.state, current.sent_at = Notification.State.SENT, timezone.now()
                current.save(update_fields=["state", "sent_at"])
    return True


def _answered_since(notification):
    """Whether the page is no longer wanted: the incident resolved, or someone acknowledged or
    mitigated it after this page was decided (a page asked for on an owned incident still goes)."""
    incident = notification.incident
    if not notification.is_page:
        return False
    if incident.status == Status.RESOLVED:
        return True
    answered = [t for t in (incident.acknowledged_at, incident.mitigated_at) if t is not None]
    return incident.status != Status.TRIGGERED and any(t > notification.created_at for t in answered)


def _record(notification, ok, detail, now):
    DeliveryAttempt.objects.create(notification=notification, at=now, ok=ok, detail=detail[:2000])
    incident, who = notification.incident, f"{notification.user} by {notification.get_kind_display().split(' (')[0]}"
    attempt = f"attempt {notification.attempts} of {MAX_ATTEMPTS}"
    if ok:
        notification.state, notification.sent_at = Notification.State.SENT, now
        body = f"Delivered to {who}" + (f" ({attempt})" if notification.attempts > 1 else "")
    elif notification.attempts < MAX_ATTEMPTS:
        notification.state, notification.due_at = Notification.State.PENDING, now + backoff(notification.attempts)
        body = f"Delivery to {who} failed ({attempt}): {detail}. Retrying in {backoff(notification.attempts).seconds} s."
    else:
        notification.state = Notification.State.FAILED
        body = f"Could not reach {who} after {MAX_ATTEMPTS} attempts: {detail}."
    notification.last_error = "" if ok else detail[:2000]
    notification.sending_deadline = None
    notification.save(update_fields=["state", "sent_at", "due_at", "last_error", "sending_deadline"])
    incident.add_entry(TimelineEntry.Kind.DELIVERY, actor=None, at=now, body=body,
                       data={"notification": notification.pk, "ok": ok, "attempt": notification.attempts})
    if notification.state == Notification.State.FAILED:
        engine.escalate_after_failure(notification, now)


@job
def requeue_stuck_notification(now=None):
    """A worker died while sending: its claim ran out, so the notification is due again."""
    now = now or timezone.now()
    with claim_one(Notification.objects.filter(state=Notification.State.SENDING, sending_deadline__lt=now)) as stuck:
        if stuck is None:
            return False
        stuck.state, stuck.due_at, stuck.sending_deadline = Notification.State.PENDING, now, None
        stuck.save(update_fields=["state", "due_at", "sending_deadline"])
        log.warning("notification %s was stuck in sending; due again", stuck.pk)
    return True
