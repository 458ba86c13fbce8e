"""Scheduling: due times come from fixed slots (no drift), a backlog skips slots (no pile-up), a
check in flight is not started twice, a lost one runs again, and the worker's jobs hand checks
to the pool without waiting on them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from vigil.monitors import actions, jobs
from vigil.monitors.models import CheckResult, Monitor


def make(personas, target, **config):
    config = {"name": f"m{Monitor.objects.count()}", "kind": "http", "target": target, "interval_seconds": 30,
              "timeout_seconds": 5, **config}
    return actions.do_create_monitor(personas.service, actor=personas.admin, **config)


def test_slots_are_fixed_by_interval_and_phase():
    monitor = Monitor(pk=7, interval_seconds=30)
    phase = monitor.phase_seconds()
    assert 0 <= phase < 30
    start = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    slots = [monitor.slot_after(start)]
    for _ in range(5):
        slots.append(monitor.slot_after(slots[-1]))
    assert all(b - a == timedelta(seconds=30) for a, b in zip(slots, slots[1:]))
    assert (slots[0].timestamp() - phase) % 30 == pytest.approx(0, abs=1e-3)
    # A moment just before a slot gives that slot; the slot itself gives the next.
    assert monitor.slot_after(slots[2] - timedelta(milliseconds=1)) == slots[2]


def test_monitors_made_together_are_spread_over_their_interval():
    phases = [Monitor(pk=pk, interval_seconds=30).phase_seconds() for pk in range(1, 1001)]
    per_second = [sum(1 for p in phases if s <= p < s + 1) for s in range(30)]
    assert max(per_second) < 60  # about 33 a second, never a burst of hundreds


def test_checks_keep_to_the_schedule_however_late_they_run(personas, http_server):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        monitor = make(personas, http_server.url)
        jobs.run_due_checks()  # the first check, at once
        monitor.refresh_from_db()
        first_slot = monitor.next_due_at
        due_times = []
        for lateness in (0.0, 1.7, 0.2, 4.9, 0.0):
            monitor.refresh_from_db()
            due_times.append(monitor.next_due_at)
            clock.move_to(monitor.next_due_at + timedelta(seconds=lateness))
            [result] = jobs.run_due_checks()
            assert result.lag_ms == round(lateness * 1000)
        # Started late or not, each next check is due exactly one interval after the previous one.
        assert due_times[0] == first_slot
        assert all(b - a == timedelta(seconds=30) for a, b in zip(due_times, due_times[1:]))


def test_a_worker_that_was_away_runs_one_check_and_skips_the_missed_slots(personas, http_server):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        monitor = make(personas, http_server.url)
        jobs.run_due_checks()
        clock.shift(timedelta(minutes=10))  # 20 slots missed
        assert len(jobs.run_due_checks()) == 1
        monitor.refresh_from_db()
        assert timedelta(seconds=15) <= monitor.next_due_at - timezone.now() <= timedelta(seconds=45)
        assert jobs.run_due_checks() == []
        assert CheckResult.objects.count() == 2


def test_a_check_in_flight_is_not_claimed_twice_and_a_lost_one_runs_again(personas, http_server):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        monitor = make(personas, http_server.url, timeout_seconds=20)
        [(claimed, _due)] = jobs.claim_due(timezone.now(), 10)
        assert claimed.pk == monitor.pk
        monitor.refresh_from_db()
        clock.move_to(monitor.next_due_at)  # its next slot came, but its check never reported back
        assert jobs.claim_due(timezone.now(), 10) == []
        clock.move_to(monitor.claimed_until + timedelta(seconds=1))  # the lease ran out: the worker died
        [(again, _due)] = jobs.claim_due(timezone.now(), 10)
        assert again.pk == monitor.pk


def test_paused_monitors_are_not_claimed(personas, http_server):
    monitor = make(personas, http_server.url, paused=True)
    assert monitor.next_due_at is None
    assert jobs.claim_due(timezone.now() + timedelta(days=1), 10) == []


def test_the_worker_jobs_hand_checks_to_the_pool_and_record_them_later(personas, http_server):
    http_server.behaviour.delay = 0.2
    for _ in range(3):
        make(personas, http_server.url)
    pool = jobs.pool()
    started = timezone.now()
    assert jobs.start_due_monitor_checks() is True
    # The job returned without waiting for the checks (each takes 0.2 s): they are in flight.
    assert pool.free() == pool.size - 3
    assert jobs.start_due_monitor_checks() is False  # nothing else due
    assert CheckResult.objects.count() == 0
    pool.wait_idle()
    assert jobs.record_monitor_results() is True
    assert jobs.record_monitor_results() is False
    results = list(CheckResult.objects.all())
    assert len(results) == 3 and all(r.ok and r.latency_ms >= 200 and r.at >= started for r in results)
    assert set(Monitor.objects.values_list("status", flat=True)) == {"up"}
    assert not Monitor.objects.filter(claimed_until__isnull=False).exists()


def test_the_pool_bounds_how_many_checks_run_at_once(personas, http_server, settings, monkeypatch):
    monkeypatch.setattr(jobs, "_pool", jobs.CheckPool(2))
    monkeypatch.setattr(jobs, "_pool_pid", __import__("os").getpid())
    http_server.behaviour.delay = 0.2
    for _ in range(5):
        make(personas, http_server.url)
    assert jobs.start_due_monitor_checks() is True
    assert jobs.pool().free() == 0
    assert Monitor.objects.filter(claimed_until__isnull=True).count() == 3  # waiting for a free thread
    assert jobs.start_due_monitor_checks() is False
    for _ in range(2):
        jobs.pool().wait_idle()
        assert jobs.start_due_monitor_checks() is True
    jobs.pool().wait_idle()
    while jobs.record_monitor_results():
        pass
    assert CheckResult.objects.count() == 5


def test_results_of_a_monitor_deleted_mid_check_are_dropped(personas, http_server):
    monitor = make(personas, http_server.url)
    jobs.start_due_monitor_checks()
    jobs.pool().wait_idle()
    Monitor.objects.filter(pk=monitor.pk).delete()
    assert jobs.record_monitor_results() is True
    assert not CheckResult.objects.exists()


def test_old_results_are_pruned(personas, http_server, settings, monkeypatch):
    settings.MONITOR_HISTORY_DAYS = 7
    monitor = make(personas, http_server.url)
    now = timezone.now()
    CheckResult.objects.bulk_create([CheckResult(monitor=monitor, at=now - timedelta(days=d), ok=True, latency_ms=5)
                                     for d in (1, 6, 8, 30)])
    monkeypatch.setattr(jobs, "_last_prune", 0.0)
    monkeypatch.setattr(jobs.time, "monotonic", lambda: 10_000.0)
    assert jobs.prune_check_results() is True
    assert jobs.prune_check_results() is False
    assert sorted((now - r.at).days for r in CheckResult.objects.all()) == [1, 6]
    assert jobs.prune_check_results() is False  # not again for 10 minutes


def test_recorded_results_are_announced_for_latency_baselines(personas, http_server, caplog):
    from vigil.monitors.signals import results_recorded

    heard = []

    def receiver(sender, results, **kwargs):
        heard.extend((r.monitor.latency_series, r.ok, r.latency_ms) for r in results)

    def broken(sender, results, **kwargs):
        raise RuntimeError("a bug in some receiver")

    monitor = make(personas, http_server.url)
    results_recorded.connect(broken)
    results_recorded.connect(receiver)
    try:
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True):
            jobs.run_due_checks()
    finally:
        results_recorded.disconnect(receiver)
        results_recorded.disconnect(broken)
    assert CheckResult.objects.filter(monitor=monitor).count() == 1
    [(series, ok, latency)] = heard
    assert series == f"monitor.{monitor.pk}.latency_ms" and ok and latency > 0
    assert "a bug in some receiver" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_workers_claiming_at_once_never_take_the_same_monitor(personas):
    import threading

    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE")
    service = personas.service
    Monitor.objects.bulk_create([Monitor(service=service, name=f"m{i}", kind="tcp", target=f"db{i}.example.com:5432",
                                         interval_seconds=30, next_due_at=timezone.now()) for i in range(60)])
    barrier, claimed, errors = threading.Barrier(4), [], []

    def claim():
        from django.db import connection as thread_connection
        try:
            barrier.wait()
            while batch := jobs.claim_due(timezone.now(), 5):
                claimed.extend(m.pk for m, _due in batch)
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=claim) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert sorted(claimed) == sorted(Monitor.objects.values_list("pk", flat=True))  # each once, none twice
