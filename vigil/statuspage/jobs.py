"""The worker's status page work: start and end maintenances on time, and deliver the outbox of
subscriber messages (at least once, retried with backoff; the idempotency key lets a receiver drop
a repeat). As in paging, a message is claimed (`sending`, with a deadline), sent, then recorded."""

import logging
import urllib.parse
from datetime import timedelta

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from vigil.paging import channels
from vigil.paging.jobs import backoff
from vigil.worker import claim_one, job

from . import services
from .documents import PageState, iso
from .models import SubscriberMessage

log = logging.getLogger("vigil.statuspage")

MAX_ATTEMPTS = 5


@job
def advance_due_maintenance(now=None):
    return services.advance_maintenances(now)


@job
def deliver_subscriber_message(now=None):
    now = now or timezone.now()
    due = (SubscriberMessage.objects.filter(Q(state=SubscriberMessage.State.PENDING, due_at__lte=now)
                                            | Q(state=SubscriberMessage.State.SENDING, sending_deadline__lt=now))  # a worker died mid-send
           .select_related("subscriber__page", "update__public_incident"))
    with claim_one(due, ["due_at"]) as message:
        if message is None:
            return False
        message.state = SubscriberMessage.State.SENDING
        message.attempts += 1
        message.sending_deadline = now + timedelta(seconds=settings.SENDING_DEADLINE_SECONDS)
        message.save(update_fields=["state", "attempts", "sending_deadline"])

    claimed = message.attempts
    ok, detail = send(message)

    with transaction.atomic():
        current = SubscriberMessage.objects.select_for_update().get(pk=message.pk)
        if current.state != SubscriberMessage.State.SENDING or current.attempts != claimed:
            return True  # our claim ran out and another worker took it over: its outcome stands
        now = timezone.now()
        if ok:
            current.state, current.sent_at, current.last_error = SubscriberMessage.State.SENT, now, ""
        elif current.attempts < MAX_ATTEMPTS:
            current.state, current.due_at, current.last_error = SubscriberMessage.State.PENDING, now + backoff(current.attempts), detail
        else:
            current.state, current.last_error = SubscriberMessage.State.FAILED, detail
            log.warning("gave up on subscriber message %s after %s attempts: %s", current.pk, current.attempts, detail)
        current.sending_deadline = None
        current.save(update_fields=["state", "sent_at", "due_at", "last_error", "sending_deadline"])
    return True


def _link(name, *args):
    return settings.BASE_URL + reverse(name, args=args)


def send(message):
    subscriber, update = message.subscriber, message.update
    page = subscriber.page
    unsubscribe_url = _link("statuspage-unsubscribe", page.slug, services.unsubscribe_token(subscriber))
    if update is None:
        subject = f"Confirm your subscription to {page.name}"
        text = render_to_string("statuspage/confirm.txt", {
            "page": page, "confirm_url": _link("statuspage-confirm", page.slug, services.confirm_token(subscriber)),
            "unsubscribe_url": unsubscribe_url})
    else:
        public = update.public_incident
        subject = f"[{page.name}] {public.name}: {update.status.replace('_', ' ')}"
        text = render_to_string("statuspage/update.txt", {
            "page": page, "incident": public, "update": update, "unsubscribe_url": unsubscribe_url,
            "page_url": page.public_url()})
    if subscriber.kind == "email":
        return send_email(subscriber.address, subject, text, message.idempotency_key, unsubscribe_url)
    data = {
        "meta": {"unsubscribe": unsubscribe_url, "idempotency_key": message.idempotency_key, "generated_at": iso(timezone.now())},
        "page": {"id": page.code, "status_indicator": None, "status_description": None},
    }
    if update is not None:
        state = PageState(page)
        data["page"].update(status_indicator=state.indicator, status_description=state.description)
        data["incident"] = next((state.incident_json(i) for i in state.incidents + state.maintenances
                                 if i.pk == update.public_incident_id), None)
    return channels.deliver("webhook", subscriber.address,
                            channels.Message(subject, text, data, message.idempotency_key), secret=subscriber.signing_secret)


def send_email(address, subject, text, idempotency_key, unsubscribe_url):
    """Like paging's email channel, plus List-Unsubscribe (RFC 8058: one click in the mail client)."""
    try:
        if not settings.SMTP_URL:
            return False, "email is disabled: VIGIL_SMTP_URL is not set"
        url = urllib.parse.urlsplit(settings.SMTP_URL)
        connection = mail.get_connection(
            "django.core.mail.backends.smtp.EmailBackend", host=url.hostname, port=url.port or 25,
            username=urllib.parse.unquote(url.username or ""), password=urllib.parse.unquote(url.password or ""),
            use_ssl=url.scheme == "smtps", timeout=channels.TIMEOUT_SECONDS)
        headers = {"X-Vigil-Idempotency-Key": idempotency_key, "List-Unsubscribe": f"<{unsubscribe_url}>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        mail.EmailMessage(subject, text, settings.EMAIL_FROM, [address], connection=connection, headers=headers).send()
        return True, f"accepted by {url.hostname}"
    except Exception as e:  # a failure is a failed attempt, never a crashed worker
        return False, f"{type(e).__name__}: {e}"
