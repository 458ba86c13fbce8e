from vigil.catalog.models import Service
from vigil.incidents.models import Incident, TimelineEntry


def test_a_responder_opens_an_incident(personas, client):
    client.force_login(personas.responder)
    r = client.post("/incidents/new/", {
        "service": personas.service.pk, "title": "Checkout returns 502", "severity": "sev1",
        "description": "since 02:58", "is_drill": "on",
    })
    incident = Incident.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/incidents/{incident.pk}/"
    assert (incident.title, incident.severity, incident.description, incident.is_drill) == (
        "Checkout returns 502", "sev1", "since 02:58", True)
    assert incident.service == personas.service and incident.created_by == personas.responder
    assert TimelineEntry.objects.filter(incident=incident, kind="created").count() == 1


def test_it_offers_only_services_where_the_user_responds(personas, client):
    client.force_login(personas.responder)
    html = client.get("/incidents/new/").content.decode()
    assert "Acme Shop" in html and "Globex API" not in html


def test_a_viewer_gets_no_service_to_choose_and_cannot_post(personas, client):
    client.force_login(personas.viewer)
    assert "Acme Shop" not in client.get("/incidents/new/").content.decode()
    r = client.post("/incidents/new/", {"service": personas.service.pk, "title": "x", "severity": "sev3"})
    assert r.status_code == 200  # the form again, with the service refused
    assert not Incident.objects.exists()


def test_it_refuses_another_teams_service(personas, client):
    client.force_login(personas.responder)
    r = client.post("/incidents/new/", {"service": personas.other_service.pk, "title": "x", "severity": "sev3"})
    assert r.status_code == 200
    assert "Select a valid choice" in r.content.decode()
    assert not Incident.objects.exists()


def test_it_names_the_missing_title(personas, client):
    client.force_login(personas.responder)
    r = client.post("/incidents/new/", {"service": personas.service.pk, "title": "", "severity": "sev3"})
    assert "This field is required." in r.content.decode()
    assert not Incident.objects.exists()


def test_it_preselects_the_service_from_the_link(personas, client):
    second = Service.objects.create(team=personas.team, name="Acme Blog", slug="acme-blog")
    client.force_login(personas.responder)
    html = client.get("/incidents/new/", {"service": second.pk}).content.decode()
    assert f'<option value="{second.pk}" selected>' in html
