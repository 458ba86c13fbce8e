"""The SLA on the incident page (in the part htmx refreshes) and the service's SLA page."""

from vigil.incidents import actions
from vigil.sla.models import SlaPolicy

from .conftest import at


def test_the_incident_page_shows_both_clocks_and_refreshes_them(personas, sla, client):
    with at(0):
        incident = actions.do_create_incident(personas.service, actor=None, title="Down", severity="sev1")
    client.force_login(personas.viewer)
    with at(120):
        page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'id="sla-title"' in page
    ack = page.split('id="sla-ack"')[1].split("</li>")[0]
    assert '<span class="elapsed">2 min</span> / <span class="target">8 min</span>' in ack
    assert '<progress value="120" max="480">' in ack and "Running" in ack
    resolve = page.split('id="sla-resolve"')[1].split("</li>")[0]
    assert '<span class="target">1 h</span>' in resolve
    with at(600):
        live = client.get(f"/incidents/{incident.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in live
    ack = live.split('id="sla-ack"')[1].split("</li>")[0]
    assert 'class="clock breached"' in live and "Breached" in ack and '<progress value="480" max="480">' in ack


def test_no_sla_no_clocks(personas, client):
    incident = actions.do_create_incident(personas.service, actor=None, title="Down", severity="sev1")
    client.force_login(personas.viewer)
    assert 'id="sla-title"' not in client.get(f"/incidents/{incident.pk}/").content.decode()


def test_the_service_page_lists_the_targets(personas, sla, client):
    client.force_login(personas.viewer)
    page = client.get("/services/acme-shop/").content.decode()
    assert "SLA and hours" in page and "SEV1</span></td><td>8 min</td><td>1 h</td>" in page
    assert "Counted 24x7" in page and "75%" in page


def test_an_admin_edits_the_sla_in_a_form(personas, client):
    client.force_login(personas.admin)
    assert client.get("/services/acme-shop/sla/").status_code == 200
    response = client.post("/services/acme-shop/sla/", {
        "business_hours_only": "on", "time_zone": "Europe/Paris", "weekdays": ["0", "1", "2", "3", "4"],
        "day_start": "08:00", "day_end": "18:00", "escalate_percent": "80", "sev1_ack": "15", "sev1_resolve": "240",
    })
    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert policy.targets == {"sev1": {"ack_seconds": 900, "resolve_seconds": 14400}}
    assert policy.business_hours_only and policy.escalate_fraction == 0.8 and policy.time_zone == "Europe/Paris"
    bad = client.post("/services/acme-shop/sla/", {"time_zone": "Nowhere/Land", "day_start": "18:00", "day_end": "08:00",
                                                    "escalate_percent": "75"})
    assert bad.status_code == 200 and "Unknown time zone" in bad.content.decode()
    assert SlaPolicy.objects.get().time_zone == "Europe/Paris"
    response = client.post("/services/acme-shop/sla/", {
        "business_hours_only": "on", "time_zone": "Europe/Paris", "weekdays": ["0", "1", "2", "3", "4"],
        "day_start": "08:00", "day_end": "18:00", "escalate_percent": "80", "sev1_ack": "15", "sev1_resolve": "240",
        "holidays_of": "FR", "closed_days": "2026-12-31\n2026-12-24\n"})
    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert (policy.holidays_of, policy.closed_days) == ("FR", ["2026-12-24", "2026-12-31"])
    page = client.get("/services/acme-shop/sla/").content.decode()
    assert "2026-12-24\n2026-12-31" in page
    bad = client.post("/services/acme-shop/sla/", {
        "time_zone": "Europe/Paris", "day_start": "08:00", "day_end": "18:00", "escalate_percent": "75",
        "holidays_of": "XX", "closed_days": "next friday"})
    assert bad.status_code == 200
    assert set(bad.context["form"].errors) >= {"holidays_of", "closed_days"}
    assert SlaPolicy.objects.get().holidays_of == "FR"


def test_only_admins_change_the_sla(personas, client):
    client.force_login(personas.responder)
    assert client.get("/services/acme-shop/sla/").status_code == 200
    assert client.post("/services/acme-shop/sla/", {"time_zone": "UTC"}).status_code == 403
    client.force_login(personas.outsider)
    assert client.get("/services/acme-shop/sla/").status_code == 404
    assert not SlaPolicy.objects.exists()
