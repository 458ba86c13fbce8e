"""The write path for integrations, silences and maintenance windows (alerts themselves come in
through ingest.py)."""

from django.db import transaction
from django.utils import timezone

from vigil.accounts import audit

from .models import Integration, MaintenanceWindow, Silence

INTEGRATION_FIELDS = ["kind", "name", "enabled", "grouping", "group_window_seconds", "rate_limit_per_minute",
                      "max_body_kb"]


@transaction.atomic
def do_create_integration(service, *, actor, kind, name="", **settings):
    """Returns (integration, key); the key is not kept, only its hash."""
    integration = Integration(service=service, kind=kind, name=name or Integration.Kind(kind).label, **settings)
    key = integration.new_key()
    integration.save()
    audit.record("integration.create", integration, actor=actor, team=service.team,
                 after=audit.snapshot(integration, INTEGRATION_FIELDS))
    return integration, key


@transaction.atomic
def do_update_integration(integration, *, actor, **changes):
    before = audit.snapshot(integration, INTEGRATION_FIELDS)
    for name, value in changes.items():
        setattr(integration, name, value)
    integration.save(update_fields=list(changes))
    audit.record("integration.update", integration, actor=actor, team=integration.service.team, before=before,
                 after=audit.snapshot(integration, INTEGRATION_FIELDS))
    return integration


@transaction.atomic
def do_rotate_integration_key(integration, *, actor):
    """A new key; the old one stops working at once. Returns (integration, new key)."""
    key = integration.new_key()
    integration.save(update_fields=["key_hash", "key_hint"])
    audit.record("integration.rotate_key", integration, actor=actor, team=integration.service.team,
                 after={"key_hint": integration.key_hint})
    return integration, key


@transaction.atomic
def do_delete_integration(integration, *, actor):
    audit.record("integration.delete", integration, actor=actor, team=integration.service.team,
                 before=audit.snapshot(integration, INTEGRATION_FIELDS))
    integration.delete()


@transaction.atomic
def do_create_silence(service, *, actor, matchers, ends_at, comment, starts_at=None):
    silence = Silence.objects.create(service=service, matchers=matchers, starts_at=starts_at or timezone.now(),
                                     ends_at=ends_at, comment=comment, created_by=actor)
    audit.record("silence.create", silence, actor=actor, team=service.team,
                 after=audit.snapshot(silence, ["matchers", "starts_at", "ends_at", "comment"]))
    return silence


@transaction.atomic
def do_expire_silence(silence, *, actor):
    """End the silence now (kept for the record). Idempotent."""
    now = timezone.now()
    if silence.ends_at > now:
        before = audit.snapshot(silence, ["ends_at"])
        silence.ends_at = max(now, silence.starts_at)
        silence.save(update_fields=["ends_at"])
        audit.record("silence.expire", silence, actor=actor, team=silence.service.team, before=before,
                     after=audit.snapshot(silence, ["ends_at"]))
    return silence


@transaction.atomic
def do_create_maintenance_window(service, *, actor, starts_at, ends_at, reason=""):
    window = MaintenanceWindow.objects.create(service=service, starts_at=starts_at, ends_at=ends_at, reason=reason,
                                              created_by=actor)
    audit.record("maintenance_window.create", window, actor=actor, team=service.team,
                 after=audit.snapshot(window, ["starts_at", "ends_at", "reason"]))
    return window


@transaction.atomic
def do_delete_maintenance_window(window, *, actor):
    audit.record("maintenance_window.delete", window, actor=actor, team=window.service.team,
                 before=audit.snapshot(window, ["starts_at", "ends_at", "reason"]))
    window.delete()
