"""The paging engine: who is paged, when, and what stops it.

State lives in rows: an Escalation per incident (its `next_step_at` is the timer) and the
Notification outbox. The incident's actions tell us of every change through `incident_changed`,
inside their transaction, so "the incident was acknowledged" and "its pending pages were
cancelled" commit together. The worker (jobs.py) claims due escalation steps and notifications.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from vigil import worker
from vigil.accounts.models import Role, User
from vigil.incidents.models import Status, TimelineEntry
from vigil.incidents.signals import incident_changed

from .models import Escalation, Notification

NO_POLICY = "team admins (the service has no escalation policy)"


@receiver(incident_changed)
def on_incident_changed(sender, incident, action, actor=None, user_ids=(), team_id=None, **extra):
    if action == "create":
        start(incident)
    elif action == "reopen":
        stop(incident, "reopened")
        start(incident)
    elif action in ("acknowledge", "mitigate", "resolve"):
        stop(incident, action + "d")
    elif action == "escalate":
        ask_for_help(incident, actor, User.objects.filter(pk__in=user_ids, is_active=True), team_id)


def start(incident, now=None):
    """Begin paging: the policy is copied onto a new Escalation whose first step is due now."""
    now = now or timezone.now()
    policy = incident.service.escalation_policy
    if policy is not None and policy.levels:
        name, levels, repeat = policy.name, policy.levels, policy.repeat
    else:
        name, levels, repeat = NO_POLICY, [{"delay_seconds": 0, "targets": [{"type": "team_admins", "id": incident.team_id}]}], 0
    Escalation.objects.create(incident=incident, policy_name=name, levels=levels, repeat=repeat, next_step_at=now)
    transaction.on_commit(worker.wake)


def stop(incident, why, now=None):
    """Stop escalating and cancel the pages not yet sent. Idempotent."""
    now = now or timezone.now()
    Escalation.objects.filter(incident=incident, active=True).update(
        active=False, next_step_at=None, stopped_at=now, stop_reason=why)
    Notification.objects.filter(incident=incident, state=Notification.State.PENDING, text="").update(
        state=Notification.State.CANCELLED)


def ask_for_help(incident, actor, users, team_id, now=None):
    """Page these users or this team now; with neither, the next level of the policy now."""
    now = now or timezone.now()
    people = list(users)
    if team_id:
        people += members(team_id, [Role.ADMIN, Role.RESPONDER])
    if people:
        page(incident, None, _unique(people), f"asked for help by {actor or 'Vigil'}", f"help:{now.timestamp()}", now)
        transaction.on_commit(worker.wake)
        return
    escalation = Escalation.objects.filter(incident=incident).order_by("-id").first()
    if escalation is None:
        start(incident, now)
        return
    # The next level is due now, whether the escalation was waiting, stopped by an
    # acknowledgement, or had run out of levels (then it goes round again).
    Escalation.objects.filter(pk=escalation.pk).update(active=True, next_step_at=now, stopped_at=None, stop_reason="")
    transaction.on_commit(worker.wake)


def run_step(escalation, now):
    """Page the escalation's next level and set the timer for the one after. Call inside a
    transaction holding the escalation's row lock."""
    incident = escalation.incident
    levels = escalation.levels
    if escalation.level >= len(levels):
        escalation.level, escalation.loop = 0, escalation.loop + 1
    while True:
        index = escalation.level
        level = levels[index]
        users, missing = resolve_targets(level.get("targets", []), incident, now)
        # Someone on call with no way to be reached counts as nobody: the next level must not wait.
        missing += [f"no way to reach {u}: no contact method" for u in users if not ways_to_reach(u)]
        users = [u for u in users if ways_to_reach(u)]
        if users:
            break
        more = _advance(escalation)
        incident.add_entry(TimelineEntry.Kind.PAGED, actor=None, at=now, data={"level": index + 1},
                           body=f"Level {index + 1}: nobody to page ({'; '.join(missing) or 'no targets'}); "
                                + ("falling through to the next level." if more else "it was the last level."))
        if not more:
            _last_resort(escalation, incident, now)
            return
    round_ = f", round {escalation.loop + 1}" if escalation.loop else ""
    page(incident, escalation, users, f"level {index + 1}{round_}", f"esc{escalation.pk}:r{escalation.loop}:l{index}", now)
    delay = int(level.get("delay_seconds", 0))
    escalation.next_step_at = now + timedelta(seconds=delay) if _advance(escalation) else None
    if incident.status != Status.TRIGGERED:
        # Help asked on an incident someone already owns: one page, no chain of timers after it.
        escalation.active, escalation.next_step_at = False, None
        escalation.stopped_at, escalation.stop_reason = now, "paged once on request"
    escalation.save(update_fields=["level", "loop", "next_step_at", "active", "stopped_at", "stop_reason"])


