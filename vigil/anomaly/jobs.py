"""The worker's rule job: evaluate one due rule, store its state, tell the alert pipeline when
that changes. As with heartbeats, telling is a lease (the rule's timer moves ahead while the
pipeline is told in its own transaction); telling twice is harmless."""

import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from vigil.alerts import internal
from vigil.worker import claim_one, job

from .actions import SOURCE
from .evaluate import evaluate
from .models import Rule, Sample

EVERY = timedelta(seconds=60)  # how often a rule is evaluated
LEASE = timedelta(seconds=60)
RETENTION = timedelta(weeks=9)  # the longest baseline (8 weeks) and a week to chart
PRUNE_BATCH = 5000
PRUNE_EVERY_SECONDS = 600
_last_prune = [0.0]


@job
def evaluate_due_rule(now=None):
    """Evaluate one rule whose time has come. True if there was one."""
    now = now or timezone.now()
    due = Rule.objects.filter(enabled=True, next_evaluation_at__lte=now).select_related("service", "series")
    with claim_one(due, ["next_evaluation_at"]) as rule:
        if rule is None:
            return False
        state, why = evaluate(rule, now)
        if state != rule.state:
            rule.version += 1
        rule.state, rule.why, rule.last_evaluated_at = state, why, now
        tell = None
        if state == Rule.State.FIRING and rule.alerted != Rule.Alerted.FIRING:
            tell = Rule.Alerted.FIRING
        elif state != Rule.State.FIRING and rule.alerted == Rule.Alerted.FIRING:
            tell = Rule.Alerted.RESOLVED
        rule.next_evaluation_at = now + (LEASE if tell else EVERY)
        rule.save(update_fields=["state", "why", "last_evaluated_at", "version", "next_evaluation_at"])
    if tell is None:
        return True
    if tell == Rule.Alerted.FIRING:
        internal.fire(rule.service, SOURCE, dedup_key=rule.dedup_key, summary=why["reason"], severity=rule.severity,
                      details={"rule": rule.name, "series": str(rule.series), **why},
                      labels={"rule": rule.name, "metric": rule.series.name},
                      links=[{"href": settings.BASE_URL + rule.get_absolute_url(), "text": "Rule and chart"}])
    else:
        internal.resolve(rule.service, SOURCE, dedup_key=rule.dedup_key)
    Rule.objects.filter(pk=rule.pk).update(alerted=tell, next_evaluation_at=now + EVERY)
    return True


@job
def prune_old_samples(now=None):
    """Delete samples older than the retention, a batch at a time, every ten minutes at most."""
    if now is None and time.monotonic() - _last_prune[0] < PRUNE_EVERY_SECONDS:
        return False
    now = now or timezone.now()
    ids = list(Sample.objects.filter(at__lt=now - RETENTION).values_list("id", flat=True)[:PRUNE_BATCH])
    if ids:
        Sample.objects.filter(pk__in=ids).delete()
    if len(ids) < PRUNE_BATCH:
        _last_prune[0] = time.monotonic()
    return bool(ids)
