from django.db import models
from django.utils import timezone


class HostingProvider(models.Model):
    """Where a service runs, and how to get support there when it is the provider's fault."""

    name = models.CharField(max_length=100, unique=True)
    support_url = models.URLField(blank=True)
    support_email = models.EmailField(blank=True)
    support_phone = models.CharField(max_length=40, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Service(models.Model):
    """A production system Vigil watches, usually one per client project."""

    # /services/new/ is the create form, so no service may be called that.
    RESERVED_SLUGS = {"new"}

    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    hosting_provider = models.ForeignKey(
        HostingProvider, null=True, blank=True, on_delete=models.SET_NULL, related_name="services"
    )
    # The one reference up the layers: a service names its policy; oncall never imports catalog.
    escalation_policy = models.ForeignKey(
        "oncall.EscalationPolicy", null=True, blank=True, on_delete=models.SET_NULL, related_name="services"
    )
    monthly_approved_hours = models.DecimalField(
        max_digits=7, decimal_places=2, default=0,
        help_text="Corrective hours the client has pre-approved each month.",
    )
    project_manager = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_services",
        help_text="Told when corrective time overruns; reviews post-incident reports.",
    )
    auto_resolve = models.BooleanField(
        default=True, help_text="Resolve an incident by itself when every one of its alerts has resolved.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="service_name_unique_in_team")]

    def __str__(self):
        return self.name
