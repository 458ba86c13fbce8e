"""Alerts in: a batch of normalised events from one integration, in one transaction.

The work is set-based so that a request of 100 alerts costs a handful of statements, not 100
round trips: one upsert (INSERT ... ON CONFLICT on the partial unique index of firing alerts),
one UPDATE for the resolutions, a few reads. Incidents are opened, reopened, resolved and
written to through the incidents app's actions, inside the same transaction: a request either
lands whole or changes nothing.

Idempotent: the same batch again only moves `last_seen` (and the summary, labels... to the
latest the sender said).
"""

import contextlib
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from vigil.incidents import actions as incident_actions
from vigil.incidents.models import OPEN_STATUSES, Incident, Status, TimelineEntry

from .models import Alert, Integration, MaintenanceWindow, Silence

SEVERITY_ORDER = ["sev1", "sev2", "sev3", "sev4"]
# Writing the integration's row on every request would serialise a sender's requests on it.
LAST_RECEIVED_PRECISION = timedelta(seconds=10)


@dataclass
class IngestResult:
    received: int = 0
    firing: int = 0
    resolved: int = 0
    suppressed: int = 0
    incidents_opened: list = field(default_factory=list)
    incidents_resolved: list = field(default_factory=list)


def grouping_key(integration, event):
    """The key under which alerts share an incident, by the integration's grouping rule."""
    if integration.grouping == Integration.Grouping.SERVICE:
        return "service"
    if integration.grouping == Integration.Grouping.ALERT_GROUP and event.group_key:
        return f"group:{event.group_key}"
    return f"alert:{event.dedup_key}"


def ingest(integration, events, *, now=None):
    """Record `events` (from one request) for the integration's service. One transaction."""
    now = now or timezone.now()
    result = IngestResult(received=len(events))
    # One event per dedup key: the last word of the sender wins.
    latest = {e.dedup_key: e for e in events}
    triggers = [e for e in latest.values() if e.action == "trigger" and e.status == "firing"]
    resolves = [e for e in latest.values() if e.status == "resolved" or e.action == "resolve"]
    acks = [e for e in latest.values() if e.action == "acknowledge"]
    with _one_writer(), transaction.atomic():
        if triggers:
            _fire(integration, triggers, now, result)
        if resolves:
            _resolve(integration, resolves, now, result)
        if acks:
            _acknowledge(integration, acks)
        if integration.last_received_at is None or now - integration.last_received_at > LAST_RECEIVED_PRECISION:
            Integration.objects.filter(pk=integration.pk).update(last_received_at=now)
    return result


_sqlite_writer = threading.Lock()


@contextlib.contextmanager
def _one_writer():
    """On SQLite, ingest transactions of this process queue on a lock instead of on SQLite's busy
    handler, which sleeps between retries (it made p99 seconds long with 4 senders)."""
    if connection.vendor != "sqlite":
        yield
        return
    with _sqlite_writer:
        yield


def _suppression(service, now):
    """A function labels -> why the alert pages no one ("" when it pages)."""
    window = MaintenanceWindow.objects.filter(service=service, starts_at__lte=now, ends_at__gt=now).first()
    silences = list(Silence.objects.filter(service=service, starts_at__lte=now, ends_at__gt=now))

    def why(labels):
        if window is not None:
            return f"maintenance:{window.pk}"
        for silence in silences:
            if silence.matches(labels):
                return f"silence:{silence.pk}"
        return ""

    return why


def _fire(integration, events, now, result):
    service = integration.service
    window_start = now - timedelta(seconds=integration.group_window_seconds)

    # An alert resolved within the window fires again as the same alert (the newest such row).
    # Filtered here rather than in SQL: with no ORDER BY and no OR the query stays on the
    # (service, dedup_key) index instead of scanning the service's alerts.
    known = (Alert.objects.filter(service=service, dedup_key__in=[e.dedup_key for e in events]).order_by()
             .values_list("id", "dedup_key", "status", "resolved_at"))
    firing_now, recent = set(), {}
    for pk, key, status, resolved_at in known:
        if status == Alert.Status.FIRING:
            firing_now.add(key)
        elif resolved_at >= window_start and pk > recent.get(key, 0):
            recent[key] = pk
    again = [pk for key, pk in recent.items() if key not in firing_now]
    if again:
        Alert.objects.filter(pk__in=again).update(
            status=Alert.Status.FIRING, resolved_at=None, ended_at=None, count=F("count") + 1, last_seen=now)

    rows = _upsert(integration, events, now, _suppression(service, now))
    result.firing = len(rows)
    result.suppressed = sum(1 for r in rows if r["suppressed_by"])
    _attach(integration, [r for r in rows if not r["suppressed_by"]], now, window_start, result)


