"""Heartbeats: routine jobs (backups, system checks, updates) that ping Vigil when they run, as on
healthchecks.io. A job that does not ping in time, or pings a failure, becomes a firing alert
on its service.

The timer is `alert_after`, a column with an index: when the worker must look at the heartbeat
next (its deadline while it is up; "now" when the alert pipeline must be told of a change). The
worker claims due heartbeats with row locks like every other timer (jobs.py).
"""

import secrets
import uuid
import zoneinfo
from datetime import UTC, timedelta

from cronsim import CronSim, CronSimError
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

PING_BODY_LIMIT = 100 * 1024  # bytes of a ping body kept, as healthchecks.io's default
PINGS_KEPT = 100  # per heartbeat, the newest; healthchecks.io keeps 100 on its free plan too
MAX_RUN_TIME = timedelta(hours=72)  # a start older than this is not the start of the run that ended


def new_ping_key():
    # Shaped as a UUID (the healthchecks.io clients expect one) but all 128 bits random.
    return uuid.UUID(bytes=secrets.token_bytes(16))


def cron_error(expression, time_zone="UTC"):
    """Why `expression` (in `time_zone`) is not a schedule we can follow, or "" when it is."""
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {time_zone!r}"
    try:
        next(CronSim(expression, timezone.now().astimezone(zone)))
    except CronSimError as e:
        return str(e) or "not a cron expression"
    except StopIteration:
        return "this schedule never fires"
    return ""


def valid_time_zone(name):
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


