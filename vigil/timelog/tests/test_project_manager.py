"""The service's project manager (told of time overruns), set through the service API and form."""

from vigil.accounts.models import Membership, Role, User


def test_the_service_api_sets_and_shows_the_project_manager(personas, api):
    admin = api(personas.admin)
    url = f"/api/v1/services/{personas.service.pk}"
    assert admin.get(url).json()["project_manager_id"] is None
    response = admin.patch(url, json={"project_manager_id": personas.viewer.pk})
    assert response.status_code == 200 and response.json()["project_manager_id"] == personas.viewer.pk
    personas.service.refresh_from_db()
    assert personas.service.project_manager == personas.viewer
    # Someone outside the team cannot be its project manager.
    response = admin.patch(url, json={"project_manager_id": personas.outsider.pk})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "project_manager_id"
    assert admin.patch(url, json={"project_manager_id": None}).json()["project_manager_id"] is None
    created = admin.post("/api/v1/services", json={"name": "New", "team_id": personas.team.pk,
                                                   "project_manager_id": personas.responder.pk})
    assert created.status_code == 201 and created.json()["project_manager_id"] == personas.responder.pk


def test_the_service_form_offers_the_teams_members(personas, client):
    paula = User.objects.create_user("pm@client.test", name="Paula Manager")
    Membership.objects.create(user=paula, team=personas.team, role=Role.VIEWER)
    client.force_login(personas.admin)
    page = client.get("/services/acme-shop/edit/").content.decode()
    assert "Paula Manager" in page and "Oscar Outsider" not in page
    response = client.post("/services/acme-shop/edit/", {
        "name": "Acme Shop", "slug": "acme-shop", "monthly_approved_hours": "10", "project_manager": paula.pk})
    assert response.status_code == 302
    personas.service.refresh_from_db()
    assert personas.service.project_manager == paula
    assert "Paula Manager" in client.get("/services/acme-shop/").content.decode()
