"""POST /api/v1/logs/{source} and the error-group API."""

import gzip
import json

import pytest
from django.test import Client

from vigil.accounts.models import ApiToken, AuditEntry
from vigil.incidents.models import Incident
from vigil.logs.models import ErrorGroup, LogSource
from vigil.reviews.models import ActionItem


@pytest.fixture
def source(personas):
    return LogSource.objects.create(service=personas.service, name="shop-web")


def post(user, path, body, content_type="text/plain", **headers):
    client = Client()
    if user is not None:
        _, raw = ApiToken.generate(user, "test")
        headers["Authorization"] = f"Bearer {raw}"
    return client.post(path, body, content_type=content_type, headers=headers)


LINES = ("2024-05-01T12:00:00Z ERROR [main] app.Checkout: payment 17 declined\n"
         "2024-05-01T12:00:01Z ERROR [main] app.Checkout: payment 18 declined\n"
         "2024-05-01T12:00:02Z INFO [main] app.Web: GET /cart 200\n")


def test_plain_text_lines_land_in_the_services_groups(personas, source):
    r = post(personas.responder, "/api/v1/logs/shop-web", LINES)
    assert r.status_code == 200, r.content
    assert r.json() == {"source": "shop-web", "service_id": personas.service.pk, "lines": 3, "groups": 2,
                        "new_groups": 2, "regressed": 0, "alerts": 0}
    declined = ErrorGroup.objects.get(template="payment <*> declined")
    assert (declined.count, declined.level, declined.service) == (2, "ERROR", personas.service)
    source.refresh_from_db()
    assert source.lines_received == 3


def test_json_lines_and_json_arrays_as_log_shippers_send_them(personas, source):
    ndjson = "\n".join(json.dumps({"timestamp": "2024-05-01T12:00:00Z", "level": "error", "message": f"queue {i} stalled",
                                   "host": f"web-{i}"}) for i in range(3))
    assert post(personas.responder, "/api/v1/logs/shop-web", ndjson, "application/x-ndjson").status_code == 200
    array = json.dumps([{"log": "2024-05-01 12:00:00 WARN cache 5 cold"}, "plain line 7 in an array"])
    r = post(personas.responder, "/api/v1/logs/shop-web", array, "application/json")
    assert r.status_code == 200 and r.json()["lines"] == 2
    stalled = ErrorGroup.objects.get(template="queue <*> stalled")
    assert (stalled.count, stalled.level, stalled.hosts) == (3, "ERROR", ["web-0", "web-1", "web-2"])
    gz = post(personas.responder, "/api/v1/logs/shop-web", gzip.compress(LINES.encode()), "text/plain",
              **{"Content-Encoding": "gzip"})
    assert gz.status_code == 200 and gz.json()["lines"] == 3


def test_it_needs_a_token_of_the_team_and_the_responder_role(personas, source):
    assert post(None, "/api/v1/logs/shop-web", LINES).status_code == 401
    assert post(personas.outsider, "/api/v1/logs/shop-web", LINES).status_code == 404
    assert post(personas.viewer, "/api/v1/logs/shop-web", LINES).status_code == 403
    assert post(personas.responder, "/api/v1/logs/nope", LINES).status_code == 404
    assert not ErrorGroup.objects.exists()


def test_a_bad_body_is_a_422_and_changes_nothing(personas, source):
    r = post(personas.responder, "/api/v1/logs/shop-web", "[{\"broken\": ", "application/json")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body"
    r = post(personas.responder, "/api/v1/logs/shop-web", b"not gzip at all", "text/plain", **{"Content-Encoding": "gzip"})
    assert r.status_code == 422
    assert not ErrorGroup.objects.exists()


