"""What every ingestion request reads and hardly ever changes, kept in the process for a moment:
the integration of a key (with its service and team) and a service's silences and maintenance
windows.

Without these, a single PagerDuty event spent more of its time reading them (three ORM queries)
than recording the alert. A change made in this process (UI, API, CLI actions: every save or
delete of an integration, service, team, silence or maintenance window) empties them at once and
again when its transaction commits; one made by another process (`vigil web --workers N`) is
seen within TTL_SECONDS. Whether an alert is silenced is still decided per alert at its own time: the cache
holds every silence and window that had not ended when it was read, so one that starts or ends
meanwhile is applied exactly.
"""

import threading
import time

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from vigil.accounts.models import Team
from vigil.catalog.models import Service

from .models import Integration, MaintenanceWindow, Silence, hash_key

TTL_SECONDS = 2.0

_lock = threading.Lock()
_integrations = {}  # (key hash, kind) -> (read at, field values of the integration, its service, its team)
_suppressions = {}  # service id -> (read at, read for, windows, silences)


def clear(**_):
    with _lock:
        _integrations.clear()
        _suppressions.clear()


def _changed(**_):
    clear()
    # A reader between now and the commit would cache what is being replaced: empty again after it.
    transaction.on_commit(clear)


for _model in (Integration, Service, Team, Silence, MaintenanceWindow):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"alerts-caches-{_model.__name__}-save")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"alerts-caches-{_model.__name__}-delete")


def _values(obj):
    return [getattr(obj, f.attname) for f in obj._meta.concrete_fields]


def _rebuild(model, values):
    return model.from_db("default", [f.attname for f in model._meta.concrete_fields], values)


def integration_for_key(raw_key, kind):
    """The enabled integration of this kind with this key, with its service; None if there is none.

    Each call gets instances of its own (so nothing one request caches on them reaches another)."""
    cache_key = (hash_key(raw_key), kind)
    found = _integrations.get(cache_key)
    if found is None or time.monotonic() - found[0] > TTL_SECONDS:
        integration = (Integration.objects.select_related("service__team")
                       .filter(key_hash=cache_key[0], kind=kind, enabled=True).first())
        if integration is None:
            return None
        service = integration.service
        found = (time.monotonic(), _values(integration), _values(service), _values(service.team))
        with _lock:
            _integrations[cache_key] = found
    integration = _rebuild(Integration, found[1])
    integration.service = _rebuild(Service, found[2])
    integration.service.team = _rebuild(Team, found[3])  # named in the audit entry of a new incident
    return integration


_LAST_RECEIVED = [f.attname for f in Integration._meta.concrete_fields].index("last_received_at")


def received(integration, at):
    """The integration's last_received_at was written: the cached copy says so too, or every request
    from then to the next read of the row would write it again."""
    found = _integrations.get((integration.key_hash, integration.kind))
    if found is not None:
        found[1][_LAST_RECEIVED] = at


def suppression(service_id, now):
    """A function labels -> why an alert fired at `now` pages no one ("" when it pages)."""
    found = _suppressions.get(service_id)
    if found is None or time.monotonic() - found[0] > TTL_SECONDS or now < found[1]:
        # Every window and silence not over at `now`, those to come included: they are decided below.
        # Newest first (the models' order), as the alert's page says which one held it.
        windows = list(MaintenanceWindow.objects.filter(service_id=service_id, ends_at__gt=now)
                       .values_list("pk", "starts_at", "ends_at"))
        silences = list(Silence.objects.filter(service_id=service_id, ends_at__gt=now))
        found = (time.monotonic(), now, windows, silences)
        with _lock:
            _suppressions[service_id] = found
    _, _, windows, silences = found
    window = next((pk for pk, starts, ends in windows if starts <= now < ends), None)
    active = [s for s in silences if s.starts_at <= now < s.ends_at]

    def why(labels):
        if window is not None:
            return f"maintenance:{window}"
        for silence in active:
            if silence.matches(labels):
                return f"silence:{silence.pk}"
        return ""

    return why
