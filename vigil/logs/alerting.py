"""The opt-in rule: new or bursting high-severity error groups raise an alert on their service.

Alerts go through the alert pipeline (vigil/alerts/ingest.py) from a generic integration named
"Log triage" that is made for the service the first time; its grouping, incidents and paging are
those of any other alert. One alert per group per hour at most.
"""

from datetime import timedelta

from django.conf import settings

from logtriage.triage import LEVEL_ORDER
from vigil.alerts.formats import AlertEvent
from vigil.alerts.ingest import ingest
from vigil.alerts.models import Integration

from .models import ErrorGroup
from .ranking import burst_ratio

INTEGRATION_NAME = "Log triage"
BURST_RATIO = 4
BURST_MIN_LINES = 10
REPEAT_AFTER = timedelta(hours=1)
SEVERITY = {"FATAL": "sev2", "ERROR": "sev3", "WARN": "sev4"}


def integration_for(service):
    found = Integration.objects.filter(service=service, kind=Integration.Kind.GENERIC, name=INTEGRATION_NAME).first()
    if found is None:
        found = Integration(service=service, kind=Integration.Kind.GENERIC, name=INTEGRATION_NAME,
                            grouping=Integration.Grouping.DEDUP_KEY)
        found.new_key()  # never handed out: this integration is fed from inside
        found.save()
    return found


def why_alert(logs, group, is_new, is_back, now):
    """The reason the rule raises an alert for `group` now, or None."""
    if group.state == ErrorGroup.State.IGNORED:
        return None
    if LEVEL_ORDER.get(group.level, 0) < LEVEL_ORDER[logs.alert_min_level]:
        return None
    if group.alerted_at and now - group.alerted_at < REPEAT_AFTER:
        return None
    if logs.alert_on_new and (is_new or is_back):
        return "new" if is_new else "regressed"
    if logs.alert_on_burst:
        recent, ratio = burst_ratio(group, now)
        if recent >= BURST_MIN_LINES and ratio >= BURST_RATIO:
            return "burst"
    return None


def raise_alerts(logs, groups, new_ids, regressed_ids, now):
    if logs is None or not (logs.alert_on_new or logs.alert_on_burst):
        return 0
    events, raised = [], []
    for group in groups:
        why = why_alert(logs, group, group.pk in new_ids, group.pk in regressed_ids, now)
        if why is None:
            continue
        title = {"new": "New error in logs", "regressed": "Fixed error is back in logs", "burst": "Error burst in logs"}[why]
        events.append(AlertEvent(
            dedup_key=f"log-group-{group.pk}", status="firing", action="trigger",
            summary=f"{title}: {group.template}"[:1024], severity=SEVERITY.get(group.level, "sev3"),
            source="vigil logs", labels={"log_group": str(group.pk), "level": group.level, "reason": why},
            links=[{"href": settings.BASE_URL + group.get_absolute_url(), "text": "Error group"}],
            details={"count": group.count, "samples": group.samples[:3]},
        ))
        raised.append(group.pk)
    if events:
        ingest(integration_for(logs.service), events, now=now)
        ErrorGroup.objects.filter(pk__in=raised).update(alerted_at=now)
    return len(events)
