"""The ping endpoints and what a ping changes, with healthchecks.io's answers."""

import uuid
from datetime import UTC, datetime, timedelta

import time_machine
from django.test import Client

from vigil.alerts.models import Alert
from vigil.heartbeats.models import PING_BODY_LIMIT, Heartbeat, Ping
from vigil.incidents.models import Incident

from .conftest import work

T0 = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)


def refreshed(hb):
    hb.refresh_from_db()
    return hb


def test_a_ping_answers_ok_as_plain_text_with_get_head_and_post(heartbeat):
    client = Client()
    for method in ("get", "head", "post"):
        response = getattr(client, method)(f"/ping/{heartbeat.uuid}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        assert response["Ping-Body-Limit"] == str(PING_BODY_LIMIT)
        if method != "head":
            assert response.content == b"OK"
    assert [p.method for p in heartbeat.pings.order_by("n")] == ["GET", "HEAD", "POST"]
    assert refreshed(heartbeat).status == Heartbeat.Status.UP
    assert heartbeat.n_pings == 3


def test_a_trailing_slash_is_taken_as_healthchecks_io_takes_it(heartbeat):
    client = Client()
    assert client.get(f"/ping/{heartbeat.uuid}/").content == b"OK"
    assert client.post(f"/ping/{heartbeat.uuid}/fail/").content == b"OK"
    assert [p.kind for p in heartbeat.pings.order_by("n")] == ["success", "fail"]


def test_an_unknown_key_is_not_found_and_other_methods_are_refused(heartbeat):
    client = Client()
    response = client.get(f"/ping/{uuid.uuid4()}")
    assert (response.status_code, response.content) == (404, b"not found")
    assert client.put(f"/ping/{heartbeat.uuid}").status_code == 405
    assert not Ping.objects.exists()


def test_a_bad_exit_status_or_rid_is_refused_and_changes_nothing(heartbeat):
    client = Client()
    assert client.get(f"/ping/{heartbeat.uuid}/256").status_code == 400
    assert client.get(f"/ping/{heartbeat.uuid}?rid=nope").status_code == 400
    assert refreshed(heartbeat).n_pings == 0


def test_the_body_is_kept_up_to_100_kb(heartbeat):
    client = Client()
    client.post(f"/ping/{heartbeat.uuid}/log", "backup of 12 tables done\n", content_type="text/plain")
    big = b"x" * (PING_BODY_LIMIT + 500)
    client.post(f"/ping/{heartbeat.uuid}", big, content_type="application/octet-stream")
    log, success = heartbeat.pings.order_by("n")
    assert (log.kind, log.body) == ("log", "backup of 12 tables done\n")
    assert len(success.body) == PING_BODY_LIMIT and success.body_size == PING_BODY_LIMIT + 500
    assert success.body_truncated
    # /log keeps a message and changes no status.
    assert refreshed(heartbeat).status == Heartbeat.Status.UP and heartbeat.last_ping_at == success.created_at


def test_late_beyond_grace_alerts_and_the_next_ping_resolves(heartbeat, personas):
    client = Client()
    with time_machine.travel(T0, tick=False):
        client.get(f"/ping/{heartbeat.uuid}")
    with time_machine.travel(T0 + timedelta(days=1, minutes=30), tick=False):
        work()
        assert refreshed(heartbeat).is_late() and heartbeat.status == Heartbeat.Status.UP
        assert not Alert.objects.exists()
    with time_machine.travel(T0 + timedelta(days=1, hours=1) - timedelta(seconds=1), tick=False):
        work()
        assert not Alert.objects.exists()
    with time_machine.travel(T0 + timedelta(days=1, hours=1, seconds=1), tick=False):
        assert work() == 1
        alert = Alert.objects.get()
        assert refreshed(heartbeat).status == Heartbeat.Status.DOWN
        assert alert.status == "firing" and alert.service == personas.service
        assert alert.dedup_key == f"heartbeat:{heartbeat.uuid}"
        assert "no ping since 2026-05-04 02:00 UTC" in alert.summary
        assert alert.incident.status == "triggered" and alert.severity == "sev2"
        assert work() == 0  # told once
    with time_machine.travel(T0 + timedelta(days=1, hours=2), tick=False):
        client.post(f"/ping/{heartbeat.uuid}", "done late", content_type="text/plain")
        work()
        alert.refresh_from_db()
        assert alert.status == "resolved"
        assert refreshed(heartbeat).status == Heartbeat.Status.UP and heartbeat.alerted == "resolved"
        assert heartbeat.alert_after == T0 + timedelta(days=2, hours=3)


def test_fail_alerts_at_once_with_its_output(heartbeat):
    client = Client()
    with time_machine.travel(T0, tick=False):
        client.get(f"/ping/{heartbeat.uuid}")
        client.post(f"/ping/{heartbeat.uuid}/fail", "pg_dump: error: connection refused\n", content_type="text/plain")
        assert refreshed(heartbeat).status == Heartbeat.Status.DOWN
        assert heartbeat.alert_after == T0  # due now, not at the deadline
        work()
    alert = Alert.objects.get()
    assert alert.summary == "Nightly backup: reported a failure"
    assert alert.details["output"] == "pg_dump: error: connection refused\n"
    assert Incident.objects.get().title == "Nightly backup: reported a failure"


def test_a_non_zero_exit_status_alerts_and_zero_is_a_success(heartbeat):
    client = Client()
    with time_machine.travel(T0, tick=False):
        client.get(f"/ping/{heartbeat.uuid}/0")
        assert refreshed(heartbeat).status == Heartbeat.Status.UP
        client.get(f"/ping/{heartbeat.uuid}/3")
        work()
    assert refreshed(heartbeat).last_exit_status == 3
    assert Alert.objects.get(status="firing").summary == "Nightly backup: exited with status 3"
    assert heartbeat.pings.first().get_kind_display() == "Failure"


def test_start_measures_the_run_time_matched_by_rid(heartbeat):
    client = Client()
    rid, other = uuid.uuid4(), uuid.uuid4()
    with time_machine.travel(T0, tick=False):
        client.get(f"/ping/{heartbeat.uuid}/start?rid={rid}")
        assert refreshed(heartbeat).is_running
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        client.get(f"/ping/{heartbeat.uuid}?rid={other}")  # another run's end: not ours
        assert refreshed(heartbeat).is_running and heartbeat.last_duration is None
    with time_machine.travel(T0 + timedelta(seconds=95), tick=False):
        client.get(f"/ping/{heartbeat.uuid}?rid={rid}")
    assert refreshed(heartbeat).last_duration == timedelta(seconds=95)
    assert not heartbeat.is_running
    assert heartbeat.pings.first().duration == timedelta(seconds=95)


def test_a_run_that_started_and_never_finished_alerts_after_grace(heartbeat):
    client = Client()
    with time_machine.travel(T0, tick=False):
        client.get(f"/ping/{heartbeat.uuid}")
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        client.get(f"/ping/{heartbeat.uuid}/start")
        assert refreshed(heartbeat).alert_after == T0 + timedelta(hours=4)
    with time_machine.travel(T0 + timedelta(hours=4, seconds=1), tick=False):
        work()
    assert "started at 2026-05-04 05:00 UTC and has not finished" in Alert.objects.get().summary


def test_a_new_heartbeat_does_not_alert_before_its_first_ping(heartbeat):
    with time_machine.travel(T0 + timedelta(days=30), tick=False):
        assert work() == 0
    assert refreshed(heartbeat).status == Heartbeat.Status.NEW and not Alert.objects.exists()


def test_pause_resolves_the_alert_and_a_success_ping_resumes(heartbeat, personas):
    from vigil.heartbeats.actions import do_pause_heartbeat

    client = Client()
    with time_machine.travel(T0, tick=False):
        client.get(f"/ping/{heartbeat.uuid}/fail")
        work()
        do_pause_heartbeat(heartbeat, actor=personas.admin)
        work()
    assert Alert.objects.get().status == "resolved"
    assert refreshed(heartbeat).status == Heartbeat.Status.PAUSED and heartbeat.alert_after is None
    with time_machine.travel(T0 + timedelta(days=5), tick=False):
        assert work() == 0
        client.get(f"/ping/{heartbeat.uuid}")
    assert refreshed(heartbeat).status == Heartbeat.Status.UP


def test_alerts_go_through_the_pipeline_so_maintenance_windows_apply(heartbeat, personas):
    from vigil.alerts.models import MaintenanceWindow

    MaintenanceWindow.objects.create(service=personas.service, starts_at=T0 - timedelta(hours=1),
                                     ends_at=T0 + timedelta(hours=1), reason="migration")
    with time_machine.travel(T0, tick=False):
        Client().get(f"/ping/{heartbeat.uuid}/fail")
        work()
    alert = Alert.objects.get()
    assert alert.suppressed_by.startswith("maintenance:") and alert.incident is None
    assert alert.integration.name == "Heartbeats"


def test_only_the_newest_pings_are_kept(heartbeat):
    from vigil.heartbeats.models import PINGS_KEPT

    client = Client()
    for _ in range(PINGS_KEPT + 5):
        client.get(f"/ping/{heartbeat.uuid}/log")
    assert heartbeat.pings.count() == PINGS_KEPT
    assert min(heartbeat.pings.values_list("n", flat=True)) == 6