class Heartbeat(models.Model):
    class Kind(models.TextChoices):
        SIMPLE = "simple", "Every period"
        CRON = "cron", "Cron schedule"

    class Status(models.TextChoices):
        NEW = "new", "New (no ping yet)"
        UP = "up", "Up"
        DOWN = "down", "Down"
        PAUSED = "paused", "Paused"

    class Alerted(models.TextChoices):
        NOTHING = "", "Nothing yet"
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    service = models.ForeignKey("catalog.Service", on_delete=models.CASCADE, related_name="heartbeats")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    # The ping URL's key: knowing it is the credential, as on healthchecks.io.
    uuid = models.UUIDField(default=new_ping_key, unique=True, editable=False)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SIMPLE)
    period = models.DurationField(default=timedelta(days=1), help_text="Expected time between pings.")
    grace = models.DurationField(default=timedelta(hours=1),
                                 help_text="How late a ping may be (or how long a started run may take) before it alerts.")
    cron = models.CharField(max_length=100, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    severity = models.CharField(max_length=4, default="sev2")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW)
    # Why it is down, in words (the alert's summary).
    down_reason = models.CharField(max_length=500, blank=True)
    last_ping_at = models.DateTimeField(null=True, blank=True)
    last_start_at = models.DateTimeField(null=True, blank=True)
    last_start_rid = models.UUIDField(null=True, blank=True)
    last_duration = models.DurationField(null=True, blank=True)
    last_exit_status = models.SmallIntegerField(null=True, blank=True)
    n_pings = models.PositiveIntegerField(default=0)
    # The timer (see the module docstring) and what the alert pipeline was last told.
    alert_after = models.DateTimeField(null=True, blank=True, db_index=True)
    alerted = models.CharField(max_length=8, choices=Alerted.choices, default=Alerted.NOTHING, blank=True)
    # Moves on every change of state, so the worker can tell that a ping came while it was away.
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["service__name", "name", "id"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("heartbeat-detail", args=[self.pk])

    @property
    def ping_url(self):
        return f"{settings.BASE_URL}/ping/{self.uuid}"

    @property
    def dedup_key(self):
        return f"heartbeat:{self.uuid}"

    @property
    def zone(self):
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return UTC

    # --- the schedule -----------------------------------------------------------------------

    def expected_after(self, at):
        """When the next ping is expected, given a ping at `at` (aware)."""
        if self.kind == self.Kind.CRON:
            # cronsim walks local wall-clock time in the zone and handles the DST gaps and repeats.
            try:
                return next(CronSim(self.cron, at.astimezone(self.zone))).astimezone(UTC)
            except (CronSimError, StopIteration):
                return None
        return at + self.period

    @property
    def expected_at(self):
        """When the next ping is due (before grace), or None when nothing is expected."""
        if self.status not in (self.Status.UP, self.Status.DOWN) or self.last_ping_at is None:
            return None
        return self.expected_after(self.last_ping_at)

    def deadline(self):
        """When the heartbeat goes down if nothing comes: the expected ping plus grace, or a run
        that started and has not finished within grace. None while new, paused or down."""
        if self.status != self.Status.UP:
            return None
        due = [d + self.grace for d in [self.expected_at] if d is not None]
        if self.last_start_at is not None:
            due.append(self.last_start_at + self.grace)
        return min(due) if due else None

    def is_late(self, now=None):
        """Past the expected time but within grace (healthchecks.io's "grace" state)."""
        now = now or timezone.now()
        expected = self.expected_at
        return self.status == self.Status.UP and expected is not None and expected < now

    @property
    def badge(self):
        """(CSS class, word) for the status badge; "late" is up but past the expected time."""
        if self.status == self.Status.DOWN:
            return "triggered", "down"
        if self.status == self.Status.UP:
            return ("acknowledged", "late") if self.is_late() else ("resolved", "up")
        return "", self.status

    @property
    def is_running(self):
        return self.last_start_at is not None and self.status != self.Status.PAUSED

    def needs_telling(self):
        """Whether the alert pipeline has not heard of the current state yet."""
        if self.status == self.Status.DOWN:
            return self.alerted != self.Alerted.FIRING
        return self.alerted == self.Alerted.FIRING

    def schedule(self, now):
        """Set the timer for the current state (call after every change of state)."""
        self.alert_after = now if self.needs_telling() else self.deadline()

    def why_down(self, now):
        """Why the heartbeat is down at `now`, once its deadline passed without a ping."""
        if self.last_start_at is not None and self.last_start_at + self.grace <= now:
            return (f"{self.name}: started at {self.last_start_at:%Y-%m-%d %H:%M} UTC and has not finished "
                    f"within the {_words(self.grace)} grace time")
        return (f"{self.name}: no ping since {self.last_ping_at:%Y-%m-%d %H:%M} UTC "
                f"(expected by {self.expected_at:%Y-%m-%d %H:%M} UTC, grace {_words(self.grace)})")

    @property
    def grace_text(self):
        return _words(self.grace)

    @property
    def last_duration_text(self):
        return run_time(self.last_duration)

    def schedule_text(self):
        if self.kind == self.Kind.CRON:
            return f"cron “{self.cron}” ({self.time_zone})"
        return f"every {_words(self.period)}"


def run_time(delta):
    """A run time for people: "12.3 s", "7 min 5 s", "2 h 3 min"."""
    if delta is None:
        return ""
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def _words(delta):
    seconds = int(delta.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} s"


class Ping(models.Model):
    class Kind(models.TextChoices):
        SUCCESS = "success", "Success"
        START = "start", "Start"
        FAIL = "fail", "Failure"
        LOG = "log", "Log"

    heartbeat = models.ForeignKey(Heartbeat, on_delete=models.CASCADE, related_name="pings")
    n = models.PositiveIntegerField(help_text="The heartbeat's ping number, from 1.")
    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    exit_status = models.SmallIntegerField(null=True, blank=True)
    rid = models.UUIDField(null=True, blank=True)
    method = models.CharField(max_length=8)
    scheme = models.CharField(max_length=8, default="http")
    remote_addr = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    body_size = models.PositiveIntegerField(default=0, help_text="Bytes received (the first 100 kB are kept).")
    duration = models.DurationField(null=True, blank=True)

    class Meta:
        ordering = ["-n"]
        constraints = [models.UniqueConstraint(fields=["heartbeat", "n"], name="one_ping_number_per_heartbeat")]

    def __str__(self):
        return f"#{self.n} {self.kind}"

    @property
    def duration_text(self):
        return run_time(self.duration)

    @property
    def body_truncated(self):
        return self.body_size > PING_BODY_LIMIT
