"""Several workers share the heartbeat timers: each overdue heartbeat is claimed once (PostgreSQL's
row locks with SKIP LOCKED; SQLite has one writer and is not the scale-out path)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from vigil.alerts.models import Alert
from vigil.heartbeats.jobs import check_due_heartbeat
from vigil.heartbeats.models import Heartbeat


@pytest.mark.django_db(transaction=True)
def test_four_workers_claim_each_overdue_heartbeat_once(personas):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: run with VIGIL_TEST_DATABASE_URL=postgres://...")
    long_ago = timezone.now() - timedelta(days=3)
    Heartbeat.objects.bulk_create([
        Heartbeat(service=personas.service, name=f"job {n}", period=timedelta(hours=1), grace=timedelta(minutes=5),
                  status=Heartbeat.Status.UP, last_ping_at=long_ago, alert_after=long_ago + timedelta(minutes=65))
        for n in range(40)])
    units = []

    def worker():
        try:
            done = 0
            while check_due_heartbeat():
                done += 1
            units.append(done)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sum(units) == 40
    assert Alert.objects.filter(status="firing").count() == 40
    assert not Heartbeat.objects.exclude(alerted="firing").exists()
    assert not Heartbeat.objects.filter(alert_after__isnull=False).exists()
