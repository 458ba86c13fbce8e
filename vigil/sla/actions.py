from django.db import transaction
from django.utils import timezone

from vigil.accounts import audit

from .models import SlaPolicy

FIELDS = ["business_hours_only", "time_zone", "weekdays", "day_start", "day_end", "holidays_of", "closed_days",
          "escalate_fraction", "targets"]


@transaction.atomic
def do_set_sla_policy(service, *, actor, **values):
    """Create or replace the service's SLA policy. Clocks already running keep the calendar they
    started with; a later severity change takes the new targets."""
    policy = SlaPolicy.objects.select_for_update().filter(service=service).first()
    before = _snapshot(policy) if policy else None
    if policy is None:
        policy = SlaPolicy(service=service)
    for field, value in values.items():
        setattr(policy, field, value)
    policy.updated_at = timezone.now()
    policy.full_clean(exclude=["service"])
    policy.save()
    audit.record("sla_policy.set", policy, actor=actor, team=service.team, before=before, after=_snapshot(policy))
    return policy


def _snapshot(policy):
    values = audit.snapshot(policy, FIELDS)
    values["day_start"], values["day_end"] = policy.day_start.isoformat(), policy.day_end.isoformat()
    return values
