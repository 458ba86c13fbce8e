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
import fcntl
import json
import os
import threading
from collections import defaultdict, namedtuple
from dataclasses import dataclass, field
from datetime import timedelta

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from vigil.incidents import actions as incident_actions
from vigil.incidents.models import OPEN_STATUSES, Incident, Status, TimelineEntry

from . import caches, ratelimit
from .models import Alert, Integration

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


def ingest(integration, events, *, now=None, rate_limit=False):
    """Record `events` (from one request) for the integration's service. One transaction.
    With `rate_limit` (a sender's request), the request counts against the key's limit, and
    ratelimit.RateLimited is raised, nothing written, when the key is over it."""
    now = now or timezone.now()
    result = IngestResult(received=len(events))
    # One event per dedup key: the last word of the sender wins.
    latest = {e.dedup_key: e for e in events}
    triggers = [e for e in latest.values() if e.action == "trigger" and e.status == "firing"]
    resolves = [e for e in latest.values() if e.status == "resolved" or e.action == "resolve"]
    acks = [e for e in latest.values() if e.action == "acknowledge"]
    with _one_writer(), transaction.atomic():
        if rate_limit:
            ratelimit.count_request(integration, now)
        if triggers:
            _fire(integration, triggers, now, result)
        if resolves:
            _resolve(integration, resolves, now, result)
        if acks:
            _acknowledge(integration, acks)
        if integration.last_received_at is None or now - integration.last_received_at > LAST_RECEIVED_PRECISION:
            Integration.objects.filter(pk=integration.pk).update(last_received_at=now)
            caches.received(integration, now)
    return result


_sqlite_writer = threading.Lock()
_sqlite_writer_file = {}  # pid -> the lock file, opened after the fork: a shared one would not exclude


@contextlib.contextmanager
def _one_writer():
    """On SQLite, ingest transactions queue on a lock (the threads of this process on a mutex,
    the processes of `vigil serve` on a file lock beside the database) instead of on SQLite's busy
    handler, which sleeps between retries (it made p99 seconds long with 4 senders)."""
    if connection.vendor != "sqlite" or connection.is_in_memory_db():
        yield
        return
    with _sqlite_writer:
        lock = _sqlite_writer_file.get(os.getpid())
        if lock is None:
            lock = _sqlite_writer_file[os.getpid()] = open(f"{connection.settings_dict['NAME']}.ingest-lock", "a")
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _fire(integration, events, now, result):
    service_id = integration.service_id
    window_start = now - timedelta(seconds=integration.group_window_seconds)
    known = _known(service_id, [e.dedup_key for e in events], window_start)
    # An alert resolved within the window fires again as the same alert (the newest such row).
    again = {row.id for row in known.values() if row.status != Alert.Status.FIRING and row.recently_resolved}
    if again:
        Alert.objects.filter(pk__in=again).update(
            status=Alert.Status.FIRING, resolved_at=None, ended_at=None, count=F("count") + 1, last_seen=now)
    # The rows the upsert will refresh rather than insert.
    firing = {key: row for key, row in known.items() if row.status == Alert.Status.FIRING or row.id in again}

    why = caches.suppression(service_id, now)
    # Each event with its group and why it pages no one ("" when it pages).
    decided = [(e, grouping_key(integration, e), why(e.labels)) for e in events]
    # New alerts go into their group's open incident in the insert itself; the rest is sorted out after.
    groups = {key for e, key, suppressed in decided
              if not suppressed and (e.dedup_key not in firing or firing[e.dedup_key].needs_incident)}
    open_incident = _open_incidents(service_id, groups, window_start) if groups else {}
    rows = _upsert(integration, decided, now, open_incident, firing)
    result.firing = len(rows)
    result.suppressed = sum(1 for r in rows if r["suppressed_by"])
    _attach(integration, rows, firing, open_incident, groups, window_start, result)


class Known(namedtuple("Known", "id status recently_resolved incident_id incident_status incident_recently_resolved")):
    """What the database holds for a dedup key before this request: its firing row or its newest
    resolved one, and that row's incident."""

    __slots__ = ()

    @property
    def needs_incident(self):
        return self.incident_id is None or self.incident_status == Status.RESOLVED


