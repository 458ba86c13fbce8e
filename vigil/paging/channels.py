"""Delivery: email (Django's SMTP backend), signed JSON webhooks, and every other channel through
Apprise. `deliver` returns (ok, detail) and never raises: the outbox decides what a failure means."""

import hashlib
import hmac
import json
import time
import urllib.parse
from dataclasses import dataclass, field

import apprise
import requests
from django.conf import settings
from django.core import mail
from django.template.loader import render_to_string

from .links import action_url

TIMEOUT_SECONDS = 10


@dataclass
class Message:
    subject: str
    text: str
    data: dict = field(default_factory=dict)  # the JSON a webhook receives
    idempotency_key: str = ""


def page_message(notification):
    incident = notification.incident
    drill = "[DRILL] " if incident.is_drill else ""
    incident_url = settings.BASE_URL + incident.get_absolute_url()
    acknowledge_url = action_url(incident, "acknowledge", notification.user)
    resolve_url = action_url(incident, "resolve", notification.user)
    escalate_url = action_url(incident, "escalate", notification.user)
    text = render_to_string("paging/page.txt", {
        "incident": incident, "notification": notification, "drill": drill, "incident_url": incident_url,
        "acknowledge_url": acknowledge_url, "resolve_url": resolve_url, "escalate_url": escalate_url,
    })
    data = {
        "event": "incident.page",
        "idempotency_key": notification.idempotency_key,
        "reason": notification.reason,
        "incident": {
            "id": incident.pk, "number": incident.number, "title": incident.title, "status": incident.status,
            "severity": incident.severity, "service": incident.service.name, "is_drill": incident.is_drill,
            "url": incident_url,
        },
        "actions": {"acknowledge": acknowledge_url, "resolve": resolve_url, "escalate": escalate_url},
        "user": {"id": notification.user.pk, "name": str(notification.user), "email": notification.user.email},
    }
    subject = f"{drill}[Vigil] #{incident.number} {incident.severity.upper()} {incident.title} ({incident.service.name})"
    return Message(subject, text, data, notification.idempotency_key)


def other_message(notification):
    incident = notification.incident
    data = {"event": "incident.message", "idempotency_key": notification.idempotency_key, "reason": notification.reason,
            "subject": notification.subject, "text": notification.text,
            "incident": {"id": incident.pk, "number": incident.number, "title": incident.title,
                         "url": settings.BASE_URL + incident.get_absolute_url()}}
    return Message(notification.subject, notification.text, data, notification.idempotency_key)


def send(notification):
    method = notification.contact_method
    message = page_message(notification) if notification.is_page else other_message(notification)
    return deliver(notification.kind, notification.address, message,
                   secret=method.signing_secret if method else "")


def deliver(kind, address, message, secret=""):
    try:
        return SENDERS[kind](address, message, secret)
    except Exception as e:  # a channel's failure is a failed attempt, never a crashed worker
        return False, f"{type(e).__name__}: {e}"


def send_email(address, message, secret):
    if not settings.SMTP_URL:
        return False, "email is disabled: VIGIL_SMTP_URL is not set"
    url = urllib.parse.urlsplit(settings.SMTP_URL)
    connection = mail.get_connection(
        "django.core.mail.backends.smtp.EmailBackend", host=url.hostname, port=url.port or 25,
        username=urllib.parse.unquote(url.username or ""), password=urllib.parse.unquote(url.password or ""),
        use_ssl=url.scheme == "smtps", timeout=TIMEOUT_SECONDS,
    )
    headers = {"X-Vigil-Idempotency-Key": message.idempotency_key} if message.idempotency_key else {}
    mail.EmailMessage(message.subject, message.text, settings.EMAIL_FROM, [address],
                      connection=connection, headers=headers).send()
    return True, f"accepted by {url.hostname}"


def sign(secret, timestamp, body):
    """HMAC-SHA256 of "<timestamp>.<body>" (as Stripe and Slack sign theirs): the timestamp in the
    signed text stops an old request from being replayed later."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def send_webhook(address, message, secret):
    body = json.dumps(message.data or {"event": "test", "text": message.text}).encode()
    timestamp = str(int(time.time()))
    response = requests.post(
        address, data=body, timeout=TIMEOUT_SECONDS, allow_redirects=False,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Vigil",
            "Idempotency-Key": message.idempotency_key,
            "X-Vigil-Timestamp": timestamp,
            "X-Vigil-Signature": "v1=" + sign(secret, timestamp, body),
        },
    )
    return 200 <= response.status_code < 300, f"HTTP {response.status_code}"


def send_apprise(address, message, secret):
    notifier = apprise.Apprise()
    if not notifier.add(address):
        return False, "not a valid Apprise URL"
    ok = notifier.notify(title=message.subject, body=message.text)
    return bool(ok), "sent" if ok else "the service refused or could not be reached"


SENDERS = {"email": send_email, "webhook": send_webhook, "apprise": send_apprise}
