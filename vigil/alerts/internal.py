"""Alerts raised by Vigil itself (heartbeats, anomaly rules, monitors), through the same ingest as
external senders, so that silences, maintenance windows, grouping and paging all apply.

Each source gets one generic integration per service, made on first use ("Heartbeats",
"Anomaly rules", ...). Its key is never shown (rotate it on the integration's page to post to it
by hand); its settings (grouping, window) are the user's to change like any integration's.

Both functions are idempotent: firing a firing alert again only moves `last_seen`, resolving a
resolved one does nothing. Callers rely on that to retry after a crash (at least once).
"""

from django.db import transaction

from vigil.catalog.models import Service

from .formats import AlertEvent
from .ingest import ingest
from .models import Integration


def integration_for(service, source):
    """The service's integration for `source`, made on first use."""
    found = Integration.objects.select_related("service").filter(
        service=service, kind=Integration.Kind.GENERIC, name=source).order_by("id").first()
    if found is not None:
        return found
    with transaction.atomic():
        # Lock the service so that two workers making the first alert of a source make one integration.
        Service.objects.select_for_update().filter(pk=service.pk).first()
        found = Integration.objects.filter(service=service, kind=Integration.Kind.GENERIC, name=source).first()
        if found is None:
            found = Integration(service=service, kind=Integration.Kind.GENERIC, name=source)
            found.new_key()
            found.save()
    found.service = service
    return found


def _send(service, source, event):
    integration = integration_for(service, source)
    # Disabling the integration on its page turns this source's alerts off, as for any sender.
    return ingest(integration, [event]) if integration.enabled else None


def fire(service, source, *, dedup_key, summary, severity="sev3", details=None, labels=None, links=None):
    event = AlertEvent(dedup_key=dedup_key[:255], status="firing", action="trigger", summary=summary[:1024],
                       severity=severity, source=source[:255], labels={"source": source, **(labels or {})},
                       details=details or {}, links=links or [])
    return _send(service, source, event)


def resolve(service, source, *, dedup_key):
    event = AlertEvent(dedup_key=dedup_key[:255], status="resolved", action="resolve", summary="", severity="",
                       source=source[:255])
    return _send(service, source, event)
