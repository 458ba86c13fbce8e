"""A monitor's alerts, told to the alert pipeline (alerts.ingest) like any sender's.

Each monitor has two stable dedup keys on its service: `monitor:<id>` (down) and
`monitor:<id>:tls` (certificate expiring soon). `send()` always states both as they should be
now, firing or resolved; ingest is idempotent, so saying it twice changes nothing. The alerts
come in through one generic integration per service, made with its first monitor: its page
sets how they group into incidents, and silences and maintenance windows of the service apply.
"""

from django.conf import settings
from django.db import transaction

from vigil.alerts.actions import do_create_integration
from vigil.alerts.formats import MAX_SUMMARY, AlertEvent
from vigil.alerts.ingest import ingest
from vigil.alerts.models import Integration

from .models import Monitor

INTEGRATION_NAME = "Uptime monitors"


def integration_for(service):
    """The service's monitor integration: the one its monitors use, or a new one."""
    found = (Monitor.objects.filter(service=service, integration__isnull=False)
             .select_related("integration").first())
    if found is not None:
        return found.integration
    with transaction.atomic():
        # Alerts of one monitor share an incident; a different monitor failing opens its own.
        integration, _key = do_create_integration(service, actor=None, kind=Integration.Kind.GENERIC,
                                                  name=INTEGRATION_NAME, grouping=Integration.Grouping.DEDUP_KEY)
    return integration


def events(monitor):
    url = f"{settings.BASE_URL}{monitor.get_absolute_url()}"
    labels = {"alertname": "MonitorDown", "monitor": monitor.name, "monitor_kind": monitor.kind}
    common = {"source": monitor.target[:255], "links": [{"href": url, "text": f"Monitor {monitor.name}"[:255]}],
              "details": {"monitor_id": monitor.pk, "kind": monitor.kind, "target": monitor.target}}
    down = monitor.status == Monitor.Status.DOWN and not monitor.paused
    tls = monitor.tls_warning and not monitor.paused
    expires = monitor.tls_expires_at
    return [
        AlertEvent(
            dedup_key=monitor.dedup_key, status="firing" if down else "resolved",
            action="trigger" if down else "resolve",
            summary=f"{monitor.name} is down: {monitor.last_error}"[:MAX_SUMMARY], severity=monitor.severity,
            labels=labels, started_at=monitor.status_changed_at,
            **{**common, "details": {**common["details"], "error": monitor.last_error}},
        ),
        AlertEvent(
            dedup_key=monitor.tls_dedup_key, status="firing" if tls else "resolved",
            action="trigger" if tls else "resolve",
            summary=(f"{monitor.name}: TLS certificate expires {expires:%Y-%m-%d %H:%M} UTC" if expires
                     else f"{monitor.name}: TLS certificate")[:MAX_SUMMARY],
            severity="sev4", labels={**labels, "alertname": "CertificateExpiresSoon"},
            **{**common, "details": {**common["details"], "expires_at": expires.isoformat() if expires else None}},
        ),
    ]


def send(monitor):
    """State the monitor's alerts to the pipeline. Outside any transaction (see jobs.py)."""
    integration = monitor.integration
    if integration is None:
        integration = integration_for(monitor.service)
        Monitor.objects.filter(service=monitor.service, integration__isnull=True).update(integration=integration)
    if integration.enabled:
        ingest(integration, events(monitor))
