"""Alerts in the web UI: a service's alert list (filters, pages, htmx refresh), the incident's
alerts on its page, the silenced/maintenance state, and everything a sender wrote kept as text."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from vigil.alerts.actions import do_create_integration, do_create_maintenance_window, do_create_silence
from vigil.alerts.formats import AlertEvent
from vigil.alerts.ingest import ingest
from vigil.alerts.models import Alert, ChangeEvent
from vigil.incidents.models import Incident

FIXTURES = Path(__file__).parent / "fixtures"
EVIL = "<script>alert(1)</script>"


@pytest.fixture
def integration(personas):
    integration, key = do_create_integration(personas.service, actor=personas.admin, kind="alertmanager")
    integration.raw_key = key
    return integration


def event(dedup_key, summary="Disk 95% full on db1", status="firing", **fields):
    return AlertEvent(dedup_key=dedup_key, status=status, action="trigger" if status == "firing" else "resolve",
                      summary=summary, severity=fields.pop("severity", "sev2"), source="db1", **fields)


def post_fixture(integration, name):
    body = (FIXTURES / "alertmanager" / name).read_text()
    r = Client().post(f"/hooks/alertmanager/{integration.raw_key}", body, content_type="application/json")
    assert r.status_code == 200, r.content


def test_the_incident_page_lists_its_alerts(personas, client, integration):
    post_fixture(integration, "alertmanager-0.25-webhook-group-of-three.json")
    incident = Incident.objects.get()
    alerts = list(incident.alerts.all())
    assert len(alerts) == 3
    client.force_login(personas.viewer)
    html = client.get(incident.get_absolute_url()).content.decode()
    section = html.split('id="incident-alerts"')[1].split("Timeline")[0]
    for alert in alerts:
        assert alert.summary in section
    assert section.count('<tr class="alert-firing">') == 3
    assert '<span class="chip-name">alertname</span>=<span class="chip-value">' in section
    assert "Firing" in section and "1×" in section


def test_the_incident_pages_refresh_brings_the_alerts_too(personas, client, integration):
    post_fixture(integration, "alertmanager-0.25-webhook-firing.json")
    incident = Incident.objects.get()
    client.force_login(personas.viewer)
    html = client.get(incident.get_absolute_url(), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in html and "Disk 95% full on db1" in html and 'id="incident-alerts"' in html


def test_an_incident_without_alerts_has_no_alerts_section(personas, client):
    from vigil.incidents.actions import do_create_incident

    incident = do_create_incident(personas.service, actor=personas.responder, title="By hand", severity="sev3")
    client.force_login(personas.viewer)
    assert 'id="incident-alerts"' not in client.get(incident.get_absolute_url()).content.decode()


def test_the_incident_page_shows_a_resolved_alert_as_resolved(personas, client, integration):
    post_fixture(integration, "alertmanager-0.25-webhook-firing.json")
    post_fixture(integration, "alertmanager-0.25-webhook-resolved.json")
    incident = Incident.objects.get()
    client.force_login(personas.viewer)
    html = client.get(incident.get_absolute_url()).content.decode()
    assert '<tr class="alert-resolved">' in html and "alert-firing" not in html


def test_what_a_sender_writes_stays_text(personas, client, integration):
    ingest(integration, [event("evil", summary=EVIL, labels={"team": EVIL, EVIL: "x"},
                               links=[{"href": "https://runbooks.example/disk", "text": EVIL}])])
    incident = Incident.objects.get()
    client.force_login(personas.viewer)
    for path in [incident.get_absolute_url(), "/services/acme-shop/alerts/", "/services/acme-shop/"]:
        html = client.get(path).content.decode()
        assert EVIL not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path


def test_links_open_without_referrer_and_only_over_http(personas, client, integration):
    ingest(integration, [event("linked", links=[{"href": "https://runbooks.example/disk", "text": "runbook"}])])
    # The parsers let only http(s) through; one that got into the database anyway is not a link.
    Alert.objects.create(service=personas.service, dedup_key="planted", summary="Planted", first_seen=timezone.now(),
                         last_seen=timezone.now(), started_at=timezone.now(),
                         links=[{"href": "javascript:alert(1)", "text": "click"}])
    client.force_login(personas.viewer)
    html = client.get("/services/acme-shop/alerts/").content.decode()
    assert '<a href="https://runbooks.example/disk" rel="noopener noreferrer" target="_blank">runbook</a>' in html
    assert "javascript:" not in html


def test_a_label_named_items_does_not_break_the_page(personas, client, integration):
    ingest(integration, [event("items", labels={"items": "abc", "alertname": "Odd"})])
    client.force_login(personas.viewer)
    r = client.get(Incident.objects.get().get_absolute_url())
    assert r.status_code == 200
    assert '<span class="chip-name">items</span>=<span class="chip-value">abc</span>' in r.content.decode()


def test_the_service_alerts_list_filters_firing_and_resolved(personas, client, integration):
    ingest(integration, [event("a", summary="Still firing"), event("b", summary="Came and went")])
    ingest(integration, [event("b", summary="Came and went", status="resolved")])
    client.force_login(personas.viewer)
    everything = client.get("/services/acme-shop/alerts/").content.decode()
    assert "Still firing" in everything and "Came and went" in everything
    firing = client.get("/services/acme-shop/alerts/?status=firing").content.decode()
    assert "Still firing" in firing and "Came and went" not in firing
    resolved = client.get("/services/acme-shop/alerts/?status=resolved").content.decode()
    assert "Still firing" not in resolved and "Came and went" in resolved
    # A bad value is ignored, not an error.
    assert "Still firing" in client.get("/services/acme-shop/alerts/?status=bogus").content.decode()


def test_the_service_alerts_list_links_each_alert_to_its_incident(personas, client, integration):
    ingest(integration, [event("a")])
    incident = Incident.objects.get()
    client.force_login(personas.viewer)
    html = client.get("/services/acme-shop/alerts/").content.decode()
    assert f'<a href="{incident.get_absolute_url()}">#{incident.number}</a>' in html


def test_the_service_alerts_list_has_pages_of_fifty(personas, client, integration):
    ingest(integration, [event(f"k{i}", summary=f"Alert number {i}") for i in range(51)])
    client.force_login(personas.viewer)
    first = client.get("/services/acme-shop/alerts/").content.decode()
    assert first.count("<tr class=") == 50 and "Page 1 of 2 · 51 alerts" in first
    second = client.get("/services/acme-shop/alerts/?page=2").content.decode()
    assert second.count("<tr class=") == 1


def test_htmx_gets_only_the_list_and_the_answer_varies_on_it(personas, client, integration):
    ingest(integration, [event("a", summary="Live one")])
    client.force_login(personas.viewer)
    r = client.get("/services/acme-shop/alerts/?status=firing", headers={"HX-Request": "true"})
    html = r.content.decode()
    assert "<html" not in html and "Live one" in html
    assert "HX-Request" in r["Vary"]
    full = client.get("/services/acme-shop/alerts/?status=firing").content.decode()
    assert 'hx-get="/services/acme-shop/alerts/?status=firing" hx-trigger="every 5s"' in full


def test_another_team_gets_404(personas, client, integration):
    ingest(integration, [event("a")])
    client.force_login(personas.outsider)
    assert client.get("/services/acme-shop/alerts/").status_code == 404
    assert client.get(Incident.objects.get().get_absolute_url()).status_code == 404


def test_a_silenced_alert_says_which_silence(personas, client, integration):
    silence = do_create_silence(personas.service, actor=personas.responder, comment="disk swap tonight",
                                matchers=[{"name": "instance", "op": "=", "value": "db1:9100"}],
                                ends_at=timezone.now() + timedelta(hours=1))
    ingest(integration, [event("quiet", summary="Quiet one", labels={"instance": "db1:9100"})])
    assert Alert.objects.get().suppressed_by == f"silence:{silence.pk}"
    assert not Incident.objects.exists()
    client.force_login(personas.viewer)
    html = client.get("/services/acme-shop/alerts/").content.decode()
    assert f'<a href="/services/acme-shop/silences/#silence-{silence.pk}">silence #{silence.pk}</a>' in html
    assert '<tr class="alert-firing suppressed">' in html


def test_an_alert_during_maintenance_says_which_window(personas, client, integration):
    now = timezone.now()
    window = do_create_maintenance_window(personas.service, actor=personas.responder, starts_at=now - timedelta(minutes=1),
                                          ends_at=now + timedelta(hours=1), reason="Kernel upgrade")
    ingest(integration, [event("planned")])
    client.force_login(personas.viewer)
    html = client.get("/services/acme-shop/alerts/").content.decode()
    assert f'href="/services/acme-shop/maintenance/#window-{window.pk}">maintenance window #{window.pk}</a>' in html


def test_the_service_page_shows_recent_alerts_windows_and_changes(personas, client, integration):
    ingest(integration, [event("a", summary="Recent trouble")])
    now = timezone.now()
    do_create_maintenance_window(personas.service, actor=personas.responder, starts_at=now + timedelta(days=1),
                                 ends_at=now + timedelta(days=1, hours=1), reason="Database upgrade")
    ChangeEvent.objects.create(service=personas.service, summary="Deployed v2.3", source="ci", happened_at=now,
                               links=[{"href": "https://ci.example/build/7", "text": "build 7"}])
    client.force_login(personas.viewer)
    html = client.get("/services/acme-shop/").content.decode()
    assert "Recent trouble" in html and "/services/acme-shop/alerts/" in html
    assert "Database upgrade" in html and "/services/acme-shop/maintenance/" in html
    assert "Deployed v2.3" in html
    assert '<a href="https://ci.example/build/7" rel="noopener noreferrer" target="_blank">build 7</a>' in html
