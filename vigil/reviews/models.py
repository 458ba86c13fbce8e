"""Post-incident reviews (root cause analysis) and the action items that come out of them.

A review belongs to one incident and its team. Its text sections follow the team's template,
copied onto the review when it is started, so editing the template later does not change a review
under way. Reminders about action items are timer rows (`Reminder`) that the worker claims.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class ReviewNotAllowed(Exception):
    """The review's status (or a missing precondition) does not allow the step (answered as 409)."""


DEFAULT_SECTIONS = [
    {"key": "summary", "title": "Summary", "prompt": "What happened, in two or three sentences a client can read."},
    {"key": "impact", "title": "Impact",
     "prompt": "Duration, affected services and customers, SLA breaches. Filled in from the incident; correct it."},
    {"key": "detection", "title": "Detection", "prompt": "How was it noticed, and how long did that take?"},
    {"key": "root_cause", "title": "Root cause analysis",
     "prompt": "The cause in words; the 5 Whys or contributing factors below give the structure."},
    {"key": "resolution", "title": "Resolution",
     "prompt": "What fixed it, and whether that fix is short-term (a workaround) or long-term."},
    {"key": "went_well", "title": "What went well", "prompt": ""},
    {"key": "went_badly", "title": "What went badly", "prompt": ""},
    {"key": "lucky", "title": "Where we were lucky", "prompt": ""},
    {"key": "lessons", "title": "Lessons learned", "prompt": ""},
]


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"


class Technique(models.TextChoices):
    FIVE_WHYS = "five_whys", "5 Whys"
    FISHBONE = "fishbone", "Contributing factors (fishbone)"


class RootCauseCategory(models.TextChoices):
    UNKNOWN = "", "Not decided yet"
    CODE_CHANGE = "code_change", "Code change / deploy"
    CONFIGURATION = "configuration", "Configuration"
    CAPACITY = "capacity", "Capacity"
    DEPENDENCY = "dependency", "Third-party dependency"
    INFRASTRUCTURE = "infrastructure", "Infrastructure / hosting"
    DATA = "data", "Data"
    SECURITY = "security", "Security"
    PROCESS = "process", "Process / human"
    MONITORING = "monitoring", "Missing monitoring"


class FactorCategory(models.TextChoices):
    PEOPLE = "people", "People"
    PROCESS = "process", "Process"
    TECHNOLOGY = "technology", "Technology"
    ENVIRONMENT = "environment", "Environment"
    EXTERNAL = "external", "External"


class FixType(models.TextChoices):
    UNKNOWN = "", "Not decided yet"
    SHORT_TERM = "short_term", "Short-term (workaround)"
    LONG_TERM = "long_term", "Long-term"
    BOTH = "both", "Both: a workaround now, the long-term fix tracked"


