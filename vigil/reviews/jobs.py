"""The worker's review jobs: action-item reminders come due (timer rows), their messages go to the
outbox, and the outbox is delivered through the paging channels (email, signed webhooks, Apprise)
to each person's contact methods. Rows are claimed with SKIP LOCKED, so any number of workers share
the work; no lock is held while a message is on the network."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from vigil.paging import channels
from vigil.paging.engine import ways_to_reach
from vigil.paging.jobs import MAX_ATTEMPTS, backoff
from vigil.worker import claim_one, job

from .models import Message, Reminder

SUBJECTS = {
    Reminder.Kind.DUE_SOON: "[Vigil] Action item due {due}: {title}",
    Reminder.Kind.OVERDUE: "[Vigil] Action item overdue since {due}: {title}",
    Reminder.Kind.ESCALATION: "[Vigil] Overdue action item of {owner}: {title}",
}


def recipient(reminder):
    item = reminder.action_item
    if reminder.kind == Reminder.Kind.ESCALATION:
        return item.team.lead
    return item.owner


@job
def send_due_reminder(now=None):
    """Claim one reminder whose time has come; put its messages in the outbox, or say why not."""
    now = now or timezone.now()
    due = (Reminder.objects.filter(done_at=None, due_at__lte=now)
           .select_related("action_item__team__lead", "action_item__owner", "action_item__review"))
    with claim_one(due, ["due_at"]) as reminder:
        if reminder is None:
            return False
        item, user = reminder.action_item, recipient(reminder)
        reminder.done_at = now
        if not item.is_open:
            reminder.outcome = f"not sent: the item is {item.get_status_display().lower()}"
        elif user is None or not user.is_active:
            reminder.outcome = "not sent: the team has no lead" if reminder.kind == Reminder.Kind.ESCALATION else "not sent: no owner"
        else:
            reminder.outcome = _enqueue(reminder, item, user, now)
        reminder.save(update_fields=["done_at", "outcome"])
    return True


def _enqueue(reminder, item, user, now):
    methods = ways_to_reach(user)
    if not methods:
        return f"not sent: no way to reach {user} (no contact method, email not set up)"
    url = settings.BASE_URL + item.get_absolute_url()
    subject = SUBJECTS[reminder.kind].format(due=item.due_date.isoformat(), title=item.title, owner=item.owner)[:300]
    text = render_to_string("reviews/reminder.txt", {"item": item, "reminder": reminder, "user": user, "url": url})
    Message.objects.bulk_create([
        Message(reminder=reminder, user=user, kind=method.kind if method else "email",
                address=method.address if method else user.email,
                signing_secret=method.signing_secret if method else "", subject=subject, text=text, due_at=now,
                idempotency_key=f"reminder{reminder.pk}:u{user.pk}:m{method.pk if method else 0}")
        for method, _delay in methods
    ], ignore_conflicts=True)
    return f"sent to {user} by {len(methods)} method{'s' * (len(methods) != 1)}"


@job
def deliver_due_message(now=None):
    """Send one reminder message: claimed (sending, with a deadline), sent, then recorded; retried
    with the paging backoff; a message whose worker died mid-send is due again after its deadline."""
    now = now or timezone.now()
    pending = Message.objects.filter(state=Message.State.PENDING, due_at__lte=now)
    stuck = Message.objects.filter(state=Message.State.SENDING, sending_deadline__lt=now)
    if not (pending.exists() or stuck.exists()):
        return False
    with transaction.atomic():
        message = (pending.select_for_update(skip_locked=True, of=("self",))
                   .select_related("reminder__action_item").order_by("due_at").first()
                   or stuck.select_for_update(skip_locked=True).first())
        if message is None:
            return False
        message.state, message.attempts = Message.State.SENDING, message.attempts + 1
        message.sending_deadline = now + timedelta(seconds=settings.SENDING_DEADLINE_SECONDS)
        message.save(update_fields=["state", "attempts", "sending_deadline"])
    claimed = message.attempts
    item = message.reminder.action_item
    ok, detail = channels.deliver(message.kind, message.address, channels.Message(
        message.subject, message.text, idempotency_key=message.idempotency_key,
        data={"event": f"action_item.{message.reminder.kind}", "idempotency_key": message.idempotency_key,
              "action_item": {"id": item.pk, "title": item.title, "due_date": item.due_date.isoformat(),
                              "status": item.status, "url": settings.BASE_URL + item.get_absolute_url()},
              "text": message.text}), secret=message.signing_secret)
    with transaction.atomic():
        current = Message.objects.select_for_update().get(pk=message.pk)
        if current.state != Message.State.SENDING or current.attempts != claimed:
            return True  # our claim ran out and another worker took it over: its outcome stands
        now = timezone.now()
        if ok:
            current.state, current.sent_at, current.last_error = Message.State.SENT, now, ""
        elif current.attempts < MAX_ATTEMPTS:
            current.state, current.due_at, current.last_error = Message.State.PENDING, now + backoff(current.attempts), detail[:2000]
        else:
            current.state, current.last_error = Message.State.FAILED, detail[:2000]
        current.sending_deadline = None
        current.save(update_fields=["state", "sent_at", "due_at", "last_error", "sending_deadline"])
    return True
