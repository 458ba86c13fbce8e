"""Public status pages in Atlassian Statuspage's terms: pages, components, public incidents (and
scheduled maintenances, which Statuspage also models as incidents), their updates, subscribers.

The names and enumerations are Statuspage's public API v2 (shared/spec/integrations.md §5)."""

import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone


class ComponentStatus(models.TextChoices):
    OPERATIONAL = "operational", "Operational"
    DEGRADED = "degraded_performance", "Degraded performance"
    PARTIAL = "partial_outage", "Partial outage"
    MAJOR = "major_outage", "Major outage"
    MAINTENANCE = "under_maintenance", "Under maintenance"


# Worst last: the status a group, a day's bar or several incidents together show.
COMPONENT_RANK = {
    ComponentStatus.OPERATIONAL: 0, ComponentStatus.MAINTENANCE: 1, ComponentStatus.DEGRADED: 2,
    ComponentStatus.PARTIAL: 3, ComponentStatus.MAJOR: 4,
}


def worst(statuses, default=ComponentStatus.OPERATIONAL):
    return max(statuses, key=COMPONENT_RANK.__getitem__, default=default)


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"
    POSTMORTEM = "postmortem", "Postmortem"


class MaintenanceStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in_progress", "In progress"
    VERIFYING = "verifying", "Verifying"
    COMPLETED = "completed", "Completed"


class Impact(models.TextChoices):
    NONE = "none", "None"
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"
    MAINTENANCE = "maintenance", "Maintenance"


UNRESOLVED = [IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING]
MAINTENANCE_OPEN = [MaintenanceStatus.SCHEDULED, MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING]
MAINTENANCE_RUNNING = [MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.VERIFYING]

colour = RegexValidator(r"^#[0-9a-fA-F]{6}$", "a colour as #rrggbb")
domain = RegexValidator(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
                        "a host name such as status.example.com (lower case, no scheme or path)")


def hash_secret(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


class StatusPage(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="status_pages")
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    public = models.BooleanField(default=True, help_text="Anyone can read it. Otherwise: team members, or the secret link.")
    # Private pages: the secret link's key, hashed like an API token (shown once when made).
    secret_hash = models.CharField(max_length=64, blank=True)
    accent_colour = models.CharField(max_length=7, default="#2563eb", validators=[colour])
    footer = models.TextField(blank=True, max_length=2000, help_text="Shown at the bottom of the page (plain text).")
    logo = models.BinaryField(blank=True, null=True, editable=True)
    logo_type = models.CharField(max_length=40, blank=True)
    custom_domain = models.CharField(max_length=253, blank=True, validators=[domain],
                                     help_text="Serve the page at the root of this host too (add it to VIGIL_ALLOWED_HOSTS).")
    time_zone = models.CharField(max_length=64, default="Etc/UTC")
    # Bumped in the transaction of every change the page shows: the public cache keys on it.
    version = models.PositiveBigIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["custom_domain"], condition=~Q(custom_domain=""),
                                               name="statuspage_custom_domain_unique")]

    def __str__(self):
        return self.name

    @property
    def code(self):
        return f"vigil{self.pk:07d}"

    def get_absolute_url(self):
        return reverse("statuspage-manage", args=[self.slug])

    def public_url(self):
        if self.custom_domain:
            return f"https://{self.custom_domain}"
        return settings.BASE_URL + reverse("statuspage-public", args=[self.slug])

    def new_secret(self):
        raw = secrets.token_urlsafe(24)
        self.secret_hash = hash_secret(raw)
        return raw

    def secret_matches(self, raw):
        return bool(self.secret_hash and raw) and hmac.compare_digest(self.secret_hash, hash_secret(raw))

    def touch(self):
        """Say the page changed (call inside the change's transaction): caches drop what they hold."""
        from .cache import forget

        now = timezone.now()
        StatusPage.objects.filter(pk=self.pk).update(version=F("version") + 1, updated_at=now)
        self.updated_at = now
        slug = self.slug
        transaction.on_commit(lambda: forget(slug))


