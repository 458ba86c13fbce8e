"""Running monitors from the worker loop, without blocking it.

The loop is one thread that also pages people, so it never waits on the network here:

1. `start_due_monitor_checks` claims due monitors (row locks, SKIP LOCKED; as many as the check
   pool has free threads), moves each one's `next_due_at` to its next slot and sets a lease, and
   hands the checks to a bounded thread pool (VIGIL_MONITOR_CONCURRENCY threads per process).
2. The pool's threads do only network work and put their outcomes on a queue.
3. `record_monitor_results` takes the outcomes off the queue in batches: one transaction stores
   the results and each monitor's new state; a change the alert pipeline must hear about bumps
   the monitor's `alert_version`.
4. `sync_monitor_alerts` tells the pipeline (alerts.ingest) what each such monitor's alerts
   should be now, then marks that version synced. Ingest is idempotent, so a worker dying in
   between only repeats it. (It runs outside any transaction of ours: on SQLite, ingest queues
   its writers on a lock, and waiting for it while holding SQLite's write lock could deadlock.)

A worker that dies with checks in flight loses only those results: the lease runs out and the
monitors are checked again at their next slot.
"""

import logging
import os
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from vigil import worker
from vigil.worker import job

from . import alerting, checks
from .models import CheckResult, Monitor
from .signals import results_recorded

log = logging.getLogger("vigil.monitors")

LEASE_MARGIN = timedelta(seconds=30)  # beyond the check's own timeout
CLAIM_BATCH = 100
RECORD_BATCH = 500
PRUNE_BATCH = 5000
PRUNE_EVERY_SECONDS = 600


@dataclass
class Done:
    monitor: Monitor
    due_at: datetime
    started_at: datetime
    outcome: checks.Outcome


class CheckPool:
    """A fixed number of threads running checks; finished ones wait on `done` to be recorded."""

    def __init__(self, size):
        self.size = size
        self.executor = ThreadPoolExecutor(size, thread_name_prefix="vigil-check")
        self.done = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.in_flight = 0

    def free(self):
        with self.lock:
            return self.size - self.in_flight

    def submit(self, monitor, due_at):
        with self.lock:
            self.in_flight += 1
        self.executor.submit(self._run, monitor, due_at)

    def _run(self, monitor, due_at):
        started_at = timezone.now()
        try:
            self.done.put(Done(monitor, due_at, started_at, checks.run(monitor)))
        finally:
            with self.lock:
                self.in_flight -= 1
        worker.wake()

    def take(self, limit):
        items = []
        while len(items) < limit:
            try:
                items.append(self.done.get_nowait())
            except queue.Empty:
                break
        return items

    def wait_idle(self, timeout=30):
        """Until no check is running (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self.free() < self.size and time.monotonic() < deadline:
            time.sleep(0.01)


_pool = None
_pool_pid = None
_pool_lock = threading.Lock()


def pool():
    """This process's check pool, made on first use (in the process that runs the job loop, never before a fork)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool, _pool_pid = CheckPool(settings.MONITOR_CONCURRENCY), os.getpid()
        return _pool


# --- 1. claim -------------------------------------------------------------------------------------

def claim_due(now, limit):
    """Claim up to `limit` due monitors: [(monitor, due_at)]. Each gets its next slot and a lease."""
    due = (Monitor.objects.filter(next_due_at__lte=now, paused=False)
           .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)))
    if not due.exists():
        return []
    with transaction.atomic():
        due = list(due.select_for_update(skip_locked=True).order_by("next_due_at")[:limit])
        claims = []
        for monitor in due:
            claims.append((monitor, monitor.next_due_at))
            # At least half an interval on: a check that started late does not make the next one
            # come early, and a backlog skips slots instead of piling up.
            monitor.next_due_at = monitor.slot_after(now + timedelta(seconds=monitor.interval_seconds / 2))
            monitor.claimed_until = now + timedelta(seconds=monitor.timeout_seconds) + LEASE_MARGIN
        update_rows(due, ["next_due_at", "claimed_until"])
    return claims


def update_rows(monitors, fields):
    """Write `fields` of each monitor: one prepared UPDATE run for every row. (bulk_update builds a
    CASE per field over all rows, which costs seconds for a few hundred rows.)"""
    if not monitors:
        return
    columns = [Monitor._meta.get_field(name) for name in fields]
    db = connections[Monitor.objects.db]  # the connection itself, not the thread-local proxy: 10x fewer lookups
    quote = db.ops.quote_name
    sql = (f"UPDATE {quote(Monitor._meta.db_table)} SET {', '.join(f'{quote(c.column)} = %s' for c in columns)} "
           f"WHERE {quote(Monitor._meta.pk.column)} = %s")
    rows = [[c.get_db_prep_save(getattr(m, c.attname), db) for c in columns] + [m.pk] for m in monitors]
    with db.cursor() as cursor:
        cursor.executemany(sql, rows)


@job
def start_due_monitor_checks(now=None):
    """Hand due checks to the pool, as many as it has free threads. Never waits on the network."""
    checks_pool = pool()
    free = checks_pool.free()
    if free <= 0:
        return False
    claims = claim_due(now or timezone.now(), min(free, CLAIM_BATCH))
    for monitor, due_at in claims:
        checks_pool.submit(monitor, due_at)
    return bool(claims)


# --- 3. record ------------------------------------------------------------------------------------

