import pytest

from vigil.incidents.actions import do_acknowledge_incident, do_create_incident, do_resolve_incident


def open_incident(service, actor, title="Checkout returns 502", severity="sev2"):
    return do_create_incident(service, actor=actor, title=title, severity=severity)


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_it_requires_login(personas, client):
    r = client.get("/")
    assert r.status_code == 302
    assert r["Location"].startswith("/login/")


def test_it_lists_the_teams_incidents_and_hides_other_teams_incidents(personas, client_as):
    open_incident(personas.service, personas.responder, title="Shop checkout down")
    open_incident(personas.other_service, personas.outsider, title="Globex secret outage")
    html = client_as(personas.viewer).get("/").content.decode()
    assert "Shop checkout down" in html
    assert "Globex secret outage" not in html


def test_it_shows_site_admins_every_team(personas, client_as):
    open_incident(personas.service, personas.responder, title="Shop checkout down")
    open_incident(personas.other_service, personas.outsider, title="Globex outage")
    html = client_as(personas.site_admin).get("/").content.decode()
    assert "Shop checkout down" in html and "Globex outage" in html


def test_it_filters_by_status(personas, client_as):
    acked = open_incident(personas.service, personas.responder, title="Acked one")
    do_acknowledge_incident(acked, actor=personas.responder)
    resolved = open_incident(personas.service, personas.responder, title="Resolved one")
    do_resolve_incident(resolved, actor=personas.responder)
    open_incident(personas.service, personas.responder, title="Triggered one")
    client = client_as(personas.responder)

    html = client.get("/", {"status": "acknowledged"}).content.decode()
    assert "Acked one" in html and "Resolved one" not in html and "Triggered one" not in html

    html = client.get("/", {"status": "open"}).content.decode()
    assert "Acked one" in html and "Triggered one" in html and "Resolved one" not in html


def test_it_filters_by_severity_and_service(personas, client_as):
    second = personas.service.team.services.create(name="Acme Blog", slug="acme-blog")
    open_incident(personas.service, personas.responder, title="Shop sev1", severity="sev1")
    open_incident(personas.service, personas.responder, title="Shop sev4", severity="sev4")
    open_incident(second, personas.responder, title="Blog sev1", severity="sev1")
    client = client_as(personas.responder)

    html = client.get("/", {"severity": "sev1"}).content.decode()
    assert "Shop sev1" in html and "Blog sev1" in html and "Shop sev4" not in html

    html = client.get("/", {"service": second.pk, "severity": "sev1"}).content.decode()
    assert "Blog sev1" in html and "Shop sev1" not in html


def test_it_ignores_a_filter_naming_another_teams_service(personas, client_as):
    open_incident(personas.other_service, personas.outsider, title="Globex outage")
    open_incident(personas.service, personas.responder, title="Shop outage")
    r = client_as(personas.responder).get("/", {"service": personas.other_service.pk, "severity": "nonsense"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "Globex outage" not in html
    assert "Shop outage" in html


def test_a_bad_filter_value_does_not_drop_the_good_ones(personas, client_as):
    open_incident(personas.service, personas.responder, title="Sev1 one", severity="sev1")
    open_incident(personas.service, personas.responder, title="Sev4 one", severity="sev4")
    html = client_as(personas.responder).get("/", {"severity": "sev1", "service": "999999"}).content.decode()
    assert "Sev1 one" in html and "Sev4 one" not in html


def test_it_answers_htmx_polls_with_only_the_table(personas, client_as):
    open_incident(personas.service, personas.responder, title="Shop checkout down")
    r = client_as(personas.responder).get("/", {"status": "open"}, headers={"HX-Request": "true"})
    html = r.content.decode()
    assert "Shop checkout down" in html
    assert "<html" not in html and "topbar" not in html
    assert "HX-Request" in r["Vary"]


def test_the_full_page_polls_its_own_url_every_few_seconds(personas, client_as):
    html = client_as(personas.responder).get("/", {"status": "open"}).content.decode()
    assert 'hx-get="/?status=open"' in html
    assert 'hx-trigger="every 5s"' in html


def test_it_pages_by_fifty(personas, client_as):
    for n in range(51):
        open_incident(personas.service, personas.responder, title=f"Incident number {n:02}")
    client = client_as(personas.responder)
    first = client.get("/").content.decode()
    assert "Incident number 50" in first and "Incident number 00" not in first
    assert "Page 1 of 2" in first
    second = client.get("/", {"page": 2}).content.decode()
    assert "Incident number 00" in second and "Incident number 50" not in second


def test_it_escapes_titles(personas, client_as):
    open_incident(personas.service, personas.responder, title="<script>alert(1)</script>")
    html = client_as(personas.responder).get("/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
