"""The public page, feeds, private pages, the team's pages, the API, and the cache in front of Django."""

import io
import json
import xml.etree.ElementTree as ET
from datetime import timedelta
from wsgiref.util import setup_testing_defaults

import pytest
import time_machine
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone

from vigil.alerts.formats import generic
from vigil.alerts.ingest import ingest
from vigil.alerts.models import Integration
from vigil.incidents import actions
from vigil.statuspage import cache, services
from vigil.statuspage.documents import PageState
from vigil.statuspage.models import ComponentStatusChange, PublicUpdate, StatusPage

EVIL = '<script>alert("x")</script><b>bold</b> & co'
ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_page_shows_components_incidents_and_escapes_what_was_typed(client, page, personas, open_incident):
    incident = open_incident("sev1", title=EVIL)
    services.post_public_update(incident, page=page, status="investigating", body=EVIL)
    response = client.get("/status/acme/")
    html = response.content.decode()
    assert response.status_code == 200 and response["Cache-Control"] == "public, no-cache" and response["ETag"]
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    assert 'data-indicator="critical"' in html and "Major Service Outage" in html
    assert 'data-status="major_outage"' in html
    assert "Acme Ltd." in html  # the footer
    assert "Content-Security-Policy" in response and "<script" not in html
    # An ETag answered with 304.
    etag = client.get("/status/acme/api/v2/status.json")["ETag"]
    assert client.get("/status/acme/api/v2/status.json", headers={"If-None-Match": etag}).status_code == 304


def test_the_feeds_are_valid_xml_list_the_update_and_keep_html_as_text(client, page, personas, open_incident):
    incident = open_incident("sev2", title=EVIL)
    services.post_public_update(incident, page=page, status="identified", body=EVIL)
    atom = client.get("/status/acme/history.atom")
    assert atom.status_code == 200 and atom["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(atom.content)
    assert root.tag == f"{ATOM}feed" and root.find(f"{ATOM}title").text == "Acme status history"
    [entry] = root.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == f"{EVIL}: identified"
    assert entry.find(f"{ATOM}summary").text == EVIL  # markup in the text arrives as text, not elements
    assert entry.find(f"{ATOM}link").get("href").endswith(f"/status/acme/incidents/inc_{incident.public_incidents.get().pk}#"
                                                         + PublicUpdate.objects.get().code)
    rss = ET.fromstring(client.get("/status/acme/history.rss").content)
    [item] = rss.findall("channel/item")
    assert item.find("title").text == f"{EVIL}: identified" and item.find("description").text == EVIL


def test_the_90_day_bar_shows_the_worst_status_of_each_day_and_the_uptime(client, page, personas, open_incident):
    start = timezone.now().replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=3)
    type(page.website).objects.filter(pk=page.website.pk).update(created_at=start - timedelta(days=10))
    with time_machine.travel(start, tick=False):
        incident = open_incident("sev1", title="Checkout down")
        services.post_public_update(incident, page=page, status="investigating")
    with time_machine.travel(start + timedelta(hours=6), tick=False):  # six hours of major outage
        actions.do_resolve_incident(incident, actor=personas.responder)
        services.post_public_update(incident, page=page, status="resolved")
    assert list(ComponentStatusChange.objects.filter(component=page.website).values_list("status", flat=True)) == [
        "major_outage", "operational"]
    html = client.get("/status/acme/").content.decode()
    day = start.date().isoformat()
    assert f'data-date="{day}" data-status="major_outage"' in html
    assert "Major outage, 75.00 % up · Checkout down" in html  # 18 of 24 hours up, and the hover names the incident
    assert f'data-date="{(start + timedelta(days=1)).date().isoformat()}" data-status="operational"' in html
    assert 'data-status=""' in html  # before the component existed: no data
    [row] = [r for r in PageState(page).history() if r["component"].name == "Website"]
    known_hours = (timezone.now() - (start - timedelta(days=10))).total_seconds() / 3600
    assert row["uptime"] == pytest.approx(100 * (1 - 6 / known_hours), abs=0.01)