class ReviewSettings(models.Model):
    """A team's choices: who reviews (empty: the team lead and the service's project manager), the
    template's sections, and when action-item reminders go out."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="review_settings")
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    sections = models.JSONField(default=list, blank=True)
    remind_days_before = models.PositiveSmallIntegerField(default=2)
    escalate_days_after = models.PositiveSmallIntegerField(default=3)

    def __str__(self):
        return f"review settings of {self.team}"

    @classmethod
    def of(cls, team):
        return cls.objects.filter(team=team).first() or cls(team=team, sections=[])

    def template(self):
        return self.sections or DEFAULT_SECTIONS


class Review(models.Model):
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="reviews")
    incident = models.ForeignKey("incidents.Incident", on_delete=models.PROTECT, related_name="reviews")
    title = models.CharField(max_length=255)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # [{"key", "title", "prompt"}], from the team's template when the review was started.
    template = models.JSONField(default=list)
    sections = models.JSONField(default=dict, blank=True)  # key -> Markdown
    # The incident's timeline, copied when the review is started, then curated: [{"at", "text"}].
    timeline = models.JSONField(default=list, blank=True)
    technique = models.CharField(max_length=10, choices=Technique.choices, default=Technique.FIVE_WHYS)
    # 5 Whys: [{"id", "parent" (id or null), "why", "answer", "evidence": [url]}]; several children of
    # one parent are branches (more than one cause).
    whys = models.JSONField(default=list, blank=True)
    # Fishbone: [{"category", "description"}].
    factors = models.JSONField(default=list, blank=True)
    root_cause_category = models.CharField(max_length=20, choices=RootCauseCategory.choices, blank=True, db_index=True)
    root_cause = models.CharField(max_length=500, blank=True, help_text="The root cause in one line.")
    fix_type = models.CharField(max_length=10, choices=FixType.choices, blank=True)
    no_action_reason = models.TextField(blank=True)
    no_action_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["team", "status", "-created_at"])]

    def __str__(self):
        return f"Review #{self.pk}: {self.title}"

    def get_absolute_url(self):
        return reverse("review-detail", args=[self.pk])

    @property
    def editable(self):
        return self.status in (Status.DRAFT, Status.IN_REVIEW)

    def section_list(self):
        """[(key, title, prompt, markdown)] in template order."""
        return [(s["key"], s["title"], s.get("prompt", ""), self.sections.get(s["key"], "")) for s in self.template]

    def why_tree(self):
        """The 5 Whys as nested [(node, [children...])], roots first, in the order written."""
        children = {}
        for node in self.whys:
            children.setdefault(node.get("parent"), []).append(node)

        def build(parent, depth):
            return [(dict(node, depth=depth), build(node["id"], depth + 1)) for node in children.get(parent, [])]

        return build(None, 1)

    def approvals_missing(self):
        return [r for r in self.reviewer_rows.all() if r.approved_at is None]


class Reviewer(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="reviewer_rows")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["review", "user"], name="one_reviewer_row_per_user")]

    def __str__(self):
        return f"{self.user} on review {self.review_id}"


class Comment(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class ActionItem(models.Model):
    class Kind(models.TextChoices):
        CORRECTIVE = "corrective", "Corrective"
        PREVENTIVE = "preventive", "Preventive"
        PROCESS = "process", "Process"
        MONITORING = "monitoring", "Monitoring"

    class Priority(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        WONT_DO = "wont_do", "Won't do"

    OPEN_STATES = [State.OPEN, State.IN_PROGRESS]

    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="action_items")
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.SET_NULL, related_name="action_items")
    incident = models.ForeignKey("incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="action_items")
    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CORRECTIVE)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="action_items")
    due_date = models.DateField()
    priority = models.CharField(max_length=6, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=11, choices=State.choices, default=State.OPEN)
    wont_do_reason = models.TextField(blank=True)
    external_url = models.URLField(max_length=2000, blank=True, help_text="The ticket, if it is tracked elsewhere too.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["team", "status", "due_date"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("action-item-detail", args=[self.pk])

    @property
    def is_open(self):
        return self.status in self.OPEN_STATES

    def is_overdue(self, today=None):
        return self.is_open and self.due_date < (today or timezone.localdate())

    def at_nine(self, day):
        """09:00 on `day` in the owner's time zone: when a reminder about that day goes out."""
        zone = ZoneInfo(getattr(self.owner, "time_zone", "") or "UTC")
        return datetime.combine(day, time(9, 0), tzinfo=zone)


class Reminder(models.Model):
    """A timer: tell someone about an action item at `due_at`. Claimed by the worker with a row lock;
    it writes the messages to the outbox and marks the reminder done in one transaction."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", "due soon (to the owner)"
        OVERDUE = "overdue", "overdue (to the owner)"
        ESCALATION = "escalation", "overdue escalation (to the team lead)"

    action_item = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["due_at"], condition=Q(done_at=None), name="reminder_due")]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.action_item_id} at {self.due_at}"


class Message(models.Model):
    """The reminders' outbox: one message to one person by one contact method, delivered by the
    worker through the paging channels (email, webhook, Apprise): pending → sending → sent or failed."""

    class State(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8)
    address = models.CharField(max_length=2000)
    signing_secret = models.CharField(max_length=64, blank=True)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    due_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    sending_deadline = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["due_at"], condition=Q(state="pending"), name="review_message_due")]


def reminder_times(item, team_settings):
    """[(kind, when)] for an open item: before the due date, the day after it, and the escalation."""
    return [
        (Reminder.Kind.DUE_SOON, item.at_nine(item.due_date - timedelta(days=team_settings.remind_days_before))),
        (Reminder.Kind.OVERDUE, item.at_nine(item.due_date + timedelta(days=1))),
        (Reminder.Kind.ESCALATION, item.at_nine(item.due_date + timedelta(days=team_settings.escalate_days_after))),
    ]