STATE_FIELDS = ["status", "failures_in_row", "successes_in_row", "last_checked_at", "last_latency_ms", "last_error",
                "status_changed_at", "tls_expires_at", "tls_warning", "next_due_at", "claimed_until",
                "alert_version"]


def apply(monitor, done, now):
    """Move `monitor`'s state by one check's outcome (in memory). The rules of retries and recovery."""
    outcome = done.outcome
    monitor.claimed_until = None
    monitor.last_checked_at = done.started_at
    monitor.last_latency_ms = outcome.latency_ms
    monitor.last_error = outcome.error
    if monitor.paused:
        return
    was = (monitor.status, monitor.tls_warning)
    if outcome.ok:
        monitor.failures_in_row, monitor.successes_in_row = 0, monitor.successes_in_row + 1
        if monitor.status == Monitor.Status.UNKNOWN or (
                monitor.status == Monitor.Status.DOWN and monitor.successes_in_row >= monitor.recovery_checks):
            monitor.status, monitor.status_changed_at = Monitor.Status.UP, now
    else:
        monitor.failures_in_row, monitor.successes_in_row = monitor.failures_in_row + 1, 0
        if monitor.status != Monitor.Status.DOWN:
            if monitor.failures_in_row > monitor.retries:
                monitor.status, monitor.status_changed_at = Monitor.Status.DOWN, now
            else:
                # Not confirmed yet: try again soon instead of at the next slot.
                retry_at = now + timedelta(seconds=monitor.retry_interval_seconds)
                monitor.next_due_at = min(monitor.next_due_at or retry_at, retry_at)
    if outcome.tls_expires_at is not None:
        monitor.tls_expires_at = outcome.tls_expires_at
        monitor.tls_warning = bool(monitor.tls_expiry_days) and (
            outcome.tls_expires_at - now <= timedelta(days=monitor.tls_expiry_days))
    if (monitor.status == Monitor.Status.DOWN) != (was[0] == Monitor.Status.DOWN) or monitor.tls_warning != was[1]:
        monitor.alert_version += 1


def record(items, now=None):
    """Store a batch of finished checks and the monitors' new state, in one transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        monitors = Monitor.objects.select_for_update().in_bulk([d.monitor.pk for d in items])
        results, changed = [], {}
        for done in items:
            monitor = monitors.get(done.monitor.pk)
            if monitor is None:  # deleted while its check ran
                continue
            apply(monitor, done, now)
            changed[monitor.pk] = monitor
            lag = max(0.0, (done.started_at - done.due_at).total_seconds() * 1000)
            results.append(CheckResult(monitor=monitor, at=done.started_at, ok=done.outcome.ok,
                                       latency_ms=done.outcome.latency_ms, status_code=done.outcome.status_code,
                                       error=done.outcome.error, lag_ms=round(lag)))
        CheckResult.objects.bulk_create(results)
        update_rows(list(changed.values()), STATE_FIELDS)
        transaction.on_commit(lambda: _announce(results))
    if any(m.alert_version != m.alert_synced_version for m in changed.values()):
        worker.wake()
    return results


def _announce(results):
    # A failing receiver (a baseline learner, say) must not stop checks from being recorded.
    for receiver, error in results_recorded.send_robust(sender=CheckResult, results=results):
        if isinstance(error, Exception):
            log.error("results_recorded receiver %r failed: %s", receiver, error, exc_info=error)


@job
def record_monitor_results():
    items = pool().take(RECORD_BATCH)
    if not items:
        return False
    record(items)
    return True


# --- 4. tell the pipeline ---------------------------------------------------------------------------

@job
def sync_monitor_alerts():
    """Tell alerts.ingest the current alerts of one monitor whose state changed. At least once."""
    monitor = (Monitor.objects.select_related("service", "integration")
               .filter(alert_version__gt=F("alert_synced_version")).order_by("status_changed_at", "pk").first())
    if monitor is None:
        return False
    version = monitor.alert_version
    alerting.send(monitor)
    Monitor.objects.filter(pk=monitor.pk, alert_version=version).update(alert_synced_version=version)
    return True


# --- history ---------------------------------------------------------------------------------------

_last_prune = 0.0


@job
def prune_check_results(now=None):
    """Delete results older than VIGIL_MONITOR_HISTORY_DAYS, a batch at a time, every 10 minutes."""
    global _last_prune
    if time.monotonic() - _last_prune < PRUNE_EVERY_SECONDS:
        return False
    cutoff = (now or timezone.now()) - timedelta(days=settings.MONITOR_HISTORY_DAYS)
    old = list(CheckResult.objects.filter(at__lt=cutoff).order_by().values_list("pk", flat=True)[:PRUNE_BATCH])
    if not old:
        _last_prune = time.monotonic()
        return False
    CheckResult.objects.filter(pk__in=old).delete()
    return True


# --- for tests and the "check now" of a page --------------------------------------------------------

def run_due_checks(now=None):
    """Claim every due monitor, check them through the pool, wait, record, tell the pipeline.
    Returns the results. (The worker does the same in small steps without waiting.)"""
    now = now or timezone.now()
    checks_pool = pool()
    claims = claim_due(now, 10_000)
    for monitor, due_at in claims:
        checks_pool.submit(monitor, due_at)
    checks_pool.wait_idle()
    results = []
    while items := checks_pool.take(RECORD_BATCH):
        results += record(items, now=timezone.now())
    while sync_monitor_alerts():
        pass
    return results
