"""Failing monitors become alerts on their service through alerts.ingest, and recover; against
real servers on loopback, with the clock moved by time-machine between checks."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from vigil.alerts.actions import do_create_silence
from vigil.alerts.models import Alert, Integration
from vigil.incidents.models import Incident, TimelineEntry
from vigil.monitors import actions
from vigil.monitors.jobs import run_due_checks
from vigil.monitors.models import CheckResult, Monitor


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        yield traveller


def make(personas, **config):
    defaults = {"name": "Shop home page", "kind": "http", "interval_seconds": 60, "timeout_seconds": 5,
                "retries": 1, "retry_interval_seconds": 20}
    return actions.do_create_monitor(personas.service, actor=personas.admin, **{**defaults, **config})


def check_due(clock, seconds=0):
    """Move the clock on and run what is due then."""
    if seconds:
        clock.shift(timedelta(seconds=seconds))
    return run_due_checks()


def check_next(clock):
    """Move the clock to the next due check and run it."""
    due = Monitor.objects.filter(next_due_at__isnull=False).order_by("next_due_at").first().next_due_at
    clock.move_to(max(due, timezone.now()))
    return run_due_checks()


def test_a_server_that_goes_down_and_comes_back_opens_then_resolves_an_incident(personas, http_server, clock):
    monitor = make(personas, target=http_server.url)
    [result] = check_due(clock)
    assert result.ok
    monitor.refresh_from_db()
    assert monitor.status == "up"

    http_server.stop()
    [result] = check_next(clock)
    assert not result.ok and result.error == "connection failed: connection refused"
    monitor.refresh_from_db()
    # One failure is not enough: it is confirmed by a second attempt, 20 s later, before anyone hears.
    assert (monitor.status, monitor.state, monitor.failures_in_row) == ("up", "confirming", 1)
    assert not Alert.objects.exists() and not Incident.objects.exists()
    assert check_due(clock, 10) == []  # nothing due before the retry
    [result] = check_due(clock, 10)
    assert not result.ok
    monitor.refresh_from_db()
    assert monitor.status == "down"

    alert = Alert.objects.get()
    assert (alert.status, alert.dedup_key, alert.service, alert.severity) == ("firing", f"monitor:{monitor.pk}",
                                                                             personas.service, "sev2")
    assert alert.summary == "Shop home page is down: connection failed: connection refused"
    assert alert.labels == {"alertname": "MonitorDown", "monitor": "Shop home page", "monitor_kind": "http"}
    assert alert.links[0]["href"].endswith(f"/monitors/{monitor.pk}/")
    incident = Incident.objects.get()
    assert incident.status == "triggered" and incident.service == personas.service
    assert incident.title == alert.summary
    integration = Integration.objects.get(service=personas.service)
    assert (integration.name, integration.kind, integration.grouping) == ("Uptime monitors", "generic", "dedup_key")

    # Still down at the next slots: the same alert, no second incident.
    check_next(clock)
    assert Alert.objects.count() == 1 and Incident.objects.count() == 1

    http_server.start()  # back, on the same port
    [result] = check_next(clock)
    assert result.ok
    monitor.refresh_from_db()
    assert monitor.status == "up"
    alert.refresh_from_db()
    incident.refresh_from_db()
    assert alert.status == "resolved"
    assert incident.status == "resolved"
    assert incident.timeline.filter(kind=TimelineEntry.Kind.ALERT_RESOLVED).exists()


def test_a_keyword_mismatch_alerts(personas, http_server, clock):
    make(personas, target=http_server.url, keyword="All systems operational", retries=0)
    check_due(clock)
    assert not Alert.objects.exists()
    http_server.behaviour.body = b"<h1>Maintenance</h1>"
    check_next(clock)
    alert = Alert.objects.get(status="firing")
    assert alert.summary == "Shop home page is down: keyword 'All systems operational' not found in the response"
    assert Incident.objects.filter(status="triggered").count() == 1


def test_a_slow_response_alerts(personas, http_server, clock):
    monitor = make(personas, target=http_server.url, max_latency_ms=100, retries=1, retry_interval_seconds=5)
    http_server.behaviour.delay = 0.25
    check_due(clock)
    check_due(clock, 5)
    alert = Alert.objects.get(status="firing")
    assert alert.summary.startswith("Shop home page is down: slow: ")
    assert alert.summary.endswith("ms, more than 100 ms")
    results = list(CheckResult.objects.filter(monitor=monitor))
    assert len(results) == 2 and all(r.latency_ms >= 250 and not r.ok for r in results)


def test_a_certificate_expiring_in_3_days_warns(personas, https_server_expiring, clock):
    monitor = make(personas, target=https_server_expiring.url, verify_tls=False, tls_expiry_days=14)
    [result] = check_due(clock)
    assert result.ok
    monitor.refresh_from_db()
    assert monitor.status == "up" and monitor.tls_warning
    alert = Alert.objects.get()
    assert (alert.status, alert.dedup_key, alert.severity) == ("firing", f"monitor:{monitor.pk}:tls", "sev4")
    expires = https_server_expiring.expires_at
    assert alert.summary == f"Shop home page: TLS certificate expires {expires:%Y-%m-%d %H:%M} UTC"
    assert alert.labels["alertname"] == "CertificateExpiresSoon"

    # Warned 2 days ahead instead, it is not yet time: the warning resolves.
    actions.do_update_monitor(monitor, actor=personas.admin, tls_expiry_days=2)
    check_due(clock, 1)
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_a_closed_tcp_port_alerts(personas, closed_port, clock):
    make(personas, name="Postgres port", kind="tcp", target=f"127.0.0.1:{closed_port}", retries=0, severity="sev1")
    check_due(clock)
    alert = Alert.objects.get()
    assert alert.status == "firing" and alert.severity == "sev1"
    assert alert.summary == f"Postgres port is down: cannot connect to 127.0.0.1:{closed_port}: connection refused"


def test_an_open_port_and_a_dns_answer_stay_up(personas, open_port, dns_server, clock):
    make(personas, name="SSH", kind="ping", target=f"127.0.0.1:{open_port}")
    make(personas, name="DNS", kind="dns", target="shop.example", nameserver=dns_server, expected_answer="203.0.113.10")
    assert [r.ok for r in check_due(clock)] == [True, True]
    assert set(Monitor.objects.values_list("status", flat=True)) == {"up"}


def test_a_silence_on_the_service_applies_to_monitor_alerts(personas, closed_port, clock):
    make(personas, name="Postgres port", kind="tcp", target=f"127.0.0.1:{closed_port}", retries=0)
    do_create_silence(personas.service, actor=personas.admin, matchers=[{"name": "monitor", "op": "=",
                                                                         "value": "Postgres port"}],
                      ends_at=timezone.now() + timedelta(hours=1), comment="migrating the database")
    check_due(clock)
    alert = Alert.objects.get()
    assert alert.status == "firing" and alert.suppressed_by.startswith("silence:")
    assert not Incident.objects.exists()


def test_recovery_can_ask_for_several_good_checks(personas, http_server, clock):
    monitor = make(personas, target=http_server.url, retries=0, recovery_checks=2)
    http_server.behaviour.status = 500
    check_due(clock)
    http_server.behaviour.status = 200
    check_next(clock)
    monitor.refresh_from_db()
    assert monitor.status == "down" and Alert.objects.get().status == "firing"
    check_next(clock)
    monitor.refresh_from_db()
    assert monitor.status == "up" and Alert.objects.get().status == "resolved"


def test_pausing_a_down_monitor_resolves_its_alert_and_stops_checks(personas, closed_port, clock):
    monitor = make(personas, kind="tcp", target=f"127.0.0.1:{closed_port}", retries=0)
    check_due(clock)
    assert Alert.objects.get().status == "firing"
    actions.do_pause_monitor(monitor, actor=personas.admin)
    assert check_due(clock, 60) == []  # runs the alert sync too
    assert Alert.objects.get().status == "resolved"
    monitor.refresh_from_db()
    assert monitor.state == "paused" and monitor.next_due_at is None
    actions.do_resume_monitor(monitor, actor=personas.admin)
    assert len(check_due(clock)) == 1


def test_deleting_a_down_monitor_resolves_its_alert(personas, closed_port, clock):
    monitor = make(personas, kind="tcp", target=f"127.0.0.1:{closed_port}", retries=0)
    check_due(clock)
    actions.do_delete_monitor(monitor, actor=personas.admin)
    assert Alert.objects.get().status == "resolved"
    assert not Monitor.objects.exists() and not CheckResult.objects.exists()


def test_a_disabled_integration_keeps_monitor_alerts_out(personas, closed_port, clock):
    monitor = make(personas, kind="tcp", target=f"127.0.0.1:{closed_port}", retries=0)
    Integration.objects.filter(pk=monitor.integration_id).update(enabled=False)
    check_due(clock)
    monitor.refresh_from_db()
    assert monitor.status == "down" and not Alert.objects.exists()


def test_an_integration_deleted_by_hand_is_made_again(personas, closed_port, clock):
    monitor = make(personas, kind="tcp", target=f"127.0.0.1:{closed_port}", retries=0)
    Integration.objects.filter(pk=monitor.integration_id).delete()
    check_due(clock)
    assert Alert.objects.get().integration.name == "Uptime monitors"
