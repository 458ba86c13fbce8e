"""Stakeholder communication: who hears about a service's incidents, the updates posted to them,
the outbox those updates (and reminders to post one) go through, and the reminder timers."""

import datetime
import string

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class UpdateStatus(models.TextChoices):
    """Where the incident stands, in the words status pages use (Atlassian Statuspage's four), so a
    public update can follow the same flow."""

    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


# The wording an update starts from, per status, until a service has its own. Placeholders:
# $title $service $severity $impact $components $impact_started $next_update.
DEFAULT_TEMPLATES = {
    UpdateStatus.INVESTIGATING: "We are investigating a problem with $service: $title.\n\n$impact\n\n"
                                "We will send the next update within $next_update.",
    UpdateStatus.IDENTIFIED: "We have identified the cause of the problem with $service ($title) and are working on "
                             "a fix.\n\n$impact\n\nWe will send the next update within $next_update.",
    UpdateStatus.MONITORING: "A fix for the problem with $service ($title) is in place and we are watching the "
                             "results.\n\nWe will send the next update within $next_update.",
    UpdateStatus.RESOLVED: "The problem with $service ($title) is resolved. $impact_summary\n\n"
                           "We will follow up with a review of what happened and what we will change.",
}
PLACEHOLDERS = ["title", "service", "severity", "impact", "components", "impact_started", "impact_summary", "next_update"]

# Minutes without an update before the commander and communications lead are reminded (0: never).
DEFAULT_REMINDER_MINUTES = {"sev1": 30, "sev2": 60, "sev3": 120, "sev4": 0}


class Stakeholder(models.Model):
    """Someone told about the service's incidents: a business lead, a client contact, another team."""

    class Group(models.TextChoices):
        BUSINESS = "business", "Business lead"
        CLIENT = "client", "Client contact"
        TEAM = "team", "Other team"
        OTHER = "other", "Other"

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        APPRISE = "apprise", "Apprise (Slack, Teams, Discord, Telegram, ntfy, ...)"

    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="stakeholders")
    name = models.CharField(max_length=100)
    group = models.CharField(max_length=10, choices=Group.choices, default=Group.CLIENT)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.EMAIL)
    address = models.CharField(max_length=2000, help_text="Email address or Apprise URL.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service", "group", "name", "id"]
        constraints = [models.UniqueConstraint(fields=["service", "kind", "address"], name="stakeholder_once_per_service")]

    def __str__(self):
        return self.name

    @property
    def display_address(self):
        # Apprise URLs carry tokens (Slack webhooks, bot keys): show only the scheme.
        if self.kind == self.Kind.APPRISE:
            return self.address.split("://", 1)[0] + "://…"
        return self.address


class CommsSettings(models.Model):
    """A service's reminder periods per severity and its own update wording (absent: the defaults)."""

    service = models.OneToOneField("catalog.Service", on_delete=models.CASCADE, related_name="comms_settings")
    reminder_minutes = models.JSONField(default=dict, blank=True)
    templates = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return f"communication settings of {self.service}"

    @classmethod
    def of(cls, service):
        """The service's settings; unsaved defaults when it has none."""
        try:
            return service.comms_settings
        except cls.DoesNotExist:
            return cls(service=service)

    def minutes_for(self, severity):
        return int(self.reminder_minutes.get(severity, DEFAULT_REMINDER_MINUTES[severity]))

    def all_minutes(self):
        return {sev: self.minutes_for(sev) for sev in DEFAULT_REMINDER_MINUTES}

    def template_for(self, status):
        return self.templates.get(status) or DEFAULT_TEMPLATES[status]

    def all_templates(self):
        return {status: self.template_for(status) for status in UpdateStatus.values}


def one_line(text):
    """For a subject line: a title typed with a line break must not break the mail's headers."""
    return " ".join(text.split())[:300]


def minutes_text(minutes):
    if not minutes:
        return "when we know more"
    if minutes % 60 == 0:
        hours = minutes // 60
        return "an hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"


