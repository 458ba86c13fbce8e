import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ContactMethod(models.Model):
    """Where a person can be reached: an email address, a webhook, or any Apprise URL."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Signed JSON webhook"
        APPRISE = "apprise", "Apprise (Slack, Teams, Discord, Telegram, ntfy, Pushover, ...)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    name = models.CharField(max_length=100, blank=True)
    address = models.CharField(max_length=2000, help_text="Email address, webhook URL or Apprise URL.")
    # Webhooks are signed with it (HMAC-SHA256); the receiver keeps a copy to check them, so
    # unlike a token it cannot be stored hashed.
    signing_secret = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user", "id"]

    def __str__(self):
        return self.name or f"{self.get_kind_display()}: {self.display_address}"

    @property
    def display_address(self):
        # Apprise URLs carry tokens (Slack webhooks, Telegram bot keys): show only the scheme and host.
        if self.kind == self.Kind.APPRISE:
            return self.address.split("://", 1)[0] + "://…"
        return self.address

    def save(self, *args, **kwargs):
        if self.kind == self.Kind.WEBHOOK and not self.signing_secret:
            self.signing_secret = secrets.token_hex(32)
        super().save(*args, **kwargs)


class NotificationRule(models.Model):
    """"Immediately by ntfy, after 2 minutes by email": when paged, use this method after this delay
    (if the incident is still not acknowledged)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules")
    contact_method = models.ForeignKey(ContactMethod, on_delete=models.CASCADE, related_name="rules")
    delay_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["user", "delay_seconds", "id"]
        constraints = [models.UniqueConstraint(fields=["contact_method", "delay_seconds"], name="one_rule_per_method_and_delay")]

    def __str__(self):
        return f"after {self.delay_seconds // 60} min by {self.contact_method}"


class Escalation(models.Model):
    """The paging of one incident: where it stands in the policy and when the next step is due.

    The policy is copied here when paging starts, so editing a policy does not change a page under
    way. `next_step_at` is the timer: the worker claims rows whose time has come.
    """

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="escalations")
    policy_name = models.CharField(max_length=100)
    levels = models.JSONField()
    repeat = models.PositiveSmallIntegerField(default=0)
    # The level paged next, and how many times the whole policy has run.
    level = models.PositiveSmallIntegerField(default=0)
    loop = models.PositiveSmallIntegerField(default=0)
    next_step_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    started_at = models.DateTimeField(default=timezone.now)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["incident"], condition=Q(active=True), name="one_active_escalation_per_incident"),
        ]
        # The worker's query: due steps of active escalations, oldest first.
        indexes = [models.Index(fields=["next_step_at"], condition=Q(active=True), name="escalation_due")]

    def __str__(self):
        return f"escalation of {self.incident_id} at level {self.level + 1}"


class Notification(models.Model):
    """The outbox: one message to one person by one method. Written in the transaction that decided
    to page, then delivered by the worker: pending → sending (with a deadline) → sent, or back to
    pending with a later `next_attempt_at`, or failed after the last attempt. Delivered at least
    once; `idempotency_key` lets a receiver drop a repeat."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"
        CANCELLED = "cancelled"

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="notifications")
    escalation = models.ForeignKey(Escalation, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    contact_method = models.ForeignKey(ContactMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=8, choices=ContactMethod.Kind.choices)
    address = models.CharField(max_length=2000)
    # Why this person is paged: "level 1", "asked for help", "team admins (no policy)".
    reason = models.CharField(max_length=200)
    # A message rather than a page (a time overrun told to the project manager): sent with this
    # subject and text, and not cancelled when the incident is acknowledged or resolved.
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    # Unique: two workers (or a retried step) cannot put the same page in the outbox twice.
    idempotency_key = models.CharField(max_length=200, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_deadline = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="notification_due"),
            models.Index(fields=["sending_deadline"], condition=Q(state="sending"), name="notification_stuck"),
            models.Index(fields=["incident", "state"]),
        ]

    def __str__(self):
        return f"{self.kind} to {self.user} ({self.state})"

    @property
    def is_page(self):
        return not self.text


class DeliveryAttempt(models.Model):
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="delivery_attempts")
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
