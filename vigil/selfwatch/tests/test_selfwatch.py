"""`/metrics` (Prometheus text format, a site admin's token) and `vigil check` (exit codes)."""

import os
import subprocess
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from vigil.accounts.models import ApiToken
from vigil.heartbeats.actions import do_create_heartbeat
from vigil.heartbeats.models import Heartbeat
from vigil.testing import VIGIL


def scrape(user=None, header=None):
    headers = {}
    if user is not None:
        headers["Authorization"] = f"Bearer {ApiToken.generate(user, 'prometheus')[1]}"
    if header is not None:
        headers["Authorization"] = header
    return Client().get("/metrics", headers=headers)


def samples(response):
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def test_it_needs_a_site_admins_token(personas):
    assert scrape().status_code == 401
    assert scrape(header="Bearer vgl_not-a-token").status_code == 401
    assert scrape(personas.admin).status_code == 403  # a team admin sees only their teams; these span all
    assert scrape(personas.site_admin).status_code == 200


def test_it_reports_ingest_queues_lag_and_delivery_failures(personas):
    from vigil.alerts import internal
    from vigil.paging.models import DeliveryAttempt, Notification

    internal.fire(personas.service, "Tests", dedup_key="disk", summary="Disk full")
    internal.fire(personas.service, "Tests", dedup_key="cpu", summary="CPU hot")
    heartbeat = do_create_heartbeat(personas.service, actor=personas.admin, name="Backup", period=timedelta(hours=1),
                                    grace=timedelta(minutes=5))
    # The worker has not run: the heartbeat has waited 90 s past its deadline.
    Heartbeat.objects.filter(pk=heartbeat.pk).update(status="up", alert_after=timezone.now() - timedelta(seconds=90))
    notification = Notification.objects.create(
        incident=personas.service.incidents.first(), user=personas.admin, kind="webhook", address="http://127.0.0.1:1/",
        reason="level 1", idempotency_key="test", due_at=timezone.now() - timedelta(seconds=5))
    DeliveryAttempt.objects.create(notification=notification, ok=False, detail="connection refused")

    response = scrape(personas.site_admin)
    assert response["Content-Type"].startswith("text/plain; version=")
    found = samples(response)
    assert found[("vigil_alert_firings_total", ())] == 2
    assert found[("vigil_alerts", (("status", "firing"),))] == 2
    assert found[("vigil_incidents", (("status", "triggered"),))] == 2
    assert found[("vigil_queue_due", (("queue", "escalations"),))] == 2  # paging starts at once; no worker ran
    assert found[("vigil_queue_due", (("queue", "heartbeats"),))] == 1
    assert found[("vigil_queue_due", (("queue", "notifications"),))] == 1
    assert found[("vigil_notifications", (("state", "pending"),))] == 1
    assert found[("vigil_delivery_failures_total", ())] == 1
    assert 89 < found[("vigil_timer_lag_seconds", (("timer", "heartbeat"),))] < 120
    assert found[("vigil_engine_lag_seconds", ())] >= 89


def database_url():
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def vigil_check(tmp_path, url, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "DATABASE_URL", "PYTEST"))}
    env.update(VIGIL_DATA_DIR=str(tmp_path), DATABASE_URL=url)
    return subprocess.run([VIGIL, "check", *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.django_db(transaction=True)
def test_vigil_check_exits_non_zero_when_the_worker_is_behind(personas, tmp_path):
    fine = vigil_check(tmp_path, database_url())
    assert fine.returncode == 0, fine.stderr
    assert "OK: database answers" in fine.stdout
    heartbeat = do_create_heartbeat(personas.service, actor=personas.admin, name="Backup", period=timedelta(hours=1),
                                    grace=timedelta(minutes=5))
    Heartbeat.objects.filter(pk=heartbeat.pk).update(status="up", alert_after=timezone.now() - timedelta(seconds=300))
    behind = vigil_check(tmp_path, database_url())
    assert behind.returncode == 1
    assert "the worker is behind: the oldest due heartbeat timer has waited 3" in behind.stderr


def test_vigil_check_exits_2_when_the_database_is_unreachable(tmp_path):
    down = vigil_check(tmp_path, "postgres://vigil@127.0.0.1:1/vigil")
    assert down.returncode == 2
    assert "CRITICAL: the database is unreachable" in down.stderr
