"""The write path for monitors: each action is one transaction with its audit row.

`config_errors()` holds the rules a monitor's settings must follow; the API and the form both
use it, so that bad input is refused with the field named and nothing changes.
"""

import ipaddress
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vigil import worker
from vigil.accounts import audit
from vigil.alerts.ingest import ingest

from . import alerting, checks
from .models import Monitor

CONFIG_FIELDS = [
    "name", "kind", "target", "interval_seconds", "timeout_seconds", "retries", "retry_interval_seconds",
    "recovery_checks", "severity", "method", "headers", "body", "expected_status", "keyword", "keyword_mode",
    "max_latency_ms", "follow_redirects", "verify_tls", "tls_expiry_days", "record_type", "expected_answer",
    "nameserver",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
LIMITS = {  # field: (lowest, highest)
    "interval_seconds": (10, 86400), "timeout_seconds": (1, 60), "retries": (0, 10),
    "retry_interval_seconds": (1, 3600), "recovery_checks": (1, 10), "max_latency_ms": (1, 600_000),
    "tls_expiry_days": (0, 365),
}
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$",
                      re.IGNORECASE)
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")


def _host_error(host):
    """Why `host` cannot be checked here, or ''."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if not HOSTNAME.match(host):
            return f"{host!r} is not a host name or an IP address"
        if not settings.MONITOR_ALLOW_PRIVATE and host.rstrip(".").lower() in ("localhost", "localhost.localdomain"):
            return "private addresses are not allowed here (VIGIL_MONITOR_ALLOW_PRIVATE=0)"
        return ""
    if not settings.MONITOR_ALLOW_PRIVATE and not checks.is_public(str(ip)):
        return f"{ip} is a private address; not allowed here (VIGIL_MONITOR_ALLOW_PRIVATE=0)"
    return ""


def _target_error(kind, target):
    target = target.strip()
    if kind == Monitor.Kind.HTTP:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "must be an http:// or https:// URL"
        try:
            parts.port  # noqa: B018  (raises on a bad port)
        except ValueError:
            return "has an invalid port"
        return _host_error(parts.hostname)
    if kind == Monitor.Kind.DNS:
        return "" if HOSTNAME.match(target) else "must be a host name, like example.com"
    try:
        host, _port = checks.split_host_port(target, default_port=80 if kind == Monitor.Kind.PING else None)
    except ValueError as e:
        return str(e)
    return _host_error(host)


def config_errors(values):
    """{field: message} for what is wrong in a monitor's complete settings (empty when fine)."""
    errors = {}
    for field, (low, high) in LIMITS.items():
        value = values.get(field)
        if value is not None and not low <= value <= high:
            errors[field] = f"must be between {low} and {high}"
    if not errors.get("timeout_seconds") and values["timeout_seconds"] > values["interval_seconds"]:
        errors["timeout_seconds"] = "must not be longer than the interval"
    if not values["name"].strip():
        errors["name"] = "must not be blank"
    if message := _target_error(values["kind"], values["target"]):
        errors["target"] = message
    if values["method"] not in METHODS:
        errors["method"] = f"must be one of {', '.join(METHODS)}"
    headers = values["headers"]
    if not isinstance(headers, dict) or len(headers) > 30:
        errors["headers"] = "must be an object of at most 30 header names and values"
    else:
        for name, value in headers.items():
            if not HEADER_NAME.match(str(name)) or not isinstance(value, str) or len(value) > 4000 or any(
                    c in value for c in "\r\n\0"):
                errors["headers"] = f"header {str(name)[:100]!r}: a token name and a one-line text value"
                break
    try:
        checks.parse_statuses(values["expected_status"])
    except ValueError as e:
        errors["expected_status"] = str(e)
    if values["nameserver"]:
        try:
            host, _ = checks.split_host_port(values["nameserver"], default_port=53)
            ipaddress.ip_address(host)
            if message := _host_error(host):
                errors["nameserver"] = message
        except ValueError:
            errors["nameserver"] = "must be an IP address, optionally with :port"
    return errors


def _defaults():
    return {f: Monitor._meta.get_field(f).get_default() for f in CONFIG_FIELDS}


@transaction.atomic
def do_create_monitor(service, *, actor, paused=False, **config):
    """A monitor, due at once unless paused. The caller has checked `config_errors`."""
    monitor = Monitor(service=service, paused=paused, next_due_at=None if paused else timezone.now(), **config)
    monitor.integration = alerting.integration_for(service)
    monitor.save()
    audit.record("monitor.create", monitor, actor=actor, team=service.team,
                 after=audit.snapshot(monitor, CONFIG_FIELDS + ["paused"]))
    transaction.on_commit(worker.wake)
    return monitor


@transaction.atomic
def do_update_monitor(monitor, *, actor, **changes):
    before = audit.snapshot(monitor, CONFIG_FIELDS)
    for name, value in changes.items():
        setattr(monitor, name, value)
    fields = list(changes)
    if not monitor.paused and set(changes) - {"name", "severity"}:
        # Check with the new settings now, and go on from there.
        monitor.next_due_at = timezone.now()
        fields.append("next_due_at")
    monitor.save(update_fields=fields)
    audit.record("monitor.update", monitor, actor=actor, team=monitor.service.team, before=before,
                 after=audit.snapshot(monitor, CONFIG_FIELDS))
    transaction.on_commit(worker.wake)
    return monitor


@transaction.atomic
def do_pause_monitor(monitor, *, actor):
    """No more checks; its alerts resolve (the state is unknown until it is resumed). Idempotent."""
    if not monitor.paused:
        # An update, not a save: the worker may have moved the state since `monitor` was read.
        Monitor.objects.filter(pk=monitor.pk).update(
            paused=True, next_due_at=None, status=Monitor.Status.UNKNOWN, failures_in_row=0, successes_in_row=0,
            tls_warning=False, alert_version=F("alert_version") + 1)
        monitor.refresh_from_db()
        audit.record("monitor.pause", monitor, actor=actor, team=monitor.service.team)
        transaction.on_commit(worker.wake)
    return monitor


@transaction.atomic
def do_resume_monitor(monitor, *, actor):
    """Checked again at once. Idempotent."""
    if monitor.paused:
        monitor.paused, monitor.next_due_at = False, timezone.now()
        monitor.save(update_fields=["paused", "next_due_at"])
        audit.record("monitor.resume", monitor, actor=actor, team=monitor.service.team)
        transaction.on_commit(worker.wake)
    return monitor


def do_check_monitor_now(monitor, *, actor):
    """Due now: the worker checks it within a second or so (no audit row: it changes no setting)."""
    if not monitor.paused:
        Monitor.objects.filter(pk=monitor.pk).update(next_due_at=timezone.now())
        worker.wake()
    return monitor


def do_delete_monitor(monitor, *, actor):
    """Resolve its alerts, then delete it with its history."""
    if monitor.integration is not None:
        monitor.paused = True  # so that its events say "resolved"
        ingest(monitor.integration, alerting.events(monitor))
    with transaction.atomic():
        audit.record("monitor.delete", monitor, actor=actor, team=monitor.service.team,
                     before=audit.snapshot(monitor, CONFIG_FIELDS))
        monitor.delete()