class Component(models.Model):
    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="components")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    service = models.ForeignKey("catalog.Service", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="status_components")
    # A group holds components; its status is their worst.
    is_group = models.BooleanField(default=False)
    group = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children",
                              limit_choices_to={"is_group": True})
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=24, choices=ComponentStatus.choices, default=ComponentStatus.OPERATIONAL)
    # Set by hand: wins over what the incidents say until cleared.
    status_override = models.CharField(max_length=24, choices=ComponentStatus.choices, blank=True)
    only_show_if_degraded = models.BooleanField(default=False)
    showcase = models.BooleanField(default=True, help_text="Show its 90-day uptime bar.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["page", "name"], name="component_name_unique_in_page")]

    def __str__(self):
        return self.name

    @property
    def code(self):
        return f"cmp_{self.pk}"


class ComponentStatusChange(models.Model):
    """Each status a component took, from when: the 90-day bars and uptime come from these rows."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=24, choices=ComponentStatus.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["component", "at"])]


class PublicIncident(models.Model):
    """What customers are told about an incident, or a scheduled maintenance (`scheduled_for` set).

    It never shows the internal incident's timeline: only the updates written for customers."""

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="incidents")
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="public_incidents")
    name = models.CharField(max_length=255)
    status = models.CharField(max_length=16)
    impact = models.CharField(max_length=12, choices=Impact.choices, default=Impact.MINOR)
    components = models.ManyToManyField(Component, blank=True, related_name="incidents")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(default=timezone.now)
    monitoring_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Maintenances only.
    scheduled_for = models.DateTimeField(null=True, blank=True)
    scheduled_until = models.DateTimeField(null=True, blank=True)
    # The alert-silencing windows (one per affected service) a maintenance opened.
    windows = models.ManyToManyField("alerts.MaintenanceWindow", blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["page", "incident"], condition=Q(incident__isnull=False),
                                               name="one_public_incident_per_incident_and_page")]
        indexes = [models.Index(fields=["page", "status"])]

    def __str__(self):
        return self.name

    @property
    def code(self):
        return f"inc_{self.pk}"

    @property
    def is_maintenance(self):
        return self.scheduled_for is not None

    @property
    def is_open(self):
        return self.status in (MAINTENANCE_OPEN if self.is_maintenance else UNRESOLVED)

    def shortlink(self):
        return f"{self.page.public_url().rstrip('/')}/incidents/{self.code}"


class PublicUpdate(models.Model):
    public_incident = models.ForeignKey(PublicIncident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=16)
    body = models.TextField(max_length=10000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # [{"code", "name", "old_status", "new_status"}] at the time of the update.
    affected_components = models.JSONField(default=list, blank=True)
    deliver_notifications = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    display_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-display_at", "-id"]

    def __str__(self):
        return f"{self.status}: {self.body[:40]}"

    @property
    def code(self):
        return f"upd_{self.pk}"


class Subscriber(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    page = models.ForeignKey(StatusPage, on_delete=models.CASCADE, related_name="subscribers")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    address = models.CharField(max_length=2000)
    # None: every component.
    components = models.ManyToManyField(Component, blank=True, related_name="subscribers")
    signing_secret = models.CharField(max_length=64, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["page", "kind", "address"]
        constraints = [models.UniqueConstraint(fields=["page", "kind", "address"], name="one_subscription_per_address")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.address}"

    def save(self, *args, **kwargs):
        if self.kind == self.Kind.WEBHOOK and not self.signing_secret:
            self.signing_secret = secrets.token_hex(32)
        super().save(*args, **kwargs)


class SubscriberMessage(models.Model):
    """The page's outbox: one message (a confirmation request or an update) to one subscriber.
    Written in the transaction of the update, delivered by the worker at least once, like paging's
    Notification: pending → sending (with a deadline) → sent, retried with backoff, or failed."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="messages")
    update = models.ForeignKey(PublicUpdate, null=True, blank=True, on_delete=models.CASCADE, related_name="messages")
    idempotency_key = models.CharField(max_length=100, unique=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_deadline = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(state="pending"), name="subscriber_message_due"),
            models.Index(fields=["sending_deadline"], condition=Q(state="sending"), name="subscriber_message_stuck"),
        ]
