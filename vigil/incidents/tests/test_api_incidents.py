import pytest

from vigil.accounts.models import AuditEntry
from vigil.incidents.models import Incident, TimelineEntry


@pytest.fixture
def incident(personas, api):
    r = api(personas.responder).post("/api/v1/incidents", {
        "title": "Checkout returns 502", "service_id": personas.service.pk, "severity": "sev2"})
    assert r.status_code == 201, r.content
    return Incident.objects.get(pk=r.json()["id"])


def test_it_requires_a_token(personas, api):
    r = api().get("/api/v1/incidents")
    assert r.status_code == 401
    assert r["WWW-Authenticate"].startswith("Bearer")


def test_it_rejects_an_unknown_token(personas, api):
    client = api()
    client.headers["Authorization"] = "Bearer vgl_not-a-real-token"
    assert client.get("/api/v1/incidents").status_code == 401


def test_it_creates_an_incident_with_number_and_created_entry(personas, api):
    r = api(personas.responder).post("/api/v1/incidents", {
        "title": "DB down", "service_id": personas.service.pk, "severity": "sev1", "description": "primary gone"})
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "triggered"
    assert body["severity"] == "sev1"
    assert body["number"] == 1
    assert body["url"] == f"http://127.0.0.1:8000/incidents/{body['id']}/"
    assert list(TimelineEntry.objects.filter(incident_id=body["id"]).values_list("kind", flat=True)) == ["created"]
    second = api(personas.responder).post("/api/v1/incidents", {"title": "Again", "service_id": personas.service.pk})
    assert second.json()["number"] == 2
    assert second.json()["severity"] == "sev3"


def test_it_lists_only_the_incidents_of_the_users_teams(personas, api, incident):
    api(personas.outsider).post("/api/v1/incidents", {"title": "Theirs", "service_id": personas.other_service.pk})
    mine = api(personas.viewer).get("/api/v1/incidents").json()
    theirs = api(personas.outsider).get("/api/v1/incidents").json()
    assert [i["title"] for i in mine["items"]] == ["Checkout returns 502"]
    assert mine["count"] == 1
    assert [i["title"] for i in theirs["items"]] == ["Theirs"]
    everything = api(personas.site_admin).get("/api/v1/incidents").json()
    assert everything["count"] == 2


def test_it_hides_another_teams_incident_as_not_found(personas, api, incident):
    assert api(personas.outsider).get(f"/api/v1/incidents/{incident.pk}").status_code == 404
    assert api(personas.outsider).post(f"/api/v1/incidents/{incident.pk}/acknowledge").status_code == 404
    assert api(personas.outsider).get(f"/api/v1/incidents/{incident.pk}/timeline").status_code == 404
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_a_viewer_can_read_but_not_act(personas, api, incident):
    viewer = api(personas.viewer)
    assert viewer.get(f"/api/v1/incidents/{incident.pk}").status_code == 200
    r = viewer.post(f"/api/v1/incidents/{incident.pk}/acknowledge")
    assert r.status_code == 403
    assert "responder" in r.json()["detail"]
    assert viewer.post("/api/v1/incidents", {"title": "x", "service_id": personas.service.pk}).status_code == 403
    incident.refresh_from_db()
    assert incident.status == "triggered"
    assert Incident.objects.count() == 1


def test_it_moves_through_the_lifecycle_with_a_timeline_entry_each(personas, api, incident):
    client = api(personas.responder)
    for action, status, stamp in [("acknowledge", "acknowledged", "acknowledged_at"),
                                  ("mitigate", "mitigated", "mitigated_at"),
                                  ("resolve", "resolved", "resolved_at")]:
        r = client.post(f"/api/v1/incidents/{incident.pk}/{action}")
        assert r.status_code == 200, r.content
        assert r.json()["status"] == status
        assert r.json()[stamp] is not None
    body = client.get(f"/api/v1/incidents/{incident.pk}").json()
    assert body["acknowledged_at"] <= body["mitigated_at"] <= body["resolved_at"]
    assert body["commander_id"] == personas.responder.pk
    timeline = client.get(f"/api/v1/incidents/{incident.pk}/timeline").json()
    assert [e["kind"] for e in timeline["items"]] == ["created", "acknowledged", "role", "mitigated", "resolved"]
    assert timeline["count"] == 5
    assert all(e["actor_id"] == personas.responder.pk for e in timeline["items"])


def test_resolving_twice_is_a_conflict_and_changes_nothing(personas, api, incident):
    client = api(personas.responder)
    assert client.post(f"/api/v1/incidents/{incident.pk}/resolve").status_code == 200
    incident.refresh_from_db()
    entries, audits = incident.timeline.count(), AuditEntry.objects.count()
    r = client.post(f"/api/v1/incidents/{incident.pk}/resolve")
    assert r.status_code == 409
    assert "resolved" in r.json()["detail"]
    again = Incident.objects.get(pk=incident.pk)
    assert again.resolved_at == incident.resolved_at
    assert again.timeline.count() == entries
    assert AuditEntry.objects.count() == audits


def test_it_reopens_a_resolved_incident_and_clears_the_clocks(personas, api, incident):
    client = api(personas.responder)
    client.post(f"/api/v1/incidents/{incident.pk}/acknowledge")
    client.post(f"/api/v1/incidents/{incident.pk}/resolve", {"reason": "rolled back"})
    r = client.post(f"/api/v1/incidents/{incident.pk}/reopen", {"reason": "errors are back"})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "triggered"
    assert body["acknowledged_at"] is None and body["resolved_at"] is None
    assert body["reopened_at"] is not None
    kinds = list(incident.timeline.values_list("kind", "body"))
    assert kinds[-2:] == [("resolved", "rolled back"), ("reopened", "errors are back")]


