import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

DEFAULT_ALLOWANCE_MINUTES = 8 * 60


class Kind(models.TextChoices):
    INVESTIGATION = "investigation", "Investigation"
    CORRECTIVE = "corrective", "Corrective"
    PREVENTIVE = "preventive", "Preventive"


class TimeEntry(models.Model):
    """Time a responder spent on an incident. A running timer is an entry with `running` set and
    no minutes yet; stopping it fills them in. `at` is when the work began: it decides the month."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="time_entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="time_entries")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    minutes = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)
    running = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "time entries"
        constraints = [
            # One timer per person per incident: a second "start" is refused, not a second clock.
            models.UniqueConstraint(fields=["incident", "user"], condition=Q(running=True), name="one_running_timer"),
        ]
        indexes = [models.Index(fields=["incident", "kind"]), models.Index(fields=["at"])]

    def __str__(self):
        return f"{self.minutes} min {self.kind} on incident {self.incident_id}"

    def running_minutes(self, now=None):
        """Whole minutes so far; a timer stopped within its first minute counts one."""
        seconds = ((now or timezone.now()) - self.at).total_seconds()
        return max(1, int(seconds // 60 + (1 if seconds % 60 >= 30 else 0)))


class TimeAllowance(models.Model):
    """A service's per-incident allowance of corrective time, past which a reason is asked."""

    service = models.OneToOneField("catalog.Service", on_delete=models.CASCADE, related_name="time_allowance")
    incident_minutes = models.PositiveIntegerField(default=DEFAULT_ALLOWANCE_MINUTES)

    def __str__(self):
        return f"{self.incident_minutes} min per incident on {self.service}"

    @classmethod
    def minutes_for(cls, service_id):
        return cls.objects.filter(service_id=service_id).values_list("incident_minutes", flat=True).first() \
            or DEFAULT_ALLOWANCE_MINUTES


class Overrun(models.Model):
    """Corrective time on an incident passed the per-incident allowance or the service's monthly
    budget: Vigil asks the responders why, and told the project manager."""

    class Trigger(models.TextChoices):
        ALLOWANCE = "incident_allowance", "the per-incident allowance"
        BUDGET = "monthly_budget", "the month's approved hours"

    class Reason(models.TextChoices):
        PREVENTIVE = "preventive_with_corrective", "Preventive work was done along with the corrective work"
        MISSING_TOOLS = "missing_tools", "Tools such as APM were missing, so the investigation took longer"
        LONG_FIX = "long_fix", "The corrective work itself takes more than 8 hours"
        OTHER = "other", "Other"

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="time_overruns")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    month = models.DateField(help_text="First day of the month whose corrective time passed the limit.")
    corrective_minutes = models.PositiveIntegerField(help_text="The corrective time (incident's or month's) when asked.")
    limit_minutes = models.PositiveIntegerField()
    asked_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=32, choices=Reason.choices, blank=True)
    reason_text = models.TextField(blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]
        constraints = [
            # Asked once per incident for the allowance, and once per incident and month for the budget.
            models.UniqueConstraint(fields=["incident"], condition=Q(trigger="incident_allowance"), name="one_allowance_overrun"),
            models.UniqueConstraint(fields=["incident", "month"], condition=Q(trigger="monthly_budget"), name="one_budget_overrun_a_month"),
        ]

    def __str__(self):
        return f"overrun of {self.get_trigger_display()} on incident {self.incident_id}"

    @property
    def answered(self):
        return self.answered_at is not None

    @property
    def question(self):
        return (f"Corrective time ({hours(self.corrective_minutes)}) passed {self.get_trigger_display()} "
                f"({hours(self.limit_minutes)}). Why?")


def hours(minutes):
    h, m = divmod(int(minutes), 60)
    return f"{h} h {m:02d} min" if h else f"{m} min"


def month_start(at):
    """The first day of the UTC month of `at` (months are counted in UTC)."""
    at = at.astimezone(dt.timezone.utc)
    return dt.date(at.year, at.month, 1)


def month_bounds(first_day):
    start = dt.datetime(first_day.year, first_day.month, 1, tzinfo=dt.timezone.utc)
    end = dt.datetime(first_day.year + (first_day.month == 12), first_day.month % 12 + 1, 1, tzinfo=dt.timezone.utc)
    return start, end