def draft(incident, status, comms=None):
    """The update's text from the service's template for `status`. `string.Template`, not the
    Django template language: the wording is typed by users and must not reach any attribute."""
    comms = comms or CommsSettings.of(incident.service)
    started = incident.impact_started_at or incident.created_at
    end = incident.resolved_at or timezone.now()
    minutes = int((end - started).total_seconds() // 60)
    values = {
        "title": incident.title, "service": incident.service.name, "severity": incident.severity.upper(),
        "impact": incident.impact, "components": ", ".join(incident.affected_components),
        "impact_started": f"{started.astimezone(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        "impact_summary": f"Customers were affected for about {minutes_text(max(minutes, 1))}." if minutes else "",
        "next_update": minutes_text(comms.minutes_for(incident.severity)),
    }
    text = string.Template(comms.template_for(status)).safe_substitute(values)
    # An empty placeholder must not leave a hole of blank lines.
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


class StakeholderUpdate(models.Model):
    """An update posted to the stakeholders of an incident's services. Never edited: a new update follows."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="stakeholder_updates")
    status = models.CharField(max_length=16, choices=UpdateStatus.choices)
    body = models.TextField()
    posted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    posted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-posted_at", "-id"]
        indexes = [models.Index(fields=["incident", "-posted_at"])]

    def __str__(self):
        return f"{self.get_status_display()} update on {self.incident_id}"

    def subject(self):
        incident = self.incident
        drill = "[DRILL] " if incident.is_drill else ""
        return one_line(f"{drill}[{incident.service.name}] {self.get_status_display()}: {incident.title}")


class Message(models.Model):
    """The outbox of stakeholder updates and update reminders, like paging's: written in the
    transaction that decided to send, delivered by the worker (pending → sending, with a deadline →
    sent, or pending again later, or failed after the last attempt). Unlike a page it is never
    cancelled by an acknowledgement or a resolution: "resolved" is an update too."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="comms_messages")
    update = models.ForeignKey(StakeholderUpdate, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    stakeholder = models.ForeignKey(Stakeholder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    # A user's webhook is signed with its method's secret.
    contact_method = models.ForeignKey("paging.ContactMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recipient = models.CharField(max_length=200)
    kind = models.CharField(max_length=8)
    address = models.CharField(max_length=2000)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    # Unique: the same update (or reminder) cannot be put in the outbox twice for one recipient.
    idempotency_key = models.CharField(max_length=200, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_deadline = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="comms_message_due"),
            models.Index(fields=["sending_deadline"], condition=Q(state="sending"), name="comms_message_stuck"),
        ]

    def __str__(self):
        return f"{self.kind} to {self.recipient} ({self.state})"


class UpdateReminder(models.Model):
    """The timer of an open incident: when, if nobody posts an update, its commander and
    communications lead are reminded. `due_at` is null when no reminder is due (resolved, or the
    severity's period is 0). Posting an update pushes it back."""

    incident = models.OneToOneField("incidents.Incident", on_delete=models.CASCADE, related_name="update_reminder")
    due_at = models.DateTimeField(null=True, blank=True)
    quiet_minutes = models.PositiveIntegerField(default=0)
    reminded = models.PositiveIntegerField(default=0, help_text="How many reminders were sent.")
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # The worker's query: reminders whose time has come.
        indexes = [models.Index(fields=["due_at"], condition=Q(due_at__isnull=False), name="update_reminder_due")]

    def __str__(self):
        return f"update reminder of {self.incident_id}"


def address_problem(kind, address):
    """Why `address` cannot be used for `kind`, or None."""
    import apprise
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    if kind == Stakeholder.Kind.EMAIL:
        try:
            validate_email(address)
        except ValidationError:
            return "not a valid email address"
    elif apprise.Apprise.instantiate(address) is None:
        return "not a URL Apprise knows (see its list of services)"
    return None
