"""The write path of heartbeats: pings (from the jobs being watched) and the user's changes."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from vigil import worker
from vigil.accounts import audit
from vigil.alerts import internal

from .models import MAX_RUN_TIME, PINGS_KEPT, Heartbeat, Ping

FIELDS = ["name", "description", "kind", "period", "grace", "cron", "time_zone", "severity", "status"]
SOURCE = "Heartbeats"  # the name of the integration their alerts come through (alerts.internal)


def _snapshot(heartbeat):
    # Durations as seconds: the audit log is JSON.
    return {k: v.total_seconds() if isinstance(v, timedelta) else v
            for k, v in audit.snapshot(heartbeat, FIELDS).items()}


def record_ping(key, *, kind, exit_status=None, rid=None, method="GET", scheme="http", remote_addr="",
                user_agent="", body=b"", body_size=0, now=None):
    """Record a ping of the heartbeat with ping key `key`. Returns the Ping, or None for an unknown key.

    One transaction: the ping row, the heartbeat's new state and its timer. The alert pipeline is
    told by the worker (jobs.py), woken at once when a ping changed what it should say (a
    failure, a recovery)."""
    now = now or timezone.now()
    with transaction.atomic():
        heartbeat = Heartbeat.objects.select_for_update().filter(uuid=key).first()
        if heartbeat is None:
            return None
        heartbeat.n_pings += 1
        started = heartbeat.last_start_at
        finishes_run = started is not None and (rid is None or rid == heartbeat.last_start_rid)
        duration = now - started if finishes_run and kind != Ping.Kind.START and now - started < MAX_RUN_TIME else None
        ping = Ping.objects.create(
            heartbeat=heartbeat, n=heartbeat.n_pings, created_at=now, kind=kind, exit_status=exit_status, rid=rid,
            method=method[:8], scheme=scheme[:8], remote_addr=remote_addr[:64], user_agent=user_agent[:200],
            body=body.decode("utf-8", "replace").replace("\x00", "\ufffd"), body_size=body_size, duration=duration)
        if kind == Ping.Kind.START:
            heartbeat.last_start_at, heartbeat.last_start_rid = now, rid
            heartbeat.version += 1
        elif kind in (Ping.Kind.SUCCESS, Ping.Kind.FAIL):
            heartbeat.last_ping_at, heartbeat.last_exit_status = now, exit_status
            if finishes_run:
                heartbeat.last_start_at = heartbeat.last_start_rid = None
                heartbeat.last_duration = duration
            if kind == Ping.Kind.FAIL:
                heartbeat.status = Heartbeat.Status.DOWN
                heartbeat.down_reason = (f"{heartbeat.name}: exited with status {exit_status}" if exit_status
                                         else f"{heartbeat.name}: reported a failure")
            else:
                # A success also ends a pause, as on healthchecks.io.
                heartbeat.status, heartbeat.down_reason = Heartbeat.Status.UP, ""
            heartbeat.version += 1
        heartbeat.schedule(now)
        heartbeat.save(update_fields=["n_pings", "last_start_at", "last_start_rid", "last_ping_at", "last_exit_status",
                                      "last_duration", "status", "down_reason", "version", "alert_after"])
        Ping.objects.filter(heartbeat=heartbeat, n__lte=heartbeat.n_pings - PINGS_KEPT).delete()
        if heartbeat.alert_after is not None and heartbeat.alert_after <= now:
            transaction.on_commit(worker.wake)
    return ping


@transaction.atomic
def do_create_heartbeat(service, *, actor, **fields):
    heartbeat = Heartbeat.objects.create(service=service, **fields)
    audit.record("heartbeat.create", heartbeat, actor=actor, team=service.team,
                 after=_snapshot(heartbeat))
    return heartbeat


@transaction.atomic
def do_update_heartbeat(heartbeat, *, actor, **changes):
    heartbeat = Heartbeat.objects.select_for_update().get(pk=heartbeat.pk)
    before = _snapshot(heartbeat)
    for name, value in changes.items():
        setattr(heartbeat, name, value)
    heartbeat.version += 1
    heartbeat.schedule(timezone.now())
    heartbeat.save(update_fields=[*changes, "version", "alert_after"])
    audit.record("heartbeat.update", heartbeat, actor=actor, team=heartbeat.service.team, before=before,
                 after=_snapshot(heartbeat))
    return heartbeat


def do_pause_heartbeat(heartbeat, *, actor):
    """Stop watching until the next success ping (or resume); a firing alert is resolved."""
    return _set_status(heartbeat, Heartbeat.Status.PAUSED, "heartbeat.pause", actor)


def do_resume_heartbeat(heartbeat, *, actor):
    """Watch again from the next ping, as a new heartbeat."""
    return _set_status(heartbeat, Heartbeat.Status.NEW, "heartbeat.resume", actor)


@transaction.atomic
def _set_status(heartbeat, status, action, actor):
    heartbeat = Heartbeat.objects.select_for_update().select_related("service__team").get(pk=heartbeat.pk)
    before = heartbeat.status
    heartbeat.status, heartbeat.down_reason = status, ""
    heartbeat.last_start_at = heartbeat.last_start_rid = None
    heartbeat.version += 1
    heartbeat.schedule(timezone.now())
    heartbeat.save(update_fields=["status", "down_reason", "last_start_at", "last_start_rid", "version", "alert_after"])
    audit.record(action, heartbeat, actor=actor, team=heartbeat.service.team, before={"status": before},
                 after={"status": status})
    transaction.on_commit(worker.wake)
    return heartbeat


@transaction.atomic
def do_delete_heartbeat(heartbeat, *, actor):
    """Delete it and its pings; its alert, if firing, is resolved (after commit)."""
    service, key, firing = heartbeat.service, heartbeat.dedup_key, heartbeat.alerted == Heartbeat.Alerted.FIRING
    audit.record("heartbeat.delete", heartbeat, actor=actor, team=service.team,
                 before=_snapshot(heartbeat))
    heartbeat.delete()
    if firing:
        transaction.on_commit(lambda: internal.resolve(service, SOURCE, dedup_key=key))
