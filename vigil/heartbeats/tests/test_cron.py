"""Cron heartbeats follow wall-clock time in their zone, across the daylight-saving changes."""

from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client

from vigil.alerts.models import Alert
from vigil.heartbeats.actions import do_create_heartbeat
from vigil.heartbeats.models import Heartbeat

from .conftest import work


def berlin_job(personas, cron="0 9 * * *"):
    return do_create_heartbeat(personas.service, actor=personas.admin, name="Morning report", kind=Heartbeat.Kind.CRON,
                               cron=cron, time_zone="Europe/Berlin", grace=timedelta(minutes=30))


def ping_at(heartbeat, at):
    with time_machine.travel(at, tick=False):
        assert Client().get(f"/ping/{heartbeat.uuid}").status_code == 200
    heartbeat.refresh_from_db()


def test_in_march_the_next_run_comes_23_hours_later(personas):
    heartbeat = berlin_job(personas)
    ping_at(heartbeat, datetime(2026, 3, 28, 8, 0, tzinfo=UTC))  # 09:00 CET
    # Sunday 29 March, clocks go to summer time: 09:00 CEST is 07:00 UTC.
    assert heartbeat.expected_at == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert heartbeat.alert_after == datetime(2026, 3, 29, 7, 30, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 3, 29, 7, 29, tzinfo=UTC), tick=False):
        work()
        assert not Alert.objects.exists()
    with time_machine.travel(datetime(2026, 3, 29, 7, 31, tzinfo=UTC), tick=False):
        work()
    assert Alert.objects.get().status == "firing"


def test_in_october_the_next_run_comes_25_hours_later(personas):
    heartbeat = berlin_job(personas)
    ping_at(heartbeat, datetime(2026, 10, 24, 7, 0, tzinfo=UTC))  # 09:00 CEST
    # Sunday 25 October, back to winter time: 09:00 CET is 08:00 UTC, so 07:31 UTC is not late.
    assert heartbeat.expected_at == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 10, 25, 7, 31, tzinfo=UTC), tick=False):
        work()
        assert not Alert.objects.exists()
    ping_at(heartbeat, datetime(2026, 10, 25, 8, 1, tzinfo=UTC))
    assert heartbeat.expected_at == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)


def test_a_job_in_the_skipped_hour_is_expected_right_after_the_change(personas):
    heartbeat = berlin_job(personas, cron="30 2 * * *")
    ping_at(heartbeat, datetime(2026, 3, 28, 1, 30, tzinfo=UTC))  # 02:30 CET
    # 02:30 does not exist on 29 March; cron runs it at 03:00 CEST (01:00 UTC).
    assert heartbeat.expected_at == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_a_job_in_the_repeated_hour_is_expected_once(personas):
    heartbeat = berlin_job(personas, cron="30 2 * * *")
    ping_at(heartbeat, datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # the first 02:30 (CEST)
    # The second 02:30 (CET, 01:30 UTC) is not a new run: the next is on the 26th.
    assert heartbeat.expected_at == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
