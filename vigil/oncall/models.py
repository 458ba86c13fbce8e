import datetime
import re
import secrets
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone

from vigil.accounts.models import Role, User, hash_token, validate_time_zone


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


# ---------------------------------------------------------------------------------------------
# On-call schedules. A schedule is a stack of layers (rotations) in one time zone, with overrides
# on top; the shifts themselves are never stored: vigil/oncall/shifts.py computes them from these
# rows, so editing a layer changes the future at once and the past stays explainable.
# ---------------------------------------------------------------------------------------------

CALENDAR_TOKEN_PREFIX = "vcal_"
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MAX_ROTATION_HOURS = 24 * 366
MAX_ROTATION_DAYS = 366


def new_calendar_token():
    """(raw token, its hash, its hint). 256 random bits: the token alone authenticates a feed."""
    raw = CALENDAR_TOKEN_PREFIX + secrets.token_urlsafe(32)
    return raw, hash_token(raw), raw[:11]


def calendar_url(raw):
    return settings.BASE_URL + reverse("calendar-feed", args=[raw])


_ROTATION = re.compile(r"^(?:(daily|weekly)|(hours|days):([1-9][0-9]{0,3}))$")


def parse_rotation(value):
    """"daily" | "weekly" | "hours:N" | "days:N" -> ("hours" | "days", N). Raises ValueError."""
    match = _ROTATION.match(value or "")
    if not match:
        raise ValueError('use "daily", "weekly", "hours:N" or "days:N"')
    if match.group(1):
        return ("days", 1 if match.group(1) == "daily" else 7)
    unit, count = match.group(2), int(match.group(3))
    if count > (MAX_ROTATION_HOURS if unit == "hours" else MAX_ROTATION_DAYS):
        raise ValueError(f"a rotation is at most {MAX_ROTATION_DAYS} days long")
    return (unit, count)


def format_rotation(unit, count):
    if unit == "days" and count in (1, 7):
        return "daily" if count == 1 else "weekly"
    return f"{unit}:{count}"


def on_call_candidates(team_id):
    """Who may be on call for a team: its active admins and responders (viewers only follow)."""
    return User.objects.filter(
        is_active=True, memberships__team_id=team_id, memberships__role__in=[Role.ADMIN, Role.RESPONDER])


def validate_rotation(value):
    try:
        parse_rotation(value)
    except ValueError as e:
        raise ValidationError(str(e))


class Schedule(models.Model):
    """Who is on call for a team, in one time zone: layers of rotations, overrides on top.

    The calendar feed's token is stored only as a hash: its URL is shown when it is made or
    rotated, like an API token.
    """

    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    calendar_token_hash = models.CharField(max_length=64, unique=True)
    calendar_token_hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="schedule_name_unique_in_team")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("schedule-detail", args=[self.pk])

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.time_zone)

    def escalation_policies_paging(self):
        """Names of the team's escalation policies with this schedule among their targets."""
        names = []
        for policy in self.team.escalation_policies.all():
            targets = [t for level in policy.levels or [] for t in level.get("targets", [])]
            if any(t.get("type") == "schedule" and t.get("id") == self.pk for t in targets):
                names.append(policy.name)
        return names

    def set_calendar_token(self):
        """Give the feed a new token (the old URL stops working once saved); returns the raw token."""
        raw, self.calendar_token_hash, self.calendar_token_hint = new_calendar_token()
        return raw


class Layer(models.Model):
    """One rotation of a schedule: participants take turns, handing off at a local wall-clock time.

    Hand-offs of "daily", "weekly" and "days:N" happen at `handoff_time` in the schedule's zone,
    counted in local days from the local date of `start` (so a daily 09:00 hand-off stays at 09:00
    across DST, and a shift may last 23 or 25 hours); "hours:N" hands off every N elapsed hours
    from `start`. The first shift starts at `start` and runs to the first hand-off after the start
    day. An optional restriction keeps only the parts of each shift inside a daily window on some
    weekdays; a window whose end is not after its start crosses midnight (nights 18:00-08:00).
    """

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=100)
    # Higher layers win where they have someone on call; lower ones fill the gaps.
    order = models.PositiveSmallIntegerField(default=0)
    start = models.DateTimeField()
    rotation = models.CharField(max_length=16, default="weekly", validators=[validate_rotation])
    handoff_time = models.TimeField(default=datetime.time(9, 0))
    # Weekday numbers, Monday = 0. Empty: every day.
    restrict_days = models.JSONField(default=list, blank=True)
    # Both empty: the whole day. The window belongs to the weekday on which it starts.
    restrict_start = models.TimeField(null=True, blank=True)
    restrict_end = models.TimeField(null=True, blank=True)
    participants = models.ManyToManyField("accounts.User", through="LayerMember", related_name="+")

    class Meta:
        ordering = ["order", "id"]

    def __str__(self):
        return self.name

    @property
    def rotation_unit(self):
        return parse_rotation(self.rotation)

    @property
    def is_restricted(self):
        return bool(self.restrict_days) or self.restrict_start is not None

    def participant_users(self):
        """Participants in rotation order; uses prefetched `members__user` when there is one."""
        return [m.user for m in sorted(self.members.all(), key=lambda m: (m.position, m.pk))]

    def restriction_label(self):
        if not self.is_restricted:
            return ""
        days = ", ".join(WEEKDAYS[d].capitalize() for d in sorted(self.restrict_days)) or "every day"
        if self.restrict_start is None:
            return days
        return f"{days} {self.restrict_start:%H:%M}–{self.restrict_end:%H:%M}"


class LayerMember(models.Model):
    """A participant's place in a layer's rotation. The same person may appear more than once."""

    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="layer_memberships")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["layer", "position"], name="one_participant_per_position")]


class Override(models.Model):
    """Someone is on call for a span, whoever the layers say. With `covers`, only where that
    person would have been on call ("take this shift", "cover for me")."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="oncall_overrides")
    start = models.DateTimeField()
    end = models.DateTimeField()
    covers = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["start", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="override_ends_after_start")]
        # "Who is on call now" and the shifts of a range look overrides up by schedule and time.
        indexes = [models.Index(fields=["schedule", "end"], name="override_schedule_end")]

    def __str__(self):
        return f"{self.user} on {self.schedule} {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M}"


class UserCalendar(models.Model):
    """A user's personal feed: their shifts across every schedule of their teams."""

    user = models.OneToOneField("accounts.User", on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"calendar of {self.user} ({self.hint}…)"
