import hashlib
import re
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


# What a key's body limit may be raised to: under Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), and
# four times PagerDuty's own limit (512 kB, our default).
MAX_BODY_KB = 2048


def hash_key(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


class Integration(models.Model):
    """Where one sender posts its alerts for one service. The key in the URL authenticates it."""

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
        GRAFANA = "grafana", "Grafana"
        PAGERDUTY = "pagerduty", "PagerDuty Events API v2"
        GENERIC = "generic", "Generic webhook"

    class Grouping(models.TextChoices):
        ALERT_GROUP = "alert_group", "By the sender's alert group"
        DEDUP_KEY = "dedup_key", "One incident per alert"
        SERVICE = "service", "One open incident per service"

    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="integrations")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=100)
    # Only the hash is kept; the key is shown when made or rotated. 32 hex characters (128 bits),
    # the length PagerDuty clients expect of a routing key.
    key_hash = models.CharField(max_length=64, unique=True)
    key_hint = models.CharField(max_length=8)
    enabled = models.BooleanField(default=True)
    grouping = models.CharField(max_length=16, choices=Grouping.choices, default=Grouping.ALERT_GROUP)
    group_window_seconds = models.PositiveIntegerField(
        default=3600, help_text="An alert joins an open incident of its group opened this recently, and an alert "
                                "resolved this recently reopens when it fires again.")
    rate_limit_per_minute = models.PositiveIntegerField(
        default=6000, help_text="Requests a minute this key may send before it gets 429 (0: no limit).")
    max_body_kb = models.PositiveIntegerField(
        default=512, validators=[MinValueValidator(1), MaxValueValidator(MAX_BODY_KB)],
        help_text=f"The largest request body this key may send, in kB (413 above it; at most {MAX_BODY_KB}).")
    created_at = models.DateTimeField(default=timezone.now)
    last_received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["service__name", "name"]

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"

    def get_absolute_url(self):
        return reverse("integration-detail", args=[self.pk])

    def new_key(self):
        """Give the integration a fresh key (the old one stops working on save); returns it."""
        raw = secrets.token_hex(16)
        self.key_hash, self.key_hint = hash_key(raw), raw[:6]
        return raw

    def url(self, raw_key):
        base = settings.BASE_URL
        if self.kind == self.Kind.PAGERDUTY:
            return f"{base}/v2/enqueue"
        return f"{base}/hooks/{self.kind}/{raw_key}"

    @classmethod
    def for_key(cls, raw_key, kind=None):
        found = cls.objects.select_related("service").filter(key_hash=hash_key(raw_key), enabled=True)
        if kind:
            found = found.filter(kind=kind)
        return found.first()


class RateLimitWindow(models.Model):
    """How many requests an integration key has sent in the current minute (vigil/alerts/ratelimit.py)."""

    integration = models.OneToOneField(Integration, primary_key=True, on_delete=models.CASCADE, related_name="+")
    minute = models.BigIntegerField(help_text="Minutes since 1970-01-01 UTC.")
    requests = models.PositiveIntegerField()


class Alert(models.Model):
    """One alert of one service, by dedup key. Repeats of a firing alert update it (`last_seen`);
    after it resolves, a new firing within the integration's window reopens it (`count` + 1), a later
    one opens a new row."""

    class Status(models.TextChoices):
        FIRING = "firing"
        RESOLVED = "resolved"

    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="alerts")
    integration = models.ForeignKey(Integration, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts")
    dedup_key = models.CharField(max_length=255)
    # What groups this alert into an incident, by the integration's rule (see ingest.grouping_key).
    # "alert:" or "group:" and a key of up to 255 characters.
    grouping_key = models.CharField(max_length=270, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.FIRING)
    summary = models.CharField(max_length=1024)
    severity = models.CharField(max_length=4, default="sev3")
    source = models.CharField(max_length=255, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    links = models.JSONField(default=list, blank=True)
    details = models.JSONField(default=dict, blank=True)
    count = models.PositiveIntegerField(default=1, help_text="How many times it fired.")
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Why it paged no one, when it did not: "silence:12" or "maintenance:3".
    suppressed_by = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [
            # The ingest upsert relies on this: one firing alert per (service, dedup key), so two
            # senders racing cannot open two incidents for the same alert.
            models.UniqueConstraint(fields=["service", "dedup_key"], condition=Q(status="firing"),
                                    name="one_firing_alert_per_dedup_key"),
        ]
        indexes = [
            models.Index(fields=["service", "dedup_key"]),
            # Not on last_seen: every repeat moves it, and PostgreSQL would rewrite the index each time.
            models.Index(fields=["service", "status"]),
            models.Index(fields=["incident", "status"]),
            models.Index(fields=["service", "grouping_key"]),
        ]

    def __str__(self):
        return self.summary


class Silence(models.Model):
    """Alertmanager-style: alerts whose labels match every matcher are recorded but page no one."""

    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="silences")
    matchers = models.JSONField(help_text='[{"name": "alertname", "op": "=", "value": "DiskFull"}]')
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    comment = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self):
        return ", ".join(f"{m['name']}{m['op']}{m['value']!r}" for m in self.matchers)

    def is_active(self, at=None):
        at = at or timezone.now()
        return self.starts_at <= at < self.ends_at

    def matches(self, labels):
        for m in self.matchers:
            value = labels.get(m["name"], "")
            op = m["op"]
            if op in ("=~", "!~"):
                # Anchored, as in Alertmanager.
                hit = re.fullmatch(m["value"], value) is not None
            else:
                hit = value == m["value"]
            if hit != (op in ("=", "=~")):
                return False
        return True


class MaintenanceWindow(models.Model):
    """While it runs, every alert of the service is recorded but pages no one and opens no incident."""

    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="maintenance_windows")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self):
        return f"{self.service} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class ChangeEvent(models.Model):
    """A deploy or config change reported by a sender (PagerDuty change events): context on the
    service's timeline for whoever runs its next incident. It never pages."""

    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="changes")
    integration = models.ForeignKey(Integration, null=True, on_delete=models.SET_NULL, related_name="+")
    summary = models.CharField(max_length=1024)
    source = models.CharField(max_length=255, blank=True)
    happened_at = models.DateTimeField()
    details = models.JSONField(default=dict, blank=True)
    links = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-happened_at", "-id"]
        indexes = [models.Index(fields=["service", "-happened_at"])]

    def __str__(self):
        return self.summary
