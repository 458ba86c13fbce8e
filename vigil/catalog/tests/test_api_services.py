from vigil.accounts.models import AuditEntry
from vigil.catalog.models import HostingProvider, Service
from vigil.incidents.actions import do_create_incident
from vigil.oncall.models import EscalationPolicy


def test_a_team_admin_creates_a_service(personas, api):
    policy = EscalationPolicy.objects.create(team=personas.team, name="Default")
    r = api(personas.admin).post("/api/v1/services", {
        "name": "Initech Billing", "team_id": personas.team.pk, "description": "invoices",
        "hosting_provider": "Hetzner", "escalation_policy_id": policy.pk, "monthly_approved_hours": "12.5"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["slug"] == "initech-billing"
    assert body["hosting_provider"] == "Hetzner"
    assert body["escalation_policy_id"] == policy.pk
    assert float(body["monthly_approved_hours"]) == 12.5
    assert HostingProvider.objects.get().name == "Hetzner"
    assert AuditEntry.objects.filter(action="service.create", object_id=str(body["id"])).exists()


def test_the_hosting_provider_is_matched_by_name_in_any_case(personas, api):
    HostingProvider.objects.create(name="Hetzner", support_email="support@hetzner.com")
    r = api(personas.admin).post("/api/v1/services", {"name": "X", "team_id": personas.team.pk, "hosting_provider": "hetzner"})
    assert r.json()["hosting_provider"] == "Hetzner"
    assert HostingProvider.objects.count() == 1


def test_responders_cannot_create_or_change_services(personas, api):
    client = api(personas.responder)
    assert client.post("/api/v1/services", {"name": "X", "team_id": personas.team.pk}).status_code == 403
    assert client.patch(f"/api/v1/services/{personas.service.pk}", {"name": "Y"}).status_code == 403
    assert Service.objects.filter(team=personas.team).count() == 1


def test_services_of_other_teams_are_invisible(personas, api):
    client = api(personas.viewer)
    assert [s["name"] for s in client.get("/api/v1/services").json()["items"]] == ["Acme Shop"]
    assert client.get(f"/api/v1/services/{personas.other_service.pk}").status_code == 404
    r = api(personas.admin).post("/api/v1/services", {"name": "Sneaky", "team_id": personas.other_team.pk})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "team_id"


def test_service_input_is_validated_field_by_field(personas, api):
    client = api(personas.admin)
    foreign_policy = EscalationPolicy.objects.create(team=personas.other_team, name="Theirs")
    cases = [
        ({"name": "Acme Shop", "team_id": personas.team.pk}, "name"),
        ({"name": "New", "slug": "acme-shop", "team_id": personas.team.pk}, "slug"),
        ({"name": "New", "slug": "Not A Slug", "team_id": personas.team.pk}, "slug"),
        ({"name": "New", "team_id": personas.team.pk, "escalation_policy_id": foreign_policy.pk}, "escalation_policy_id"),
        ({"name": "New", "team_id": personas.team.pk, "monthly_approved_hours": -1}, "monthly_approved_hours"),
        ({"name": "New", "team_id": "ops"}, "team_id"),
    ]
    for body, field in cases:
        r = client.post("/api/v1/services", body)
        assert r.status_code == 422, (body, r.content)
        assert r.json()["detail"][0]["field"] == field, body
    assert Service.objects.count() == 2


def test_patch_changes_only_what_is_sent(personas, api):
    r = api(personas.admin).patch(f"/api/v1/services/{personas.service.pk}", {"description": "storefront"})
    assert r.status_code == 200
    service = Service.objects.get(pk=personas.service.pk)
    assert service.description == "storefront" and service.name == "Acme Shop"
    entry = AuditEntry.objects.get(action="service.update")
    assert entry.before == {"description": ""} and entry.after == {"description": "storefront"}
    r = api(personas.admin).patch(f"/api/v1/services/{personas.service.pk}", {"name": None})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "name"


def test_a_service_with_incidents_cannot_be_deleted(personas, api):
    do_create_incident(personas.service, actor=personas.admin, title="t", severity="sev3")
    r = api(personas.admin).delete(f"/api/v1/services/{personas.service.pk}")
    assert r.status_code == 409
    assert Service.objects.filter(pk=personas.service.pk).exists()
    assert not AuditEntry.objects.filter(action="service.delete").exists()
    empty = Service.objects.create(team=personas.team, name="Empty", slug="empty")
    assert api(personas.admin).delete(f"/api/v1/services/{empty.pk}").status_code == 204
    assert not Service.objects.filter(pk=empty.pk).exists()


def test_the_slug_of_the_create_page_is_never_given_to_a_service(personas, api):
    client = api(personas.admin)
    r = client.post("/api/v1/services", {"name": "New", "team_id": personas.team.pk})
    assert r.status_code == 201 and r.json()["slug"] == "new-2"
    r = client.post("/api/v1/services", {"name": "Other", "slug": "new", "team_id": personas.team.pk})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "slug"
