"""Metrics and the rules that watch them.

A series is a metric name with its labels (as in Prometheus), owned by a team and usually by one
of its services; its samples are (time, value) rows. A rule watches one series for a service:
either a plain threshold, or "the value stays N deviations away from its baseline for M
minutes", the baseline being learned per hour of the week on the rule's clock (see evaluate.py). Rules are timers
(`next_evaluation_at`) that the worker claims like every other timer (jobs.py).
"""

import hashlib
import json
from zoneinfo import ZoneInfo

from django.db import models
from django.urls import reverse
from django.utils import timezone

from vigil.accounts.models import validate_time_zone


def labels_key(labels):
    return hashlib.sha256(json.dumps(labels or {}, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class Series(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="metric_series")
    service = models.ForeignKey("catalog.Service", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="metric_series")
    name = models.CharField(max_length=200)
    labels = models.JSONField(default=dict, blank=True)
    labels_key = models.CharField(max_length=64)
    last_value = models.FloatField(null=True, blank=True)
    last_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "series"
        constraints = [models.UniqueConstraint(fields=["team", "name", "labels_key"], name="one_series_per_name_and_labels")]

    def __str__(self):
        if not self.labels:
            return self.name
        return self.name + "{" + ",".join(f'{k}="{v}"' for k, v in sorted(self.labels.items())) + "}"

    def get_absolute_url(self):
        return reverse("anomaly-series", args=[self.pk])


class Sample(models.Model):
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="samples")
    at = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        ordering = ["at"]
        # Every read is "this series between two times": the baseline's hour slots, the window, the chart.
        # The one on time alone is for pruning the oldest samples.
        indexes = [models.Index(fields=["series", "at"]), models.Index(fields=["at"])]


class Rule(models.Model):
    class Kind(models.TextChoices):
        THRESHOLD = "threshold", "Threshold"
        DEVIATION = "deviation", "Deviation from the usual for the hour of the week"

    class Direction(models.TextChoices):
        ABOVE = "above", "Above"
        BELOW = "below", "Below"
        BOTH = "both", "Above or below"

    class State(models.TextChoices):
        OK = "ok", "OK"
        FIRING = "firing", "Firing"
        LEARNING = "learning", "Learning (not enough history for a baseline)"
        NO_DATA = "no_data", "No recent data"

    class Alerted(models.TextChoices):
        NOTHING = "", "Nothing yet"
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="metric_rules")
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.DEVIATION)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.ABOVE)
    threshold = models.FloatField(null=True, blank=True)
    deviations = models.FloatField(default=3.0, help_text="How many deviations (scaled MAD) away counts as unusual.")
    window_minutes = models.PositiveIntegerField(default=10, help_text="How long the value must stay away before it fires.")
    baseline_weeks = models.PositiveSmallIntegerField(default=4, help_text="How many past weeks the baseline learns from.")
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone],
        help_text="The clock of the hours of the week, e.g. Europe/Paris: traffic set by people keeps their "
                  "local hours when daylight saving time starts or ends.")
    severity = models.CharField(max_length=4, default="sev3")
    enabled = models.BooleanField(default=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.LEARNING)
    # Why it is in its state: baseline, band, observed value, since when, the window (shown and sent).
    why = models.JSONField(default=dict, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    next_evaluation_at = models.DateTimeField(null=True, blank=True, db_index=True)
    alerted = models.CharField(max_length=8, choices=Alerted.choices, default=Alerted.NOTHING, blank=True)
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service__name", "name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("anomaly-rule", args=[self.pk])

    @property
    def dedup_key(self):
        return f"metric-rule:{self.pk}"

    @property
    def zone(self):
        return ZoneInfo(self.time_zone)

    def describe(self):
        window = f"for {self.window_minutes} min" if self.window_minutes else "at once"
        if self.kind == self.Kind.THRESHOLD:
            side = "below" if self.direction == self.Direction.BELOW else "above"
            return f"{self.series.name} {side} {self.threshold:g} {window}"
        side = {"above": "above", "below": "below", "both": "away from"}[self.direction]
        clock = "" if self.time_zone == "UTC" else f" ({self.time_zone})"
        return f"{self.series.name} {self.deviations:g} deviations {side} its usual for the hour of the week{clock} {window}"
