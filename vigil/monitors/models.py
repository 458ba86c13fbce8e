"""Uptime monitors: a check of one target per service on an interval, and the history of its results.

The monitor row is also its timer: `next_due_at` is when the next check is due (NULL while
paused), and the worker claims due rows with a lease (`claimed_until`) so that a check still
running is not started twice and a check lost with its worker is run again once the lease ends.
"""

import hashlib
from datetime import timedelta

from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

SEVERITIES = [("sev1", "SEV1 (critical)"), ("sev2", "SEV2 (high)"), ("sev3", "SEV3 (medium)"), ("sev4", "SEV4 (low)")]


class Monitor(models.Model):
    class Kind(models.TextChoices):
        HTTP = "http", "HTTP(S)"
        TCP = "tcp", "TCP port"
        DNS = "dns", "DNS resolution"
        PING = "ping", "Ping (TCP connect)"

    class Status(models.TextChoices):
        UNKNOWN = "unknown", "Not checked yet"
        UP = "up", "Up"
        DOWN = "down", "Down"

    class KeywordMode(models.TextChoices):
        PRESENT = "present", "must be present"
        ABSENT = "absent", "must be absent"

    class RecordType(models.TextChoices):
        A = "A"
        AAAA = "AAAA"
        CNAME = "CNAME"
        MX = "MX"
        NS = "NS"
        TXT = "TXT"

    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="monitors")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    target = models.CharField(
        max_length=2048, help_text="HTTP(S): the URL. TCP: host:port. DNS: the name to resolve. "
                                   "Ping: a host, or host:port (port 80 when left out).")
    interval_seconds = models.PositiveIntegerField(default=60)
    timeout_seconds = models.PositiveIntegerField(default=10)
    retries = models.PositiveSmallIntegerField(
        default=1, help_text="Failed checks in a row, after the first, before it alerts: 1 confirms a "
                             "failure with a second attempt.")
    retry_interval_seconds = models.PositiveIntegerField(
        default=20, help_text="How soon a failed check is tried again to confirm it.")
    recovery_checks = models.PositiveSmallIntegerField(
        default=1, help_text="Successful checks in a row that resolve its alert.")
    severity = models.CharField(max_length=4, choices=SEVERITIES, default="sev2",
                                help_text="Severity of the alert when it is down.")
    paused = models.BooleanField(default=False)

    # HTTP(S)
    method = models.CharField(max_length=8, default="GET")
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    expected_status = models.CharField(
        max_length=100, default="200-299", help_text='Accepted status codes: "200", "200-299", "2xx, 301".')
    keyword = models.CharField(max_length=500, blank=True, help_text="Text the response body is searched for.")
    keyword_mode = models.CharField(max_length=8, choices=KeywordMode.choices, default=KeywordMode.PRESENT)
    max_latency_ms = models.PositiveIntegerField(null=True, blank=True,
                                                 help_text="Slower than this counts as a failure.")
    follow_redirects = models.BooleanField(
        default=True, help_text="Up to 10 redirects, never to another scheme (http to https or back).")
    verify_tls = models.BooleanField(default=True, help_text="Refuse invalid or self-signed certificates.")
    tls_expiry_days = models.PositiveSmallIntegerField(
        default=14, help_text="Warn this many days before the TLS certificate expires (0: never).")

    # DNS
    record_type = models.CharField(max_length=5, choices=RecordType.choices, default=RecordType.A)
    expected_answer = models.CharField(max_length=500, blank=True,
                                       help_text="An answer that must be among the records (e.g. an address).")
    nameserver = models.CharField(max_length=100, blank=True,
                                  help_text="Ask this server (ip or ip:port) instead of the system resolver.")

    # State, written by the worker.
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.UNKNOWN)
    failures_in_row = models.PositiveIntegerField(default=0)
    successes_in_row = models.PositiveIntegerField(default=0)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_latency_ms = models.FloatField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    tls_expires_at = models.DateTimeField(null=True, blank=True)
    tls_warning = models.BooleanField(default=False)
    next_due_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The alert outbox: each change of what the pipeline should hear bumps alert_version; the
    # worker tells the pipeline, then sets alert_synced_version (see jobs.sync_monitor_alerts).
    alert_version = models.PositiveIntegerField(default=0)
    alert_synced_version = models.PositiveIntegerField(default=0)
    # The integration its alerts come in through (one per service, made with its first monitor).
    integration = models.ForeignKey("alerts.Integration", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service__name", "name"]
        constraints = [models.UniqueConstraint(fields=["service", "name"], name="monitor_name_unique_in_service")]
        indexes = [
            # The worker's claim: due rows, oldest first.
            models.Index(fields=["next_due_at"], name="monitor_next_due"),
            models.Index(fields=["alert_synced_version"], condition=Q(alert_version__gt=F("alert_synced_version")),
                         name="monitor_alert_unsynced"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("monitor-detail", args=[self.pk])

    @property
    def dedup_key(self):
        return f"monitor:{self.pk}"

    @property
    def tls_dedup_key(self):
        return f"monitor:{self.pk}:tls"

    @property
    def latency_series(self):
        """The name its latency goes by as a metric series (for baselines and anomaly rules)."""
        return f"monitor.{self.pk}.latency_ms"

    @property
    def state(self):
        """What a person should see: paused, confirming (failed, not yet alerting), or the status."""
        if self.paused:
            return "paused"
        if self.status != self.Status.DOWN and self.failures_in_row:
            return "confirming"
        return self.status

    def phase_seconds(self):
        """Where in its interval this monitor's checks fall. Spread by id, so that monitors made
        together (an import, a benchmark) do not all come due in the same second."""
        digest = hashlib.blake2s(str(self.pk).encode(), digest_size=4).digest()
        return int.from_bytes(digest) % (self.interval_seconds * 1000) / 1000

    def slot_after(self, moment):
        """The first scheduled check time strictly after `moment`: slots are fixed
        (epoch + phase + k * interval), so the schedule never drifts by how long checks take,
        and slots missed while the worker was away are skipped, not piled up."""
        epoch = moment.timestamp() - self.phase_seconds()
        k = int(epoch // self.interval_seconds) + 1
        return moment + timedelta(seconds=k * self.interval_seconds - epoch)


class CheckResult(models.Model):
    """One check of one monitor. `lag_ms` is how late it started after its due time (the
    scheduler's delay, measured by the benchmark)."""

    monitor = models.ForeignKey(Monitor, on_delete=models.CASCADE, related_name="results")
    at = models.DateTimeField()
    ok = models.BooleanField()
    latency_ms = models.FloatField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    lag_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["monitor", "at"], name="checkresult_monitor_at"),
                   models.Index(fields=["at"], name="checkresult_at")]

    def __str__(self):
        return f"{self.monitor_id} {'ok' if self.ok else 'failed'} at {self.at:%Y-%m-%d %H:%M:%S}"