def test_sources_are_made_by_team_admins(personas, api):
    r = api(personas.admin).post("/api/v1/log-sources", {"service_id": personas.service.pk, "name": "shop-api"})
    assert r.status_code == 201, r.content
    assert r.json()["url"] == "http://127.0.0.1:8000/api/v1/logs/shop-api"
    assert api(personas.responder).post("/api/v1/log-sources", {"service_id": personas.service.pk, "name": "x"}).status_code == 403
    dup = api(personas.admin).post("/api/v1/log-sources", {"service_id": personas.service.pk, "name": "shop-api"})
    assert dup.status_code == 422 and dup.json()["detail"][0]["field"] == "name"
    bad = api(personas.admin).post("/api/v1/log-sources", {"service_id": personas.service.pk, "name": "y", "log_format": "<Date>"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "log_format"
    assert [s["name"] for s in api(personas.viewer).get("/api/v1/log-sources").json()] == ["shop-api"]
    assert api(personas.outsider).get("/api/v1/log-sources").json() == []


def test_groups_are_listed_ranked_with_reasons_and_can_be_triaged(personas, source, api):
    post(personas.responder, "/api/v1/logs/shop-web", LINES)
    body = api(personas.viewer).get("/api/v1/error-groups", service_id=personas.service.pk).json()
    assert body["count"] == 2
    top = body["items"][0]
    assert top["template"] == "payment <*> declined"
    assert top["score"] > body["items"][1]["score"]
    assert {r["factor"] for r in top["reasons"]} >= {"level", "error words", "volume"}
    assert api(personas.outsider).get("/api/v1/error-groups").json()["count"] == 0
    incident = Incident.objects.create(service=personas.service, team=personas.team, title="Payments down", number=1)
    r = api(personas.responder).patch(f"/api/v1/error-groups/{top['id']}", {"state": "fixed", "incident_id": incident.pk})
    assert r.status_code == 200, r.content
    assert (r.json()["state"], r.json()["incident_id"]) == ("fixed", incident.pk)
    assert AuditEntry.objects.filter(action="error_group.state").exists()
    assert api(personas.viewer).patch(f"/api/v1/error-groups/{top['id']}", {"state": "new"}).status_code == 403
    assert api(personas.responder).patch(f"/api/v1/error-groups/{top['id']}", {"state": "regressed"}).status_code == 422
    # the fixed group appears again
    post(personas.responder, "/api/v1/logs/shop-web", LINES)
    assert api(personas.viewer).get(f"/api/v1/error-groups/{top['id']}").json()["state"] == "regressed"


def test_nul_bytes_and_lone_surrogates_are_stored_cleaned(personas, source):
    body = b'{"message": "bad \\u0000 byte \\ud800 here 5", "level": "error"}\nraw \x00 nul 7\n'
    r = post(personas.responder, "/api/v1/logs/shop-web", body, "application/x-ndjson")
    assert r.status_code == 200, r.content
    templates = set(ErrorGroup.objects.values_list("template", flat=True))
    assert templates == {"bad byte ? here <*>", "raw nul <*>"}
    array = json.dumps(["line \ud800 9", {"msg": "x \u0000 1"}])
    assert post(personas.responder, "/api/v1/logs/shop-web", array, "application/json").status_code == 200


def test_a_group_is_turned_into_an_action_item_on_its_incident(personas, source, api):
    post(personas.responder, "/api/v1/logs/shop-web", LINES)
    group = ErrorGroup.objects.get(template="payment <*> declined")
    incident = Incident.objects.create(service=personas.service, team=personas.team, title="Payments down", number=1)
    ErrorGroup.objects.filter(pk=group.pk).update(incident=incident)
    path = f"/api/v1/error-groups/{group.pk}/action-item"
    r = api(personas.responder).post(path, {"owner_id": personas.responder.pk, "due_date": "2030-01-31",
                                            "kind": "preventive"})
    assert r.status_code == 201, r.content
    item = ActionItem.objects.get()
    assert r.json()["id"] == item.pk
    assert (item.title, item.kind, item.incident, item.team, item.owner) == (
        "Fix: payment <*> declined", "preventive", incident, personas.team, personas.responder)
    assert api(personas.viewer).get(f"/api/v1/error-groups/{group.pk}").json()["action_item_ids"] == [item.pk]
    assert AuditEntry.objects.filter(action="action_item.create", object_id=str(item.pk)).exists()
    assert AuditEntry.objects.get(action="error_group.action_item", object_id=str(group.pk)).after == {"action_item": item.pk}


def test_turning_a_group_into_an_action_item_checks_team_role_and_fields(personas, source, api):
    post(personas.responder, "/api/v1/logs/shop-web", LINES)
    group = ErrorGroup.objects.get(template="payment <*> declined")
    path = f"/api/v1/error-groups/{group.pk}/action-item"
    good = {"owner_id": personas.responder.pk, "due_date": "2030-01-31"}
    assert api(personas.outsider).post(path, good).status_code == 404
    assert api(personas.viewer).post(path, good).status_code == 403
    for body, field in [({**good, "owner_id": personas.outsider.pk}, "owner_id"),  # not of the team
                        ({**good, "owner_id": 999999}, "owner_id"),
                        ({**good, "due_date": "someday"}, "due_date"),
                        ({**good, "kind": "process"}, "kind"),
                        ({**good, "title": "   "}, "title")]:
        r = api(personas.responder).post(path, body)
        assert r.status_code == 422, (body, r.content)
        assert r.json()["detail"][0]["field"] == field
    assert not ActionItem.objects.exists() and not group.action_items.exists()
    r = api(personas.responder).post(path, {**good, "title": "Retry declined payments"})
    assert r.status_code == 201 and r.json()["title"] == "Retry declined payments"
    assert r.json()["incident_id"] is None
