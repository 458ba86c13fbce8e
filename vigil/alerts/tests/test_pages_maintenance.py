"""Maintenance windows in the web UI: plan, list (now, upcoming, past), delete; roles and the
team boundary."""

from datetime import timedelta

import pytest
from django.utils import timezone

from vigil.alerts.actions import do_create_integration, do_create_maintenance_window
from vigil.alerts.formats import AlertEvent
from vigil.alerts.ingest import ingest
from vigil.alerts.models import Alert, MaintenanceWindow
from vigil.incidents.models import Incident

URL = "/services/acme-shop/maintenance/"


def at(delta):
    return (timezone.now() + delta).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def window(personas):
    now = timezone.now()
    return do_create_maintenance_window(personas.service, actor=personas.responder, reason="Kernel upgrade",
                                        starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, hours=2))


def test_a_responder_plans_a_window_and_alerts_during_it_page_no_one(personas, client):
    client.force_login(personas.responder)
    r = client.post(URL, {"starts_at": at(timedelta(minutes=-1)), "ends_at": at(timedelta(hours=1)),
                          "reason": "Database failover drill"})
    assert r.status_code == 302 and r["Location"] == URL
    window = MaintenanceWindow.objects.get()
    assert window.reason == "Database failover drill" and window.created_by == personas.responder
    now_part = client.get(URL).content.decode().split("<h2>Upcoming</h2>")[0]
    assert "Database failover drill" in now_part

    integration, _ = do_create_integration(personas.service, actor=personas.admin, kind="generic")
    ingest(integration, [AlertEvent(dedup_key="d", status="firing", action="trigger", summary="Replica lag",
                                    severity="sev1", source="db2")])
    assert Alert.objects.get().suppressed_by == f"maintenance:{window.pk}"
    assert not Incident.objects.exists()


def test_it_lists_upcoming_and_past_windows_apart(personas, client, window):
    now = timezone.now()
    MaintenanceWindow.objects.create(service=personas.service, starts_at=now - timedelta(days=2),
                                     ends_at=now - timedelta(days=2) + timedelta(hours=1), reason="Last week's move")
    client.force_login(personas.viewer)
    html = client.get(URL).content.decode()
    upcoming, past = html.split("<h2>Upcoming</h2>")[1].split("<h2>Past</h2>")
    assert "Kernel upgrade" in upcoming and "Last week's move" not in upcoming
    assert "Last week&#x27;s move" in past
    assert "No maintenance under way." in html


def test_an_end_before_the_start_is_refused(personas, client):
    client.force_login(personas.responder)
    r = client.post(URL, {"starts_at": at(timedelta(hours=3)), "ends_at": at(timedelta(hours=2))})
    assert r.status_code == 200
    assert r.context["form"].errors["ends_at"] == ["The end must come after the start."]
    assert not MaintenanceWindow.objects.exists()


def test_a_responder_deletes_a_window(personas, client, window):
    client.force_login(personas.responder)
    r = client.post(f"/maintenance-windows/{window.pk}/delete/")
    assert r.status_code == 302 and r["Location"] == URL
    assert not MaintenanceWindow.objects.exists()


def test_a_viewer_sees_windows_but_cannot_plan_or_delete(personas, client, window):
    client.force_login(personas.viewer)
    html = client.get(URL).content.decode()
    assert "Kernel upgrade" in html
    assert "Plan a window" not in html and f"/maintenance-windows/{window.pk}/delete/" not in html
    assert client.post(URL, {"starts_at": at(timedelta(0)), "ends_at": at(timedelta(hours=1))}).status_code == 403
    assert client.post(f"/maintenance-windows/{window.pk}/delete/").status_code == 403
    assert MaintenanceWindow.objects.count() == 1


def test_another_team_gets_404(personas, client, window):
    client.force_login(personas.outsider)
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"starts_at": at(timedelta(0)), "ends_at": at(timedelta(hours=1))}).status_code == 404
    assert client.post(f"/maintenance-windows/{window.pk}/delete/").status_code == 404
    assert MaintenanceWindow.objects.count() == 1
