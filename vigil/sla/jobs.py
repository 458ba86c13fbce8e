"""The worker's SLA unit: one clock whose escalation or breach is due."""

from django.utils import timezone

from vigil.worker import claim_one, job

from . import clocks
from .models import SlaClock


@job
def fire_due_sla_clock(now=None):
    """Escalate or record the breach of one due clock. The clock and its incident are locked
    together, skipping any that another worker or a responder's action holds: an action locks
    the incident first and then the clocks, so waiting here for the incident could deadlock."""
    now = now or timezone.now()
    due = SlaClock.objects.filter(next_due_at__lte=now).select_related("incident__service", "incident__team")
    with claim_one(due, ["next_due_at"], of=("self", "incident")) as clock:
        if clock is None:
            return False
        clocks.fire(clock, now)
    return True