def test_a_maintenance_silences_the_alerts_of_its_services_during_the_window(page, personas):
    now = timezone.now()
    services.schedule_maintenance(page, name="Upgrade", components=[page.website],
                                  scheduled_for=now - timedelta(minutes=1), scheduled_until=now + timedelta(hours=1))
    integration = Integration(service=personas.service, kind="generic", name="t")
    integration.new_key()
    integration.save()
    ingest(integration, generic.parse({"summary": "5xx", "severity": "critical", "dedup_key": "a"}))
    alert = personas.service.alerts.get()
    assert alert.suppressed_by.startswith("maintenance:") and alert.incident is None
    page.website.refresh_from_db()
    assert page.website.status == "under_maintenance"


def test_a_private_page_needs_a_member_or_the_secret_link(client, page, personas):
    page.public = False
    raw = page.new_secret()
    page.save()
    assert client.get("/status/acme/").status_code == 404
    assert client.get("/status/acme/api/v2/summary.json").status_code == 404
    assert client.get("/status/acme/?key=wrong").status_code == 404
    response = client.get(f"/status/acme/?key={raw}")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-cache"
    assert client.get("/status/acme/api/v2/summary.json").status_code == 200  # remembered in the session
    client.logout()
    client.force_login(personas.viewer)
    assert client.get("/status/acme/history.atom").status_code == 200
    client.force_login(personas.outsider)
    assert client.get("/status/acme/").status_code == 404
    assert StatusPage.objects.get().secret_hash != raw


def test_a_responder_publishes_from_the_incident_page_and_a_viewer_cannot(client, page, personas, open_incident):
    incident = open_incident("sev1")
    client.force_login(personas.responder)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'id="public-update-form"' in html and "Customers have not been told" in html
    response = client.post(f"/incidents/{incident.pk}/public-updates/",
                           {"page": page.pk, "status": "investigating", "body": "", "name": "Checkout problems"})
    assert response.status_code == 302
    public = incident.public_incidents.get()
    assert public.name == "Checkout problems"
    assert public.updates.get().body == "We are investigating reports of problems with Website. More news soon."
    assert "Checkout problems" in client.get(f"/incidents/{incident.pk}/").content.decode()
    client.force_login(personas.viewer)
    assert 'id="public-update-form"' not in client.get(f"/incidents/{incident.pk}/").content.decode()
    assert client.post(f"/incidents/{incident.pk}/public-updates/", {"page": page.pk, "status": "resolved"}).status_code == 403
    assert public.updates.count() == 1


def test_the_team_pages_make_a_page_and_its_components(client, personas):
    client.force_login(personas.admin)
    bad = client.post("/status-pages/new/", {"team": personas.team.pk, "name": "Acme", "slug": "acme-status",
                                             "accent_colour": "red", "time_zone": "Mars/Olympus"})
    assert bad.status_code == 200 and b"Not a time zone name" in bad.content and b"#rrggbb" in bad.content
    assert not StatusPage.objects.exists()
    response = client.post("/status-pages/new/", {"team": personas.team.pk, "name": "Acme", "slug": "acme-status",
                                                  "public": "on", "accent_colour": "#112233", "time_zone": "Etc/UTC"})
    assert response.status_code == 302, response.content
    response = client.post("/status-pages/acme-status/components/", {"name": "Shop", "service": personas.service.pk,
                                                                      "position": 1, "showcase": "on"})
    assert response.status_code == 302
    html = client.get("/status-pages/acme-status/").content.decode()
    assert "follows Acme Shop" in html
    assert client.get("/status/acme-status/theme.css").content == b":root { --accent: #112233; }\n"
    client.force_login(personas.responder)
    assert client.get("/status-pages/acme-status/edit/").status_code == 403
    client.force_login(personas.outsider)
    assert client.get("/status-pages/acme-status/").status_code == 404


