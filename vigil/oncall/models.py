from django.db import models


class EscalationPolicy(models.Model):
    """Who is paged, in which order, when an incident opens on a service.

    Levels, targets and the paging engine come with the on-call issue; services can already
    name their policy.
    """

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="escalation_policies")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    repeat = models.PositiveSmallIntegerField(default=0, help_text="How many times to run the levels again.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="policy_name_unique_in_team")]

    def __str__(self):
        return self.name
