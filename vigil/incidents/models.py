from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone


class Severity(models.TextChoices):
    SEV1 = "sev1", "SEV1 · critical"
    SEV2 = "sev2", "SEV2 · high"
    SEV3 = "sev3", "SEV3 · medium"
    SEV4 = "sev4", "SEV4 · low"


class Status(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"


OPEN_STATUSES = [Status.TRIGGERED, Status.ACKNOWLEDGED, Status.MITIGATED]


class TransitionNotAllowed(Exception):
    """The incident's current status does not allow the move (answered as 409)."""


# action -> (statuses it may start from, status it leads to, timestamp it sets)
TRANSITIONS = {
    "acknowledge": ({Status.TRIGGERED}, Status.ACKNOWLEDGED, "acknowledged_at"),
    "mitigate": ({Status.TRIGGERED, Status.ACKNOWLEDGED}, Status.MITIGATED, "mitigated_at"),
    "resolve": (set(OPEN_STATUSES), Status.RESOLVED, "resolved_at"),
    "reopen": ({Status.RESOLVED}, Status.TRIGGERED, "reopened_at"),
}


class Incident(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="incidents")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="incidents")
    number = models.PositiveIntegerField(help_text="Counts up per team.")
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=4, choices=Severity.choices, default=Severity.SEV3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRIGGERED)
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_drill = models.BooleanField(default=False, help_text="A mock incident that exercises a runbook.")
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)
    # Kept by the alert pipeline: how many alerts joined, and the grouping key under which new
    # alerts join this incident while it is open.
    alert_count = models.PositiveIntegerField(default=0)
    group_key = models.CharField(max_length=270, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["team", "number"], name="incident_number_unique_in_team")]
        indexes = [
            models.Index(fields=["team", "status", "-created_at"]),
            models.Index(fields=["service", "group_key", "status"]),
        ]

    def __str__(self):
        return f"#{self.number} {self.title}"

    def get_absolute_url(self):
        return reverse("incident-detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status != Status.RESOLVED

    def allowed_actions(self):
        return [action for action, (sources, _, _) in TRANSITIONS.items() if self.status in sources]

    def can(self, action):
        return action in self.allowed_actions()

    def acknowledge(self, *, actor, reason=""):
        self._move("acknowledge", actor, reason)

    def mitigate(self, *, actor, reason=""):
        self._move("mitigate", actor, reason)

    def resolve(self, *, actor, reason=""):
        self._move("resolve", actor, reason)

    def reopen(self, *, actor, reason=""):
        self._move("reopen", actor, reason)

    def _move(self, action, actor, reason=""):
        """Move to the action's status and write the timeline entry, in one transaction.

        The row is locked and re-read first: of two responders resolving at once, one wins and
        the other gets TransitionNotAllowed, and the timeline has one entry.
        """
        sources, target, stamp = TRANSITIONS[action]
        with transaction.atomic():
            current = Incident.objects.select_for_update().get(pk=self.pk)
            if current.status not in sources:
                raise TransitionNotAllowed(f"cannot {action} an incident that is {current.status}")
            now = timezone.now()
            fields = ["status", stamp]
            self.status = target
            setattr(self, stamp, now)
            if action == "acknowledge" and current.commander_id is None and actor is not None:
                self.commander = actor
                fields.append("commander")
            if action == "reopen":
                self.acknowledged_at = self.mitigated_at = self.resolved_at = None
                fields += ["acknowledged_at", "mitigated_at", "resolved_at"]
            self.save(update_fields=fields)
            self.add_entry(target if action != "reopen" else "reopened", actor=actor, body=reason, at=now)

    def add_entry(self, kind, *, actor, body="", data=None, at=None):
        return TimelineEntry.objects.create(
            incident=self, kind=kind, actor=actor, body=body, data=data or {}, at=at or timezone.now()
        )


class AppendOnly(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("timeline entries are append-only: add a correcting entry instead")

    def delete(self):
        raise TypeError("timeline entries are append-only")


class TimelineEntry(models.Model):
    """One thing that happened to an incident. Never changed once written: corrections are new entries."""

    class Kind(models.TextChoices):
        CREATED = "created"
        ACKNOWLEDGED = "acknowledged"
        MITIGATED = "mitigated"
        RESOLVED = "resolved"
        REOPENED = "reopened"
        ESCALATED = "escalated"
        UPDATED = "updated"
        NOTE = "note"
        ALERT_FIRED = "alert_fired"
        ALERT_RESOLVED = "alert_resolved"
        PAGED = "paged"
        DELIVERY = "delivery"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=32)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = AppendOnly.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["incident", "at"])]
        verbose_name_plural = "timeline entries"

    def __str__(self):
        return f"{self.at:%H:%M:%S} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("timeline entries are append-only: add a correcting entry instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("timeline entries are append-only")
