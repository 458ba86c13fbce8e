from django.db import models


class EscalationPolicy(models.Model):
    """Who is paged, in which order, when an incident opens on a service."""

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="escalation_policies")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    repeat = models.PositiveSmallIntegerField(default=0, help_text="How many times to run the levels again.")
    # [{"delay_seconds": 300, "targets": [{"type": "user" | "schedule" | "team", "id": 1}, ...]}, ...]
    # As in PagerDuty, a level's delay is how long after it is paged the next level is paged if
    # nobody acknowledged. Kept as one document because the engine copies it whole onto the
    # incident when paging starts; targets are checked when the policy is saved.
    levels = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="policy_name_unique_in_team")]

    def __str__(self):
        return self.name
