"""The write path of metric rules."""

from django.db import transaction
from django.utils import timezone

from vigil import worker
from vigil.accounts import audit
from vigil.alerts import internal

from .models import Rule

SOURCE = "Anomaly rules"  # the name of the integration their alerts come through (alerts.internal)

FIELDS = ["name", "series", "kind", "direction", "threshold", "deviations", "window_minutes", "baseline_weeks",
          "time_zone", "severity", "enabled"]


def _stop_alerting(rule):
    """A rule turned off or deleted no longer says its series is away: resolve its alert after commit."""
    if rule.alerted == Rule.Alerted.FIRING:
        service, key = rule.service, rule.dedup_key
        transaction.on_commit(lambda: internal.resolve(service, SOURCE, dedup_key=key))
        rule.alerted = Rule.Alerted.RESOLVED


@transaction.atomic
def do_create_rule(service, *, actor, **fields):
    rule = Rule.objects.create(service=service, next_evaluation_at=timezone.now(), **fields)
    audit.record("metric_rule.create", rule, actor=actor, team=service.team, after=audit.snapshot(rule, FIELDS))
    transaction.on_commit(worker.wake)
    return rule


@transaction.atomic
def do_update_rule(rule, *, actor, **changes):
    rule = Rule.objects.select_for_update().select_related("service__team", "series").get(pk=rule.pk)
    before = audit.snapshot(rule, FIELDS)
    for name, value in changes.items():
        setattr(rule, name, value)
    if not rule.enabled:
        _stop_alerting(rule)
    rule.version += 1
    rule.next_evaluation_at = timezone.now()  # judge it again by its new terms at once
    rule.save(update_fields=[*changes, "alerted", "version", "next_evaluation_at"])
    audit.record("metric_rule.update", rule, actor=actor, team=rule.service.team, before=before,
                 after=audit.snapshot(rule, FIELDS))
    transaction.on_commit(worker.wake)
    return rule


@transaction.atomic
def do_delete_rule(rule, *, actor):
    audit.record("metric_rule.delete", rule, actor=actor, team=rule.service.team, before=audit.snapshot(rule, FIELDS))
    _stop_alerting(rule)
    rule.delete()
