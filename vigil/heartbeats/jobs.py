"""The worker's heartbeat job: a heartbeat whose timer is due either went down (its deadline
passed without a ping) or has news for the alert pipeline (a failure, a recovery, a pause).

Telling the pipeline is a network-free but separate transaction (ingest takes its own writer
lock), so the claim is a lease: the heartbeat's timer moves a minute ahead while we tell, and a
worker that dies in between leaves it due again. Telling twice is harmless (ingest is idempotent).
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from vigil.alerts import internal
from vigil.worker import claim_one, job

from .actions import SOURCE
from .models import Heartbeat

LEASE = timedelta(seconds=60)
OUTPUT_IN_ALERT = 4000  # characters of the last ping's body copied into the alert's details


@job
def check_due_heartbeat(now=None):
    """Handle one heartbeat whose timer is due. True if there was one."""
    now = now or timezone.now()
    due = Heartbeat.objects.filter(alert_after__lte=now).select_related("service")
    with claim_one(due, ["alert_after"]) as heartbeat:
        if heartbeat is None:
            return False
        deadline = heartbeat.deadline()
        if deadline is not None and deadline <= now:
            heartbeat.status, heartbeat.down_reason = Heartbeat.Status.DOWN, heartbeat.why_down(now)
            heartbeat.version += 1
        tell = None
        if heartbeat.needs_telling():
            tell = Heartbeat.Alerted.FIRING if heartbeat.status == Heartbeat.Status.DOWN else Heartbeat.Alerted.RESOLVED
            heartbeat.alert_after = now + LEASE
        else:
            heartbeat.alert_after = heartbeat.deadline()
        heartbeat.save(update_fields=["status", "down_reason", "version", "alert_after"])
    if tell is None:
        return True

    if tell == Heartbeat.Alerted.FIRING:
        internal.fire(heartbeat.service, SOURCE, dedup_key=heartbeat.dedup_key, summary=heartbeat.down_reason,
                      severity=heartbeat.severity, details=alert_details(heartbeat),
                      labels={"heartbeat": heartbeat.name},
                      links=[{"href": settings.BASE_URL + heartbeat.get_absolute_url(), "text": "Heartbeat and its pings"}])
    else:
        internal.resolve(heartbeat.service, SOURCE, dedup_key=heartbeat.dedup_key)

    heartbeat.alerted = tell
    heartbeat.schedule(now)
    done = Heartbeat.objects.filter(pk=heartbeat.pk, version=heartbeat.version).update(
        alerted=tell, alert_after=heartbeat.alert_after)
    if not done:
        # A ping changed the state while we told the pipeline: look at it again now.
        Heartbeat.objects.filter(pk=heartbeat.pk).update(alerted=tell, alert_after=now)
    return True


def alert_details(heartbeat):
    """What the alert carries: the schedule, the last ping, and the output of the run that failed."""
    last = heartbeat.pings.exclude(kind__in=["start", "log"]).first()
    details = {
        "heartbeat": heartbeat.name,
        "schedule": heartbeat.schedule_text(),
        "grace": str(heartbeat.grace),
        "last_ping_at": heartbeat.last_ping_at.isoformat() if heartbeat.last_ping_at else None,
        "ping_url": heartbeat.ping_url,
    }
    if heartbeat.last_exit_status is not None:
        details["exit_status"] = heartbeat.last_exit_status
    if last is not None and last.kind == "fail" and last.body:
        details["output"] = last.body[-OUTPUT_IN_ALERT:]
    return details
