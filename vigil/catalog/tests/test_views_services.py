from vigil.catalog.models import HostingProvider, Service
from vigil.incidents.actions import do_create_incident, do_resolve_incident


def test_it_lists_only_the_users_services(personas, client):
    client.force_login(personas.viewer)
    html = client.get("/services/").content.decode()
    assert "Acme Shop" in html and "Globex API" not in html


def test_it_shows_a_service_with_open_and_recent_incidents_and_the_provider(personas, client):
    provider = HostingProvider.objects.create(name="Hetzner", support_email="support@hetzner.test",
                                              support_phone="+49 9831 505-0", support_url="https://hetzner.test/support")
    Service.objects.filter(pk=personas.service.pk).update(hosting_provider=provider, monthly_approved_hours=12)
    do_create_incident(personas.service, actor=personas.responder, title="Still burning", severity="sev1")
    done = do_create_incident(personas.service, actor=personas.responder, title="Put out", severity="sev3")
    do_resolve_incident(done, actor=personas.responder)
    client.force_login(personas.viewer)
    html = client.get("/services/acme-shop/").content.decode()
    open_part, recent_part = html.split("Recently resolved")
    assert "Still burning" in open_part and "Put out" not in open_part
    assert "Put out" in recent_part
    assert "support@hetzner.test" in html and "+49 9831 505-0" in html and "https://hetzner.test/support" in html
    assert "12.00 h / month" in html
    assert "/services/acme-shop/edit/" not in html  # viewers do not edit


def test_it_gives_outsiders_a_404(personas, client):
    client.force_login(personas.outsider)
    assert client.get("/services/acme-shop/").status_code == 404
    assert client.get("/services/acme-shop/edit/").status_code == 404


def test_a_team_admin_adds_a_service(personas, client):
    client.force_login(personas.admin)
    r = client.post("/services/new/", {
        "team": personas.team.pk, "name": "Acme Blog", "slug": "", "description": "WordPress",
        "hosting_provider": "Hetzner", "monthly_approved_hours": "4.5",
    })
    service = Service.objects.get(name="Acme Blog")
    assert r.status_code == 302 and r["Location"] == "/services/acme-blog/"
    assert (service.team, service.slug, service.description, service.hosting_provider.name, str(service.monthly_approved_hours)) == (
        personas.team, "acme-blog", "WordPress", "Hetzner", "4.50")


def test_a_responder_cannot_add_a_service(personas, client):
    client.force_login(personas.responder)
    assert client.get("/services/new/").status_code == 403
    r = client.post("/services/new/", {"team": personas.team.pk, "name": "Sneaky", "monthly_approved_hours": "0"})
    assert r.status_code == 403
    assert not Service.objects.filter(name="Sneaky").exists()


def test_an_admin_cannot_add_a_service_to_another_team(personas, client):
    client.force_login(personas.admin)
    r = client.post("/services/new/", {"team": personas.other_team.pk, "name": "Sneaky", "monthly_approved_hours": "0"})
    assert r.status_code == 200
    assert "Select a valid choice" in r.content.decode()
    assert not Service.objects.filter(name="Sneaky").exists()


def test_it_names_a_taken_slug_and_a_taken_name(personas, client):
    client.force_login(personas.admin)
    r = client.post("/services/new/", {
        "team": personas.team.pk, "name": "acme shop", "slug": "globex-api", "monthly_approved_hours": "0"})
    html = r.content.decode()
    assert "A service with this slug exists." in html
    assert "The team has a service with this name." in html
    assert Service.objects.count() == 2


def test_it_refuses_a_bad_or_reserved_slug(personas, client):
    client.force_login(personas.admin)
    for slug in ["Not A Slug", "new"]:
        r = client.post("/services/new/", {"team": personas.team.pk, "name": "Blog", "slug": slug, "monthly_approved_hours": "0"})
        assert r.status_code == 200
    assert not Service.objects.filter(name="Blog").exists()


def test_a_team_admin_edits_a_service(personas, client):
    client.force_login(personas.admin)
    r = client.post("/services/acme-shop/edit/", {
        "name": "Acme Shop", "slug": "acme-store", "description": "Magento", "hosting_provider": "",
        "monthly_approved_hours": "8", "escalation_policy": "",
    })
    assert r.status_code == 302 and r["Location"] == "/services/acme-store/"
    service = Service.objects.get(pk=personas.service.pk)
    assert (service.slug, service.description, service.monthly_approved_hours) == ("acme-store", "Magento", 8)


def test_editing_keeps_the_name_unique_in_the_team(personas, client):
    Service.objects.create(team=personas.team, name="Acme Blog", slug="acme-blog")
    client.force_login(personas.admin)
    r = client.post("/services/acme-shop/edit/", {"name": "ACME BLOG", "slug": "acme-shop", "monthly_approved_hours": "0"})
    assert "The team has a service with this name." in r.content.decode()
    assert Service.objects.get(pk=personas.service.pk).name == "Acme Shop"


def test_a_responder_cannot_edit_a_service(personas, client):
    client.force_login(personas.responder)
    r = client.post("/services/acme-shop/edit/", {"name": "Hacked", "slug": "acme-shop", "monthly_approved_hours": "0"})
    assert r.status_code == 403
    assert Service.objects.get(pk=personas.service.pk).name == "Acme Shop"


def test_it_escapes_the_service_name(personas, client):
    Service.objects.filter(pk=personas.service.pk).update(name="<script>alert(1)</script>")
    client.force_login(personas.viewer)
    for path in ["/services/", "/services/acme-shop/"]:
        html = client.get(path).content.decode()
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