def test_escalate_records_the_request_and_is_refused_once_resolved(personas, api, incident):
    client = api(personas.responder)
    r = client.post(f"/api/v1/incidents/{incident.pk}/escalate", {"reason": "need the DBA"})
    assert r.status_code == 200
    assert incident.timeline.filter(kind="escalated", body="need the DBA").exists()
    client.post(f"/api/v1/incidents/{incident.pk}/resolve")
    assert client.post(f"/api/v1/incidents/{incident.pk}/escalate").status_code == 409


@pytest.mark.parametrize("body, field", [
    ('{"title": "x", "service_id": ', "body"),
    ('not json at all', "body"),
    ('{"title": "x", "service_id": "seven"}', "service_id"),
    ('{"title": "x", "service_id": 1, "severity": "sev9"}', "severity"),
    ('{"title": "", "service_id": 1}', "title"),
    ('{"service_id": 1}', "title"),
    ('{"title": "x", "service_id": 1, "colour": "red"}', "colour"),
    ('{"title": ["x"], "service_id": 1}', "title"),
])
def test_bad_input_answers_422_naming_the_field_and_creates_nothing(personas, api, body, field):
    r = api(personas.responder).post("/api/v1/incidents", data=body)
    assert r.status_code == 422, r.content
    assert field in [e["field"] for e in r.json()["detail"]]
    assert Incident.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_an_unknown_or_foreign_service_is_a_422_on_service_id(personas, api):
    for service_id in (999999, personas.other_service.pk):
        r = api(personas.responder).post("/api/v1/incidents", {"title": "x", "service_id": service_id})
        assert r.status_code == 422
        assert r.json()["detail"][0]["field"] == "service_id"
    assert Incident.objects.count() == 0


def test_it_filters_by_status_service_and_severity(personas, api, incident):
    client = api(personas.responder)
    other = client.post("/api/v1/incidents", {"title": "Slow", "service_id": personas.service.pk, "severity": "sev4"}).json()
    client.post(f"/api/v1/incidents/{other['id']}/acknowledge")
    def titles(**params):
        return [i["title"] for i in client.get("/api/v1/incidents", **params).json()["items"]]
    assert titles(status="acknowledged") == ["Slow"]
    assert titles(status="triggered") == ["Checkout returns 502"]
    assert titles(severity="sev2") == ["Checkout returns 502"]
    assert sorted(titles(service_id=personas.service.pk)) == ["Checkout returns 502", "Slow"]
    assert titles(service_id=personas.other_service.pk) == []
    r = client.get("/api/v1/incidents", status="sleeping")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "status"


def test_it_paginates_with_limit_and_offset_and_counts_all(personas, api):
    client = api(personas.responder)
    for n in range(5):
        client.post("/api/v1/incidents", {"title": f"i{n}", "service_id": personas.service.pk})
    page = client.get("/api/v1/incidents", limit=2, offset=1).json()
    assert page["count"] == 5
    assert [i["title"] for i in page["items"]] == ["i3", "i2"]
    assert client.get("/api/v1/incidents", limit=0).status_code == 422


def test_patch_changes_severity_with_a_timeline_entry(personas, api, incident):
    r = api(personas.responder).patch(f"/api/v1/incidents/{incident.pk}", {"severity": "sev1", "commander_id": personas.admin.pk})
    assert r.status_code == 200
    assert r.json()["severity"] == "sev1"
    assert r.json()["commander_id"] == personas.admin.pk
    entry = incident.timeline.get(kind="updated")
    assert entry.data["before"]["severity"] == "sev2" and entry.data["after"]["severity"] == "sev1"


def test_patch_refuses_a_commander_from_another_team_or_unknown(personas, api, incident):
    for commander_id in (personas.outsider.pk, personas.viewer.pk, 987654):
        r = api(personas.responder).patch(f"/api/v1/incidents/{incident.pk}", {"commander_id": commander_id})
        assert r.status_code == 422
        assert r.json()["detail"][0]["field"] == "commander_id"
    incident.refresh_from_db()
    assert incident.commander_id is None


def test_notes_are_added_to_the_timeline(personas, api, incident):
    r = api(personas.responder).post(f"/api/v1/incidents/{incident.pk}/timeline", {"body": "restarted <b>nginx</b>"})
    assert r.status_code == 201
    assert r.json()["kind"] == "note" and r.json()["body"] == "restarted <b>nginx</b>"
    assert api(personas.viewer).post(f"/api/v1/incidents/{incident.pk}/timeline", {"body": "x"}).status_code == 403


def test_every_change_is_audited_with_the_channel_and_before_after(personas, api, incident):
    api(personas.responder).post(f"/api/v1/incidents/{incident.pk}/acknowledge")
    entry = AuditEntry.objects.get(action="incident.acknowledge")
    assert entry.actor == personas.responder
    assert entry.channel == "api"
    assert entry.before["status"] == "triggered" and entry.after["status"] == "acknowledged"
    assert "title" not in entry.after
    assert AuditEntry.objects.filter(action="incident.create", object_id=str(incident.pk)).exists()


def test_the_openapi_document_is_served(personas, api):
    r = api().get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/incidents/{incident_id}/acknowledge" in r.json()["paths"]
