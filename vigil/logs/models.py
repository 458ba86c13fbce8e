"""Log triage: where a service's logs come in, the templates mined from them, and its error groups."""

from django.db import models
from django.urls import reverse
from django.utils import timezone


class LogSource(models.Model):
    """A named stream of log lines of one service: `POST /api/v1/logs/<name>` or an upload."""

    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="log_sources")
    name = models.SlugField(max_length=100, unique=True, help_text="Used in the URL lines are posted to.")
    log_format = models.CharField(
        max_length=300, blank=True,
        help_text="Only when the header is in no format Vigil knows, e.g. `<Date> <Time> <Level> <Component>: <Content>`.")
    lines_received = models.BigIntegerField(default=0)
    last_received_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service__name", "name"]

    def __str__(self):
        return self.name


class ServiceLogs(models.Model):
    """Per service: the template miner's state (shared by its sources) and the opt-in alert rule."""

    class MinLevel(models.TextChoices):
        WARN = "WARN", "WARN and above"
        ERROR = "ERROR", "ERROR and above"
        FATAL = "FATAL", "FATAL only"

    service = models.OneToOneField("catalog.Service", on_delete=models.CASCADE, related_name="logs")
    state = models.JSONField(default=dict)
    version = models.PositiveBigIntegerField(default=0)  # + 1 per write of `state`
    data_since = models.DateTimeField(null=True, blank=True)
    alert_on_new = models.BooleanField(
        default=False, help_text="Raise an alert on the service when a new group at the level below appears.")
    alert_on_burst = models.BooleanField(
        default=False, help_text="Raise an alert when such a group bursts (its last hour at least 4 times its own mean).")
    alert_min_level = models.CharField(max_length=5, choices=MinLevel.choices, default=MinLevel.ERROR)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"logs of {self.service}"


class ErrorGroup(models.Model):
    """Lines of one service that share a template."""

    class State(models.TextChoices):
        NEW = "new", "New"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        FIXED = "fixed", "Fixed"
        IGNORED = "ignored", "Ignored"
        REGRESSED = "regressed", "Regressed"

    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="error_groups")
    key = models.PositiveBigIntegerField(help_text="The template miner's group id within the service.")
    template = models.TextField()
    level = models.CharField(max_length=5, blank=True)
    count = models.BigIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    hourly = models.JSONField(default=dict)  # {"<epoch hour>": lines}, the last 7 days with lines
    samples = models.JSONField(default=list)  # a reservoir of raw lines
    sampled = models.BigIntegerField(default=0)  # lines the reservoir has seen
    hosts = models.JSONField(default=list)
    components = models.JSONField(default=list)
    state = models.CharField(max_length=12, choices=State.choices, default=State.NEW)
    state_changed_at = models.DateTimeField(default=timezone.now)
    fixed_at = models.DateTimeField(null=True, blank=True)
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="error_groups")
    action_items = models.ManyToManyField("reviews.ActionItem", blank=True, related_name="error_groups",
                                          help_text="Action items made from this group.")
    alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [models.UniqueConstraint(fields=["service", "key"], name="logs_errorgroup_service_key")]

    def __str__(self):
        return self.template[:80]

    def get_absolute_url(self):
        return reverse("log-group-detail", args=[self.pk])
