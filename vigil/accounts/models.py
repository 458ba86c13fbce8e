import hashlib
import secrets
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


def validate_time_zone(value):
    from django.core.exceptions import ValidationError

    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"unknown time zone {value!r}")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        return self.create_user(email, password, is_staff=True, is_superuser=True, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who responds to incidents. `is_superuser` makes a site admin, who sees every team."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="Can use the Django admin.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    class Meta:
        ordering = ["name", "email"]

    def __str__(self):
        return self.name or self.email

    def get_full_name(self):
        return str(self)

    def get_short_name(self):
        return str(self)

    def team_ids(self):
        """Ids of the teams this user may see. Cached on the instance for one request."""
        if not hasattr(self, "_team_ids"):
            self._team_ids = set(self.memberships.values_list("team_id", flat=True))
        return self._team_ids

    def role_in(self, team_id):
        if self.is_superuser:
            return Role.ADMIN
        if not hasattr(self, "_roles"):
            self._roles = dict(self.memberships.values_list("team_id", "role"))
        return self._roles.get(team_id)


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    # Incident numbers are per team; the counter is bumped with an UPDATE, which locks the row.
    last_incident_number = models.PositiveIntegerField(default=0)
    lead = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams",
        help_text="Reviews post-incident reports and hears about overdue action items.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    RESPONDER = "responder", "Responder"
    VIEWER = "viewer", "Viewer"


# What each role may do, in increasing order: a role can do everything the ones below it can.
ROLE_RANK = {Role.VIEWER: 1, Role.RESPONDER: 2, Role.ADMIN: 3}


class TeamNeedsAnAdmin(Exception):
    """The change would leave a team with no admin to manage it (answered as 409)."""


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.RESPONDER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "team"], name="one_membership_per_team")]
        ordering = ["team__name", "user__name"]

    def __str__(self):
        return f"{self.user} in {self.team} ({self.role})"

    def is_last_admin(self):
        return self.role == Role.ADMIN and not self.team.memberships.filter(role=Role.ADMIN).exclude(pk=self.pk).exists()


def hash_token(raw):
    # Tokens carry 256 random bits, so a fast hash is enough: nothing to brute-force, unlike a password.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its hash is stored; the token itself is shown once."""

    PREFIX = "vgl_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters, kept so that a user can tell their tokens apart.
    hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.hint}…)"

    @classmethod
    def generate(cls, user, name):
        """Create a token; returns (token row, raw token). The raw token is not kept anywhere."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, token_hash=hash_token(raw), hint=raw[:10])
        return token, raw

    @classmethod
    def authenticate(cls, raw):
        """The active user of a valid, unrevoked token, or None. Records the last use at most once a minute."""
        try:
            token = cls.objects.select_related("user").get(
                token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        except cls.DoesNotExist:
            return None
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            # A write per request would serialise reads on SQLite; a minute is precise enough.
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user

    @property
    def is_active(self):
        return self.revoked_at is None


class AuditEntry(models.Model):
    """Who changed what, through which door, with the values before and after."""

    class Channel(models.TextChoices):
        API = "api"
        UI = "ui"
        CLI = "cli"
        SYSTEM = "system"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name_plural = "audit entries"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.object_type} {self.object_id}"