COLUMNS = ["service_id", "integration_id", "dedup_key", "grouping_key", "status", "summary", "severity", "source",
           "labels", "annotations", "links", "details", "count", "first_seen", "last_seen", "started_at",
           "suppressed_by"]
# On a repeat, take what the sender says now; the identity, counts and first sight stay. Whether
# it is silenced is decided again too: a silence that ended lets a still-firing alert page.
REFRESHED = ["summary", "severity", "source", "labels", "annotations", "links", "details", "last_seen",
             "suppressed_by"]
RETURNED = ["id", "dedup_key", "grouping_key", "incident_id", "suppressed_by", "severity", "summary"]
ROWS_PER_STATEMENT = 500  # 500 x 17 parameters stays far below SQLite's limit of 32,766


def _upsert(integration, events, now, why):
    """Insert or refresh the firing alerts; returns RETURNED of each, as dicts."""
    ops = connection.ops
    quote = ops.quote_name
    stamp = ops.adapt_datetimefield_value(now)

    encoded = {}

    def as_json(value):
        # Senders repeat one context dict for a whole batch: encode it once. (The ids are stable:
        # every event is alive until the statement ran.)
        if id(value) not in encoded:
            encoded[id(value)] = ops.adapt_json_value(value, DjangoJSONEncoder)
        return encoded[id(value)]

    values = [
        (integration.service_id, integration.pk, e.dedup_key, grouping_key(integration, e), "firing",
         e.summary, e.severity, e.source, as_json(e.labels), as_json(e.annotations), as_json(e.links),
         as_json(e.details), 1, stamp, stamp, ops.adapt_datetimefield_value(e.started_at or now),
         why(e.labels))
        for e in events
    ]
    row_sql = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    rows = []
    with connection.cursor() as cursor:
        for i in range(0, len(values), ROWS_PER_STATEMENT):
            chunk = values[i:i + ROWS_PER_STATEMENT]
            cursor.execute(
                f"INSERT INTO {quote(Alert._meta.db_table)} ({', '.join(quote(c) for c in COLUMNS)}) "
                f"VALUES {', '.join([row_sql] * len(chunk))} "
                # The conflict target is the partial unique index one_firing_alert_per_dedup_key.
                f"ON CONFLICT (service_id, dedup_key) WHERE status = 'firing' "
                f"DO UPDATE SET {', '.join(f'{quote(c)} = excluded.{quote(c)}' for c in REFRESHED)} "
                f"RETURNING {', '.join(quote(c) for c in RETURNED)}",
                [param for row in chunk for param in row],
            )
            rows += [dict(zip(RETURNED, row)) for row in cursor.fetchall()]
    return rows


