"""Every timer the worker keeps, as (name, queryset of the rows that are due, due-time field).

The oldest due row of each is how far behind the worker is: a row whose time came and that no
worker has taken yet."""

from django.db.models import Min
from django.utils import timezone


def timers():
    from vigil.anomaly.models import Rule
    from vigil.heartbeats.models import Heartbeat
    from vigil.monitors.models import Monitor
    from vigil.paging.models import Escalation, Notification
    from vigil.sla.models import SlaClock

    return [
        ("escalation", Escalation.objects.filter(active=True), "next_step_at"),
        ("notification", Notification.objects.filter(state=Notification.State.PENDING), "due_at"),
        ("stuck_notification", Notification.objects.filter(state=Notification.State.SENDING), "sending_deadline"),
        ("heartbeat", Heartbeat.objects.all(), "alert_after"),
        ("metric_rule", Rule.objects.filter(enabled=True), "next_evaluation_at"),
        ("sla_clock", SlaClock.objects.all(), "next_due_at"),
        ("monitor", Monitor.objects.filter(paused=False), "next_due_at"),
    ]


def lag(now=None):
    """{timer name: seconds its oldest due row is overdue (0 when none is due)}."""
    now = now or timezone.now()
    found = {}
    for name, rows, field in timers():
        oldest = rows.filter(**{f"{field}__lte": now}).aggregate(oldest=Min(field))["oldest"]
        found[name] = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    return found
