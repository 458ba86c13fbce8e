"""The heartbeats API: /api/v1/heartbeats, with the contract's conventions."""

from vigil.accounts.models import AuditEntry
from vigil.heartbeats.models import Heartbeat


def test_it_creates_a_heartbeat_with_an_absolute_ping_url(personas, api, settings):
    response = api(personas.responder).post("/api/v1/heartbeats", {
        "service_id": personas.service.pk, "name": "Nightly backup", "period_seconds": 86400, "grace_seconds": 3600})
    assert response.status_code == 201, response.content
    body = response.json()
    heartbeat = Heartbeat.objects.get(pk=body["id"])
    assert body["uuid"] == str(heartbeat.uuid)
    assert body["ping_url"] == f"{settings.BASE_URL}/ping/{heartbeat.uuid}"
    assert (body["kind"], body["period_seconds"], body["grace_seconds"], body["status"]) == ("simple", 86400, 3600, "new")
    assert AuditEntry.objects.filter(action="heartbeat.create").exists()


def test_it_creates_a_cron_heartbeat(personas, api):
    response = api(personas.admin).post("/api/v1/heartbeats", {
        "service_id": personas.service.pk, "name": "Updates", "cron": "0 4 * * 1", "time_zone": "Europe/Berlin",
        "grace_seconds": 600})
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["cron"], response.json()["period_seconds"]) == ("cron", "0 4 * * 1", None)


def test_bad_input_names_the_field_and_creates_nothing(personas, api):
    client = api(personas.admin)
    base = {"service_id": personas.service.pk, "name": "x"}
    cases = [
        ({**base, "cron": "61 * * * *"}, "cron"),
        ({**base, "cron": "0 4 * * *", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({**base, "period_seconds": 10}, "period_seconds"),
        ({**base, "period_seconds": 3600, "cron": "0 4 * * *"}, "cron"),
        ({**base}, "period_seconds"),
        ({**base, "period_seconds": 3600, "grace_seconds": "soon"}, "grace_seconds"),
        ({**base, "period_seconds": 3600, "service_id": personas.other_service.pk}, "service_id"),
    ]
    for body, field in cases:
        response = client.post("/api/v1/heartbeats", body)
        assert response.status_code == 422, (body, response.content)
        assert field in [d["field"] for d in response.json()["detail"]], (body, response.json())
    assert not Heartbeat.objects.exists()


def test_team_boundaries_and_roles_hold(personas, api):
    created = api(personas.admin).post("/api/v1/heartbeats", {
        "service_id": personas.service.pk, "name": "Backup", "period_seconds": 3600}).json()
    path = f"/api/v1/heartbeats/{created['id']}"
    assert api().get(path).status_code == 401
    assert api(personas.outsider).get(path).status_code == 404
    assert api(personas.outsider).get("/api/v1/heartbeats").json()["count"] == 0
    assert api(personas.viewer).get(path).status_code == 200
    assert api(personas.viewer).patch(path, {"name": "Mine"}).status_code == 403
    assert api(personas.viewer).post("/api/v1/heartbeats", {
        "service_id": personas.service.pk, "name": "B", "period_seconds": 3600}).status_code == 403


def test_patch_pause_resume_pings_and_delete(personas, api, client):
    c = api(personas.responder)
    created = c.post("/api/v1/heartbeats", {"service_id": personas.service.pk, "name": "Backup",
                                            "period_seconds": 3600}).json()
    path = f"/api/v1/heartbeats/{created['id']}"
    response = c.patch(path, {"cron": "*/5 * * * *", "time_zone": "America/New_York"})
    assert response.status_code == 200 and response.json()["kind"] == "cron"
    assert c.patch(path, {"time_zone": "Nowhere/Else"}).status_code == 422
    client.post(f"/ping/{created['uuid']}", "hello", content_type="text/plain")
    pings = c.get(f"{path}/pings").json()
    assert pings["count"] == 1 and pings["items"][0]["body"] == "hello"
    assert c.post(f"{path}/pause").json()["status"] == "paused"
    assert c.post(f"{path}/resume").json()["status"] == "new"
    assert c.delete(path).status_code == 204
    assert client.get(f"/ping/{created['uuid']}").status_code == 404