def _attach(integration, rows, now, window_start, result):
    """Give every firing alert that has no open incident one: its group's, a reopened one, or a new one."""
    service = integration.service
    # Alerts that already have an incident keep it, unless someone resolved it while they fired.
    resolved_at = dict(Incident.objects.filter(pk__in={r["incident_id"] for r in rows if r["incident_id"]},
                                               status=Status.RESOLVED).values_list("pk", "resolved_at"))
    needing = [r for r in rows if r["incident_id"] is None or r["incident_id"] in resolved_at]
    if not needing:
        return

    # An alert that fires again soon after its incident resolved reopens that incident.
    reopen = defaultdict(list)
    for r in needing:
        if r["incident_id"] is not None and resolved_at[r["incident_id"]] >= window_start:
            reopen[r["incident_id"]].append(r)
    for incident in Incident.objects.filter(pk__in=list(reopen), status=Status.RESOLVED):
        incident_actions.do_reopen_incident(
            incident, actor=None, reason=f"Alert fired again: {reopen[incident.pk][0]['summary']}")

    grouped = defaultdict(list)
    for r in needing:
        if r["incident_id"] not in reopen:
            grouped[r["grouping_key"]].append(r)
    # The newest open incident of each group, opened within the window.
    open_incident = dict(
        Incident.objects.filter(service=service, group_key__in=list(grouped), status__in=OPEN_STATUSES,
                                created_at__gte=window_start).order_by("id").values_list("group_key", "id")
    )
    joined = defaultdict(list)
    for key, group in grouped.items():
        incident_id = open_incident.get(key)
        if incident_id is None:
            worst = min(group, key=lambda r: SEVERITY_ORDER.index(r["severity"]))
            title = worst["summary"] if len(group) == 1 else f"{worst['summary']} (+{len(group) - 1} more)"
            incident = incident_actions.do_create_incident(
                service, actor=None, title=title[:255], severity=worst["severity"], group_key=key)
            incident_id = incident.pk
            result.incidents_opened.append(incident_id)
        joined[incident_id] += group
    for incident_id, group in joined.items():
        Alert.objects.filter(pk__in=[r["id"] for r in group]).update(incident_id=incident_id)
        Incident.objects.filter(pk=incident_id).update(alert_count=F("alert_count") + len(group))
    for incident in Incident.objects.filter(pk__in=list(joined)):
        group = joined[incident.pk]
        incident.add_entry(
            TimelineEntry.Kind.ALERT_FIRED, actor=None,
            body=_summaries(f"{len(group)} alert{'s' if len(group) > 1 else ''} fired", group),
            data={"alert_ids": [r["id"] for r in group][:100], "integration": integration.pk},
        )


def _resolve(integration, events, now, result):
    service = integration.service
    ops = connection.ops
    table = ops.quote_name(Alert._meta.db_table)
    stamp = ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET status = 'resolved', resolved_at = %s, last_seen = %s, ended_at = %s "
            f"WHERE service_id = %s AND dedup_key = %s AND status = 'firing'",
            [(stamp, stamp, ops.adapt_datetimefield_value(e.ended_at or now), service.pk, e.dedup_key) for e in events],
        )
    rows = list(Alert.objects.filter(service=service, dedup_key__in=[e.dedup_key for e in events],
                                     status=Alert.Status.RESOLVED, resolved_at=now)
                .values("id", "incident_id", "summary"))
    result.resolved = len(rows)
    by_incident = defaultdict(list)
    for r in rows:
        if r["incident_id"] is not None:
            by_incident[r["incident_id"]].append(r)
    still_firing = set(Alert.objects.filter(incident_id__in=list(by_incident), status=Alert.Status.FIRING)
                       .values_list("incident_id", flat=True))
    for incident in Incident.objects.filter(pk__in=list(by_incident)):
        group = by_incident[incident.pk]
        incident.add_entry(TimelineEntry.Kind.ALERT_RESOLVED, actor=None, at=now,
                           body=_summaries(f"{len(group)} alert{'s' if len(group) > 1 else ''} resolved", group),
                           data={"alert_ids": [r["id"] for r in group][:100]})
        if service.auto_resolve and incident.is_open and incident.pk not in still_firing:
            incident_actions.do_resolve_incident(incident, actor=None, reason="Every alert of the incident resolved.")
            result.incidents_resolved.append(incident.pk)


def _acknowledge(integration, events):
    """PagerDuty's acknowledge: the incident of the open alert is acknowledged (unknown keys are dropped)."""
    incident_ids = (Alert.objects.filter(service=integration.service, status=Alert.Status.FIRING,
                                         dedup_key__in=[e.dedup_key for e in events], incident__isnull=False)
                    .values_list("incident_id", flat=True))
    for incident in Incident.objects.filter(pk__in=list(incident_ids), status=Status.TRIGGERED):
        incident_actions.do_acknowledge_incident(incident, actor=None, reason=f"Acknowledged by {integration.name}")


def _summaries(head, rows, limit=5):
    names = "; ".join(r["summary"] for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{head}: {names}{more}"