def _known(service_id, keys, window_start):
    """Known per dedup key: the firing row if there is one, else the newest resolved row."""
    ops = connection.ops
    since = ops.adapt_datetimefield_value(window_start)
    with connection.cursor() as cursor:
        # Times compared in SQL (SQLite returns text); no ORDER BY and no OR, so the query stays on the
        # (service, dedup_key) index instead of scanning the service's alerts.
        cursor.execute(
            "SELECT a.dedup_key, a.id, a.status, a.resolved_at >= %s, a.incident_id, i.status, i.resolved_at >= %s "
            f"FROM {Alert._meta.db_table} a LEFT JOIN {Incident._meta.db_table} i ON i.id = a.incident_id "
            f"WHERE a.service_id = %s AND a.dedup_key IN ({', '.join(['%s'] * len(keys))})",
            [since, since, service_id, *keys],
        )
        found = {}
        for key, *values in cursor.fetchall():
            row = Known._make(values)
            seen = found.get(key)
            if seen is None or (seen.status != Alert.Status.FIRING
                                and (row.status == Alert.Status.FIRING or row.id > seen.id)):
                found[key] = row
    return found


def _open_incidents(service_id, groups, window_start):
    """{grouping key: the newest open incident of the group opened within the window}."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT group_key, MAX(id) FROM {Incident._meta.db_table} WHERE service_id = %s "
            f"AND group_key IN ({', '.join(['%s'] * len(groups))}) AND status IN (%s, %s, %s) AND created_at >= %s "
            "GROUP BY group_key",
            [service_id, *groups, *OPEN_STATUSES, connection.ops.adapt_datetimefield_value(window_start)],
        )
        return dict(cursor.fetchall())


COLUMNS = ["service_id", "integration_id", "dedup_key", "grouping_key", "status", "summary", "severity", "source",
           "labels", "annotations", "links", "details", "count", "first_seen", "last_seen", "started_at",
           "suppressed_by", "incident_id"]
# On a repeat, take what the sender says now; the identity, counts, first sight and incident stay.
# Whether it is silenced is decided again too: a silence that ended lets a still-firing alert page.
REFRESHED = ["summary", "severity", "source", "labels", "annotations", "links", "details", "last_seen",
             "suppressed_by"]
JSON_COLUMNS = {"labels", "annotations", "links", "details"}
RETURNED = ["id", "dedup_key", "grouping_key", "incident_id", "suppressed_by", "severity", "summary"]
ROWS_PER_STATEMENT = 500  # 500 x 18 parameters stays far below SQLite's limit of 32,766


def _upsert(integration, decided, now, open_incident, firing):
    """Insert or refresh the firing alerts; returns RETURNED of each, as dicts, with `inserted`."""
    ops = connection.ops
    quote = ops.quote_name
    stamp = ops.adapt_datetimefield_value(now)

    encoded = {}

    def as_json(value):
        # Senders repeat one context dict for a whole batch: encode it once. (The ids are stable:
        # every event is alive until the statement ran.)
        if id(value) not in encoded:
            try:
                # orjson: a batch encodes four small objects per alert, and json.dumps spent a fifth
                # of a request's time setting up its encoder for each.
                encoded[id(value)] = orjson.dumps(value).decode()
            except orjson.JSONEncodeError:  # a caller's own details (dates, decimals, big integers...)
                encoded[id(value)] = json.dumps(value, cls=DjangoJSONEncoder)
        return encoded[id(value)]

    times = {None: stamp}

    def as_time(moment):
        if moment not in times:  # a batch's alerts often started at one moment
            times[moment] = ops.adapt_datetimefield_value(moment)
        return times[moment]

    values = [
        (integration.service_id, integration.pk, e.dedup_key, key, "firing",
         e.summary, e.severity, e.source, as_json(e.labels), as_json(e.annotations), as_json(e.links),
         as_json(e.details), 1, stamp, stamp, as_time(e.started_at),
         suppressed, None if suppressed or e.dedup_key in firing else open_incident.get(key))
        for e, key, suppressed in decided
    ]
    # JSON goes in as text; PostgreSQL is told it is jsonb.
    json_sql = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    row_sql = "(" + ", ".join(json_sql if c in JSON_COLUMNS else "%s" for c in COLUMNS) + ")"
    # Whether the row is new. On PostgreSQL another transaction may have inserted the same alert
    # since `firing` was read (the insert then waited for it and became an update): ask the row.
    inserted = ", xmax = 0" if connection.vendor == "postgresql" else ""
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
                f"RETURNING {', '.join(quote(c) for c in RETURNED)}{inserted}",
                [param for row in chunk for param in row],
            )
            rows += [dict(zip(RETURNED + ["inserted"], row)) for row in cursor.fetchall()]
    if not inserted:
        # SQLite: this transaction has held the write lock since before `firing` was read.
        for r in rows:
            r["inserted"] = r["dedup_key"] not in firing
    return rows


def _attach(integration, rows, firing, open_incident, looked_up, window_start, result):
    """Give every firing alert that pages and has no open incident one: its group's, a reopened one,
    or a new one; then count the group's new alerts on each incident and say so on its timeline."""
    service = integration.service
    joined = defaultdict(list)  # incident id -> rows that joined it now
    reopen = defaultdict(list)
    grouped = defaultdict(list)
    for r in rows:
        if r["suppressed_by"]:
            continue
        before = firing.get(r["dedup_key"])
        if r["inserted"] or before is None:
            if r["incident_id"] is None:
                grouped[r["grouping_key"]].append(r)
            elif r["inserted"]:
                joined[r["incident_id"]].append(r)
        elif before.incident_id is None:
            grouped[r["grouping_key"]].append(r)
        elif before.incident_status == Status.RESOLVED:
            # Someone resolved its incident while it fired, or it fires again after both resolved:
            # soon after, that incident reopens; later, the alert goes to its group like a new one.
            if before.incident_recently_resolved:
                reopen[before.incident_id].append(r)
            else:
                grouped[r["grouping_key"]].append(r)

    if reopen:
        for incident in Incident.objects.filter(pk__in=list(reopen), status=Status.RESOLVED):
            incident_actions.do_reopen_incident(
                incident, actor=None, reason=f"Alert fired again: {reopen[incident.pk][0]['summary']}")

    if unknown := set(grouped) - looked_up:  # rows another transaction inserted meanwhile (PostgreSQL)
        open_incident.update(_open_incidents(integration.service_id, unknown, window_start))
    for key, group in grouped.items():
        incident_id = open_incident.get(key)
        if incident_id is None:
            worst = min(group, key=lambda r: SEVERITY_ORDER.index(r["severity"]))
            title = worst["summary"] if len(group) == 1 else f"{worst['summary']} (+{len(group) - 1} more)"
            incident = incident_actions.do_create_incident(
                service, actor=None, title=title[:255], severity=worst["severity"], group_key=key)
            incident_id = open_incident[key] = incident.pk
            result.incidents_opened.append(incident_id)
        Alert.objects.filter(pk__in=[r["id"] for r in group]).update(incident_id=incident_id)
        joined[incident_id] += group

    if not joined:
        return
    # Plain SQL for the two writes every request that adds alerts makes: building them through the
    # ORM cost more than running them. (TimelineEntry has no save() logic for new entries.)
    ops = connection.ops
    at = ops.adapt_datetimefield_value(timezone.now())
    entry = "(%s, %s, %s, %s, %s::jsonb)" if connection.vendor == "postgresql" else "(%s, %s, %s, %s, %s)"
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {ops.quote_name(Incident._meta.db_table)} SET alert_count = alert_count + %s "
                           "WHERE id = %s", [(len(group), incident_id) for incident_id, group in joined.items()])
        cursor.execute(
            f"INSERT INTO {ops.quote_name(TimelineEntry._meta.db_table)} (incident_id, at, kind, body, data) "
            f"VALUES {', '.join([entry] * len(joined))}",
            [value for incident_id, group in joined.items() for value in (
                incident_id, at, TimelineEntry.Kind.ALERT_FIRED.value,
                _summaries(f"{len(group)} alert{'s' if len(group) > 1 else ''} fired", group),
                json.dumps({"alert_ids": [r["id"] for r in group][:100], "integration": integration.pk}))],
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
