"""Severity and impact: severity changes, affected services and components, customer impact, start of impact."""

from datetime import timedelta

import pytest
from django.utils import timezone

from vigil.catalog.models import Service
from vigil.incidents import actions
from vigil.incidents.models import Incident


@pytest.fixture
def incident(personas):
    return actions.do_create_incident(personas.service, actor=personas.responder, title="Checkout returns 502", severity="sev3")


def updates(incident):
    return list(incident.timeline.filter(kind="updated").values_list("body", flat=True))


def test_a_severity_change_is_on_the_timeline(personas, api, incident):
    r = api(personas.responder).patch(f"/api/v1/incidents/{incident.pk}", {"severity": "sev1"})
    assert r.status_code == 200 and r.json()["severity"] == "sev1"
    assert updates(incident) == ["severity: sev3 → sev1"]


def test_impact_started_before_the_alert_and_what_is_affected(personas, api, incident):
    search = Service.objects.create(team=personas.team, name="Acme Search", slug="acme-search")
    started = incident.created_at - timedelta(minutes=45)
    r = api(personas.responder).patch(f"/api/v1/incidents/{incident.pk}", {
        "impact": "Customers cannot pay; carts are kept.", "impact_started_at": started.isoformat(),
        "affected_service_ids": [personas.service.pk, search.pk],
        "affected_components": ["checkout API", "payments worker", "checkout API"],
    })
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["impact"] == "Customers cannot pay; carts are kept."
    assert body["impact_started_at"].startswith(started.strftime("%Y-%m-%dT%H:%M:%S"))
    assert sorted(body["affected_service_ids"]) == sorted([personas.service.pk, search.pk])
    assert body["affected_components"] == ["checkout API", "payments worker"]
    [entry] = incident.timeline.filter(kind="updated")
    assert "affected services: Acme Search, Acme Shop" in entry.body
    assert "affected components: checkout API, payments worker" in entry.body
    assert "impact edited" in entry.body and "Customers cannot pay" not in entry.body
    assert "impact started at: not set →" in entry.body
    again = api(personas.responder).get(f"/api/v1/incidents/{incident.pk}").json()
    assert again["affected_components"] == ["checkout API", "payments worker"]


def test_the_same_values_again_add_no_entry(personas, api, incident):
    client = api(personas.responder)
    client.patch(f"/api/v1/incidents/{incident.pk}", {"impact": "Slow pages", "affected_service_ids": [personas.service.pk]})
    client.patch(f"/api/v1/incidents/{incident.pk}", {"impact": "Slow pages", "affected_service_ids": [personas.service.pk]})
    assert len(updates(incident)) == 1
    assert updates(incident) == ["impact edited; affected services: Acme Shop"]


@pytest.mark.parametrize("patch, field", [
    ({"impact_started_at": "2999-01-01T00:00:00Z"}, "impact_started_at"),
    ({"impact_started_at": "2026-01-01T00:00:00"}, "impact_started_at"),
    ({"impact_started_at": "yesterday"}, "impact_started_at"),
    ({"affected_components": [""]}, "affected_components.0"),
    ({"affected_components": None}, "affected_components"),
    ({"impact": None}, "impact"),
])
def test_bad_impact_input_names_the_field_and_changes_nothing(personas, api, incident, patch, field):
    r = api(personas.responder).patch(f"/api/v1/incidents/{incident.pk}", {"impact": "kept?", **patch})
    assert r.status_code == 422, r.content
    assert r.json()["detail"][0]["field"] == field
    assert Incident.objects.get(pk=incident.pk).impact == ""


def test_affected_services_must_be_of_the_incidents_team(personas, api, incident):
    r = api(personas.responder).patch(f"/api/v1/incidents/{incident.pk}", {"affected_service_ids": [personas.other_service.pk]})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "affected_service_ids"
    assert not incident.affected_services.exists()


def test_impact_start_is_in_the_incident_page(personas, client, incident):
    actions.do_update_incident(incident, actor=personas.responder, impact="<b>Carts</b> lost",
                               impact_started_at=timezone.now() - timedelta(hours=1))
    client.force_login(personas.viewer)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "&lt;b&gt;Carts&lt;/b&gt; lost" in html and "<b>Carts" not in html
