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
    # Impact, as the responders understand it: it may have started before the first alert.
    impact = models.TextField(blank=True, help_text="What customers notice, in their words.")
    impact_started_at = models.DateTimeField(null=True, blank=True)
    affected_services = models.ManyToManyField("catalog.Service", blank=True, related_name="affecting_incidents")
    affected_components = models.JSONField(default=list, blank=True, help_text="Names of components, e.g. “checkout API”.")

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
            take_command = action == "acknowledge" and current.commander_id is None and getattr(actor, "pk", None)
            if take_command:
                self.commander = actor
                fields.append("commander")
            if action == "reopen":
                self.acknowledged_at = self.mitigated_at = self.resolved_at = None
                fields += ["acknowledged_at", "mitigated_at", "resolved_at"]
            self.save(update_fields=fields)
            self.add_entry(target if action != "reopen" else "reopened", actor=actor, body=reason, at=now)
            if take_command:
                RoleAssignment.start(self, actor, IncidentRole.COMMANDER, actor=actor, at=now,
                                     why="first to acknowledge")

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
        ROLE = "role"
        FIX = "fix"
        STAKEHOLDER_UPDATE = "stakeholder_update"
        UPDATE_REMINDER = "update_reminder"

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


class IncidentRole(models.TextChoices):
    COMMANDER = "commander", "Incident commander"
    COMMUNICATIONS = "communications", "Communications lead"
    RESPONDER = "responder", "Responder"


# One person at a time holds these; any number are responders.
SINGLE_HOLDER_ROLES = [IncidentRole.COMMANDER, IncidentRole.COMMUNICATIONS]


class RoleAssignment(models.Model):
    """Someone holding a role on an incident, from `started_at` until they leave or hand it over
    (`ended_at`). Ended rows are kept: they are who did what, when, for the review."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="role_assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=16, choices=IncidentRole.choices)
    started_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            # Two people assigning a commander at once: one wins, the other gets an IntegrityError.
            models.UniqueConstraint(fields=["incident", "role"], condition=models.Q(ended_at=None, role__in=SINGLE_HOLDER_ROLES),
                                    name="one_holder_of_single_roles"),
            models.UniqueConstraint(fields=["incident", "role", "user"], condition=models.Q(ended_at=None),
                                    name="one_active_assignment_per_user_and_role"),
        ]

    def __str__(self):
        return f"{self.user} as {self.role} of {self.incident_id}"

    @property
    def is_active(self):
        return self.ended_at is None

    @classmethod
    def start(cls, incident, user, role, *, actor, at, why="", previous=None):
        """Record that `user` now holds `role`, with its timeline entry. Inside the caller's transaction."""
        assignment = cls.objects.create(incident=incident, user=user, role=role, started_at=at,
                                        assigned_by=actor if getattr(actor, "pk", None) else None)
        label = IncidentRole(role).label.lower()
        if previous is not None:
            body = f"{previous} handed {label} over to {user}" if previous == actor else f"{label.capitalize()}: {previous} → {user}"
            change = "handed_over"
        else:
            body = f"{user} is {label}" + (f" ({why})" if why else "")
            change = "assigned"
        incident.add_entry(TimelineEntry.Kind.ROLE, actor=actor, at=at, body=body, data={
            "change": change, "role": role, "user": user.pk, "previous": previous.pk if previous else None})
        return assignment


class FixAction(models.TextChoices):
    """The containment and fix actions responders log (the quick actions on the incident page)."""

    ISOLATE = "isolate", "Isolate a component"
    REDIRECT_TRAFFIC = "redirect_traffic", "Redirect traffic"
    ROLLBACK = "rollback", "Roll back a change"
    RESTART = "restart", "Restart a service"
    PATCH = "patch", "Apply a patch"
    WORKAROUND = "workaround", "Apply a workaround"


class FixOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Worked"
    PARTIAL = "partial", "Helped partly"
    FAILED = "failed", "Did not work"
    PENDING = "pending", "Too early to tell"


# What each action must name, besides the outcome. `from` and `to`: versions for a rollback,
# where traffic went before and goes now for a redirect.
FIX_REQUIRED = {
    FixAction.ISOLATE: ["target"],
    FixAction.REDIRECT_TRAFFIC: ["from", "to"],
    FixAction.ROLLBACK: ["change", "from", "to"],
    FixAction.RESTART: ["target"],
    FixAction.PATCH: ["summary"],
    FixAction.WORKAROUND: ["summary"],
}
FIX_FIELDS = ["target", "change", "from", "to", "summary", "command", "link", "outcome", "note"]


def describe_fix(data):
    """One sentence for the timeline, from a fix entry's data."""
    action, get = data["action"], lambda k: data.get(k) or ""
    sentence = {
        FixAction.ISOLATE: f"Isolated {get('target')}",
        FixAction.REDIRECT_TRAFFIC: f"Redirected traffic{' of ' + get('target') if get('target') else ''} from {get('from')} to {get('to')}",
        FixAction.ROLLBACK: f"Rolled back {get('change')}{' on ' + get('target') if get('target') else ''} from {get('from')} to {get('to')}",
        FixAction.RESTART: f"Restarted {get('target')}",
        FixAction.PATCH: f"Applied a patch{' to ' + get('target') if get('target') else ''}: {get('summary')}",
        FixAction.WORKAROUND: f"Applied a workaround{' to ' + get('target') if get('target') else ''}: {get('summary')}",
    }[action]
    if action in (FixAction.ISOLATE, FixAction.RESTART) and get("summary"):
        sentence += f": {get('summary')}"
    sentence += f". Outcome: {FixOutcome(data['outcome']).label.lower()}"
    if get("note"):
        sentence += f" ({get('note')})"
    return sentence + "."