def _advance(escalation):
    """Move to the next level (or round). False when the policy has run out."""
    escalation.level += 1
    if escalation.level >= len(escalation.levels) and escalation.loop < escalation.repeat:
        escalation.level, escalation.loop = 0, escalation.loop + 1
    return escalation.level < len(escalation.levels)


def _last_resort(escalation, incident, now):
    admins = members(incident.team_id, [Role.ADMIN])
    if admins:
        page(incident, escalation, admins, "team admins (no level had anyone to page)", f"esc{escalation.pk}:last", now)
    else:
        incident.add_entry(TimelineEntry.Kind.PAGED, actor=None, at=now, body="Nobody could be paged: the team has no admin.")
    escalation.next_step_at = None
    escalation.save(update_fields=["level", "loop", "next_step_at"])


def resolve_targets(targets, incident, now):
    """(users to page, descriptions of the targets that gave nobody)."""
    users, missing = [], []
    for target in targets:
        kind, pk = target.get("type"), target.get("id")
        if kind == "user":
            found = list(User.objects.filter(pk=pk, is_active=True))
            what = f"user {pk} is gone"
        elif kind == "schedule":
            from vigil.oncall.models import Schedule
            from vigil.oncall.shifts import oncall_users

            schedule = Schedule.objects.filter(pk=pk).first()
            found = [u for u in oncall_users(schedule, now) if u.is_active] if schedule else []
            what = f"nobody on call in {schedule.name if schedule else f'schedule {pk}'}"
        elif kind == "team":
            found = members(pk, [Role.ADMIN, Role.RESPONDER])
            what = f"team {pk} has no responder"
        elif kind == "team_admins":
            found = members(pk, [Role.ADMIN])
            what = "the team has no admin"
        else:
            found, what = [], f"unknown target {kind}"
        users += found
        if not found:
            missing.append(what)
    return _unique(users), missing


def members(team_id, roles):
    return list(User.objects.filter(memberships__team_id=team_id, memberships__role__in=roles, is_active=True).distinct())


def _unique(users):
    seen, out = set(), []
    for user in users:
        if user.pk not in seen:
            seen.add(user.pk)
            out.append(user)
    return out


def page(incident, escalation, users, reason, key, now):
    """Put one notification per user and rule in the outbox (in the caller's transaction) and say so
    on the timeline. The idempotency keys make a repeat of the same step a no-op."""
    rows, reached, unreachable = [], [], []
    for user in users:
        methods = ways_to_reach(user)
        if not methods:
            unreachable.append(str(user))
            continue
        for method, delay in methods:
            rows.append(Notification(
                incident=incident, escalation=escalation, user=user, contact_method=method,
                kind=method.kind if method else "email", address=method.address if method else user.email,
                reason=reason, due_at=now + timedelta(seconds=delay), created_at=now,
                idempotency_key=f"inc{incident.pk}:{key}:u{user.pk}:m{method.pk if method else 0}:d{delay}",
            ))
        reached.append(f"{user} ({', '.join(_method_name(m, d) for m, d in methods)})")
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if reached:
        body = f"Paged {reason}: {'; '.join(reached)}."
        if unreachable:
            body += f" No way to reach {', '.join(unreachable)}: add a contact method."
    else:
        body = f"Could not page {reason}: no way to reach {', '.join(unreachable)} (add a contact method)."
    incident.add_entry(TimelineEntry.Kind.PAGED, actor=None, at=now, body=body,
                       data={"reason": reason, "users": [u.pk for u in users]})


def ways_to_reach(user):
    """[(contact method or None for the account's email, delay in seconds)], by the user's rules,
    else all their methods at once, else their account's email when email is set up."""
    if not hasattr(user, "_ways_to_reach"):
        methods = [(r.contact_method, r.delay_seconds) for r in user.notification_rules.select_related("contact_method")]
        if not methods:
            methods = [(m, 0) for m in user.contact_methods.all()]
        if not methods and settings.SMTP_URL:
            methods = [(None, 0)]
        user._ways_to_reach = methods
    return user._ways_to_reach


def _method_name(method, delay):
    name = method.get_kind_display().split(" (")[0] if method else "email"
    return name if not delay else f"{name} after {delay // 60} min"


def escalate_after_failure(notification, now):
    """A page that could not be delivered at all: page the next level at once (if still unowned)."""
    incident = notification.incident
    if incident.status != Status.TRIGGERED or not notification.is_page:
        return
    updated = Escalation.objects.filter(incident=incident, active=True).exclude(next_step_at=None).update(next_step_at=now)
    if updated:
        incident.add_entry(TimelineEntry.Kind.PAGED, actor=None, at=now,
                           body=f"Escalating now: the page to {notification.user} could not be delivered.")
