"""The audit log: every change made through the API, the UI or the CLI, with before and after.

Actions call `record()` inside their transaction. Which door the change came through is known
to the request (or the command), not to the action, so it travels in a context variable.
"""

import contextvars
import datetime
import decimal

from django.core.exceptions import FieldDoesNotExist
from django.db import models

# Plain strings (AuditEntry.Channel values): the CLI sets this before Django has loaded the models.
_channel = contextvars.ContextVar("audit_channel", default="system")


def set_channel(channel):
    return _channel.set(channel)


def audit_channel(get_response):
    """Middleware: requests under /api/ are API changes, the rest are UI changes."""

    def middleware(request):
        token = _channel.set("api" if request.path.startswith("/api/") else "ui")
        try:
            return get_response(request)
        finally:
            _channel.reset(token)

    return middleware


def _plain(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(obj, fields):
    """The values of `fields` on `obj`, JSON-ready (foreign keys as ids)."""
    return {f: _plain(getattr(obj, f + "_id" if _is_fk(obj, f) else f)) for f in fields}


def _is_fk(obj, field):
    try:
        return obj._meta.get_field(field).is_relation
    except FieldDoesNotExist:
        return False


def record(action, obj, *, actor, before=None, after=None, team=None):
    """Write one audit row. Call it inside the transaction that makes the change.

    With both `before` and `after`, only the fields whose value changed are kept.
    """
    if before is not None and after is not None:
        changed = [k for k in after if before.get(k) != after[k]]
        before = {k: before.get(k) for k in changed}
        after = {k: after[k] for k in changed}
    from .models import AuditEntry

    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        channel=_channel.get(),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        team=team,
        before=before,
        after=after,
    )
