import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from vigil.accounts.models import validate_time_zone

from .hours import AllHours, Calendar, public_holidays

SEVERITIES = ["sev1", "sev2", "sev3", "sev4"]
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def default_weekdays():
    return [0, 1, 2, 3, 4]


def validate_holidays_of(value):
    try:
        public_holidays(value)
    except ValueError as e:
        raise ValidationError(str(e)) from None


def calendar_of(hours):
    """The calendar an SLA policy or clock counts in."""
    if not hours.business_hours_only:
        return AllHours()
    return Calendar(hours.time_zone, tuple(hours.weekdays), hours.day_start, hours.day_end, hours.holidays_of,
                    tuple(hours.closed_days))


class SlaPolicy(models.Model):
    """A service's promise: per severity, how soon an incident is acknowledged and resolved,
    counted round the clock or in business hours only."""

    service = models.OneToOneField("catalog.Service", on_delete=models.CASCADE, related_name="sla_policy")
    business_hours_only = models.BooleanField(default=False, help_text="Count only working hours; else 24x7.")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    weekdays = models.JSONField(default=default_weekdays, help_text="Working days, Monday = 0.")
    day_start = models.TimeField(default=dt.time(9, 0))
    day_end = models.TimeField(default=dt.time(17, 0))
    holidays_of = models.CharField(
        max_length=16, blank=True, validators=[validate_holidays_of],
        help_text='Business hours skip the public holidays of this country or region, e.g. "NL" or "US-CA".')
    closed_days = models.JSONField(default=list, blank=True, help_text="Other days off, as ISO dates.")
    escalate_fraction = models.FloatField(
        default=0.75, help_text="At this share of a target the incident escalates to the next level.")
    # {"sev1": {"ack_seconds": 900, "resolve_seconds": 14400}, ...}; a severity left out has no SLA.
    targets = models.JSONField(default=dict)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self):
        return f"SLA of {self.service}"

    def calendar(self):
        return calendar_of(self)

    def target(self, severity, kind):
        """Seconds allowed to acknowledge (kind "ack") or resolve ("resolve"), or None."""
        value = (self.targets.get(severity) or {}).get(f"{kind}_seconds")
        return int(value) if value else None


class SlaClock(models.Model):
    """One running target of one incident: time to acknowledge or time to resolve.

    The clock is the timer row the worker claims: `next_due_at` is when it next has work (the
    escalation at `escalate_at`, then the breach at `breach_at`), None once both are done or the
    clock stopped. The calendar is copied from the policy when the clock starts, so editing the
    policy does not move a clock under way (changing the severity recomputes it).
    """

    class Kind(models.TextChoices):
        ACK = "ack", "Acknowledge"
        RESOLVE = "resolve", "Resolve"

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="sla_clocks")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    severity = models.CharField(max_length=4)
    target_seconds = models.PositiveIntegerField()
    escalate_fraction = models.FloatField(default=0.75)
    business_hours_only = models.BooleanField(default=False)
    time_zone = models.CharField(max_length=64, default="UTC")
    weekdays = models.JSONField(default=default_weekdays)
    day_start = models.TimeField(default=dt.time(9, 0))
    day_end = models.TimeField(default=dt.time(17, 0))
    holidays_of = models.CharField(max_length=16, blank=True)
    closed_days = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)
    escalate_at = models.DateTimeField(null=True, blank=True)
    breach_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "kind"]
        constraints = [models.UniqueConstraint(fields=["incident", "kind"], name="one_sla_clock_per_kind")]
        # The worker's query: clocks with something due, oldest first.
        indexes = [models.Index(fields=["next_due_at"], condition=Q(next_due_at__isnull=False), name="sla_clock_due")]

    def __str__(self):
        return f"{self.kind} clock of incident {self.incident_id}"

    @property
    def label(self):
        return "ack" if self.kind == self.Kind.ACK else "resolve"

    def calendar(self):
        return calendar_of(self)

    def elapsed_seconds(self, now=None):
        end = self.stopped_at or now or timezone.now()
        return int(self.calendar().seconds_between(self.started_at, end))

    @property
    def breached(self):
        return self.breached_at is not None

    @property
    def running(self):
        return self.stopped_at is None

    def schedule(self):
        """Set the due times from the start, the target and the calendar."""
        calendar = self.calendar()
        self.breach_at = calendar.add(self.started_at, self.target_seconds)
        fraction = self.escalate_fraction
        self.escalate_at = calendar.add(self.started_at, self.target_seconds * fraction) if 0 < fraction < 1 else None
        self.set_next_due()

    def set_next_due(self):
        if self.stopped_at is not None:
            self.next_due_at = None
        elif self.escalate_at is not None and self.escalated_at is None and self.escalate_at < self.breach_at:
            self.next_due_at = self.escalate_at
        elif self.breached_at is None:
            self.next_due_at = self.breach_at
        else:
            self.next_due_at = None