def test_the_api_makes_pages_and_publishes_updates(api, personas, open_incident):
    admin = api(personas.admin)
    response = admin.post("/api/v1/status-pages", {"slug": "acme", "name": "Acme", "public": True, "components": [
        {"name": "Shop", "service_id": personas.service.pk, "group": "Customer facing"}, {"name": "Docs"}]})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["url"] == "http://127.0.0.1:8000/status/acme/" and body["team_id"] == personas.team.pk
    assert [(c["name"], c["group"], c["is_group"]) for c in body["components"]] == [
        ("Customer facing", None, True), ("Shop", "Customer facing", False), ("Docs", None, False)]
    assert admin.get("/api/v1/status-pages").json()["count"] == 1
    # Bad input: the field named, nothing made.
    bad = admin.post("/api/v1/status-pages", {"slug": "x", "name": "X", "components": [{"name": "A", "service_id": personas.other_service.pk}]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "components.0.service_id"
    assert admin.post("/api/v1/status-pages", {"slug": "acme", "name": "Again"}).json()["detail"][0]["field"] == "slug"
    assert StatusPage.objects.count() == 1

    incident = open_incident("sev1")
    responder = api(personas.responder)
    url = f"/api/v1/incidents/{incident.pk}/public-updates"
    response = responder.post(url, {"status_page_id": body["id"], "status": "investigating", "body": "On it"})
    assert response.status_code == 201 and response.json()["affected_components"][0]["new_status"] == "major_outage"
    assert responder.post(url, {"status_page_id": body["id"], "status": "postmortem"}).status_code == 409
    assert responder.post(url, {"status_page_id": body["id"], "status": "fixed"}).status_code == 422
    assert api(personas.viewer).post(url, {"status_page_id": body["id"], "status": "resolved"}).status_code == 403
    assert api(personas.outsider).post(url, {"status_page_id": body["id"], "status": "resolved"}).status_code == 404
    assert api().get("/api/v1/status-pages").status_code == 401
    docs = next(c for c in body["components"] if c["name"] == "Docs")
    response = responder.patch(f"/api/v1/status-pages/{body['id']}/components/{docs['id']}", {"status_override": "partial_outage"})
    assert response.status_code == 200 and response.json()["status"] == "partial_outage"


class Wsgi:
    """Requests through vigil.wsgi's stack: the cache in front of Django."""

    def __init__(self):
        self.app = cache.PublicCache(get_wsgi_application())
        self.calls = 0
        inner = self.app.app

        def counting(environ, start_response):
            self.calls += 1
            return inner(environ, start_response)

        self.app.app = counting

    def get(self, path, **headers):
        environ = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "QUERY_STRING": "", "wsgi.input": io.BytesIO()}
        environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
        setup_testing_defaults(environ)
        got = {}

        def start_response(status, headers, exc_info=None):
            got["status"], got["headers"] = int(status.split()[0]), dict(headers)

        # As Django's test client does: the test's database connection must outlive the request.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            body = b"".join(self.app(environ, start_response))
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return got["status"], got["headers"], body


def test_the_cache_in_front_serves_kept_bytes_until_the_page_changes(page, personas, open_incident, monkeypatch, settings):
    monkeypatch.setattr(cache, "TTL", 0)
    w = Wsgi()
    status, headers, first = w.get("/status/acme/api/v2/summary.json")
    assert status == 200 and w.calls == 1 and "X-Vigil-Cache" not in headers
    assert headers["Access-Control-Allow-Origin"] == "*" and headers["Content-Security-Policy"]
    assert w.get("/status/acme/api/v2/summary.json")[2] == first and w.calls == 1
    assert w.get("/status/acme/api/v2/summary.json", if_none_match=headers["ETag"])[0] == 304 and w.calls == 1
    services.post_public_update(open_incident("sev1"), page=page, status="investigating", body="fresh")
    status, headers2, second = w.get("/status/acme/api/v2/summary.json")
    assert w.calls == 2 and b"fresh" in second and headers2["ETag"] != headers["ETag"]
    # Private pages and query strings are not kept.
    StatusPage.objects.filter(pk=page.pk).update(public=False)
    assert w.get("/status/acme/api/v2/summary.json")[0] == 404 and w.calls == 3
    # A custom domain serves the page at its root (once it is an allowed host: VIGIL_ALLOWED_HOSTS).
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "status.acme.test"]
    StatusPage.objects.filter(pk=page.pk).update(public=True, custom_domain="status.acme.test")
    cache.forget("acme")
    status, _, body = w.get("/api/v2/status.json", host="status.acme.test")
    assert status == 200 and json.loads(body)["page"]["url"] == "https://status.acme.test"
