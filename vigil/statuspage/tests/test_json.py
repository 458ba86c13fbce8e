"""The Statuspage v2 documents, field by field and value by value, against shared/spec/integrations.md §5
(the fixture in fixtures/ is the spec's synthetic summary, served to the real consumers there)."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from vigil.incidents import actions
from vigil.statuspage import services
from vigil.statuspage.models import ComponentStatus

SPEC = json.loads((Path(__file__).parent / "fixtures" / "statuspage-v2-summary-synthetic.json").read_text())
PAGE_FIELDS = set(SPEC["page"])
COMPONENT_FIELDS = set(SPEC["components"][0])
INCIDENT_FIELDS = set(SPEC["incidents"][0])
UPDATE_FIELDS = set(SPEC["incidents"][0]["incident_updates"][0])
AFFECTED_FIELDS = set(SPEC["incidents"][0]["incident_updates"][0]["affected_components"][0])
# From the spec's "Enumerations".
INDICATORS = {"none", "minor", "major", "critical"}
COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
IMPACTS = {"none", "minor", "major", "critical"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

DOCUMENTS = {
    "summary": {"status", "components", "incidents", "scheduled_maintenances"},
    "status": {"status"},
    "components": {"components"},
    "incidents": {"incidents"},
    "incidents/unresolved": {"incidents"},
    "scheduled-maintenances": {"scheduled_maintenances"},
    "scheduled-maintenances/upcoming": {"scheduled_maintenances"},
    "scheduled-maintenances/active": {"scheduled_maintenances"},
}


def get(client, name, slug="acme"):
    response = client.get(f"/status/{slug}/api/v2/{name}.json")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "public" in response["Cache-Control"] and response["ETag"] and response["Last-Modified"]
    return json.loads(response.content)


def check_component(c, page):
    expected = COMPONENT_FIELDS | ({"components"} if c["group"] else set())
    assert set(c) == expected
    assert c["status"] in COMPONENT_STATUSES
    assert c["page_id"] == page.code
    assert TIMESTAMP.match(c["created_at"]) and TIMESTAMP.match(c["updated_at"])
    assert re.match(r"^\d{4}-\d\d-\d\d$", c["start_date"])


def check_incident(i, page, maintenance=False):
    assert set(i) == INCIDENT_FIELDS | ({"scheduled_for", "scheduled_until"} if maintenance else set())
    assert i["status"] in (MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES)
    assert i["impact"] in (IMPACTS | {"maintenance"} if maintenance else IMPACTS)
    assert i["page_id"] == page.code
    assert i["shortlink"] == f"http://127.0.0.1:8000/status/{page.slug}/incidents/{i['id']}"
    for field in ("created_at", "updated_at", "started_at") + (("scheduled_for", "scheduled_until") if maintenance else ()):
        assert TIMESTAMP.match(i[field]), field
    for field in ("monitoring_at", "resolved_at"):
        assert i[field] is None or TIMESTAMP.match(i[field])
    assert i["incident_updates"]
    for u in i["incident_updates"]:
        assert set(u) == UPDATE_FIELDS
        assert u["incident_id"] == i["id"]
        assert u["status"] in (MAINTENANCE_STATUSES if maintenance else INCIDENT_STATUSES)
        assert u["custom_tweet"] is None and u["tweet_id"] is None and isinstance(u["deliver_notifications"], bool)
        for a in u["affected_components"]:
            assert set(a) == AFFECTED_FIELDS
            assert a["old_status"] in COMPONENT_STATUSES and a["new_status"] in COMPONENT_STATUSES
    for c in i["components"]:
        check_component(c, page)


def test_every_document_has_the_fields_of_the_spec_when_all_is_well(client, page):
    for name, keys in DOCUMENTS.items():
        doc = get(client, name)
        assert set(doc) == {"page"} | keys, name
        assert set(doc["page"]) == PAGE_FIELDS
        assert doc["page"] == {"id": "vigil%07d" % page.pk, "name": "Acme", "url": "http://127.0.0.1:8000/status/acme/",
                               "time_zone": "Etc/UTC", "updated_at": doc["page"]["updated_at"]}
    summary = get(client, "summary")
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert summary["incidents"] == [] and summary["scheduled_maintenances"] == []
    by_name = {c["name"]: c for c in summary["components"]}
    assert list(by_name) == ["Website", "Backend", "API"]
    for c in summary["components"]:
        check_component(c, page)
        assert c["status"] == "operational"
    assert by_name["Website"]["description"] == "Storefront and checkout"
    assert by_name["API"]["description"] is None  # no value: null, not left out
    assert by_name["Backend"]["group"] is True and by_name["Backend"]["components"] == [by_name["API"]["id"]]
    assert by_name["API"]["group_id"] == by_name["Backend"]["id"] and by_name["Website"]["group_id"] is None


@pytest.mark.parametrize("severity,status,indicator,description", [
    ("sev1", "major_outage", "critical", "Major Service Outage"),
    ("sev2", "partial_outage", "major", "Partial System Outage"),
    ("sev3", "degraded_performance", "minor", "Minor Service Outage"),
    ("sev4", "degraded_performance", "minor", "Minor Service Outage"),
])
def test_an_incident_and_its_public_update_follow_the_severity(client, page, personas, open_incident,
                                                               severity, status, indicator, description):
    incident = open_incident(severity)
    summary = get(client, "summary")
    website = next(c for c in summary["components"] if c["name"] == "Website")
    assert website["status"] == status
    # Before anything is published the indicator follows the components alone (the spec's roll-up rule).
    assert summary["status"]["indicator"] == {"major_outage": "major"}.get(status, "minor")

    services.post_public_update(incident, page=page, status="investigating", body="Looking into it", actor=personas.responder)
    summary = get(client, "summary")
    assert summary["status"] == {"indicator": indicator, "description": description}
    [public] = summary["incidents"]
    check_incident(public, page)
    assert public["impact"] == indicator
    assert public["name"] == "Checkout returns 502" and public["status"] == "investigating"
    [update] = public["incident_updates"]
    assert update["body"] == "Looking into it"
    assert update["affected_components"] == [{"code": website["id"], "name": "Website", "old_status": "operational",
                                              "new_status": status}]
    assert [c["name"] for c in public["components"]] == ["Website"]


def test_the_incident_flow_through_every_status(client, page, personas, open_incident):
    incident = open_incident("sev2")
    for status in ["investigating", "identified", "monitoring"]:
        services.post_public_update(incident, page=page, status=status, body=f"now {status}")
    assert get(client, "incidents/unresolved")["incidents"][0]["status"] == "monitoring"
    actions.do_resolve_incident(incident, actor=personas.responder)
    services.post_public_update(incident, page=page, status="resolved", body="fixed")
    services.post_public_update(incident, page=page, status="postmortem", body="what happened")
    assert get(client, "incidents/unresolved")["incidents"] == []
    assert get(client, "summary")["status"]["indicator"] == "none"
    [public] = get(client, "incidents")["incidents"]
    check_incident(public, page)
    assert public["status"] == "postmortem"
    assert [u["status"] for u in public["incident_updates"]] == ["postmortem", "resolved", "monitoring", "identified", "investigating"]
    assert TIMESTAMP.match(public["monitoring_at"]) and TIMESTAMP.match(public["resolved_at"])
    # The component went back to operational when the incident resolved.
    assert public["incident_updates"][1]["affected_components"][0] == {
        "code": page.website.code, "name": "Website", "old_status": "partial_outage", "new_status": "operational"}


def test_maintenances_are_upcoming_then_active_then_done(client, page, personas):
    now = timezone.now()
    m = services.schedule_maintenance(page, name="Database upgrade", components=[page.website, page.api],
                                      scheduled_for=now + timedelta(hours=1), scheduled_until=now + timedelta(hours=2))
    [upcoming] = get(client, "scheduled-maintenances/upcoming")["scheduled_maintenances"]
    check_incident(upcoming, page, maintenance=True)
    assert upcoming["status"] == "scheduled" and upcoming["impact"] == "maintenance"
    assert get(client, "scheduled-maintenances/active")["scheduled_maintenances"] == []
    assert services.advance_maintenances(now + timedelta(hours=1, seconds=1))
    [active] = get(client, "scheduled-maintenances/active")["scheduled_maintenances"]
    assert active["id"] == m.code and active["status"] == "in_progress"
    summary = get(client, "summary")
    assert {c["name"]: c["status"] for c in summary["components"]} == {
        "Website": "under_maintenance", "Backend": "under_maintenance", "API": "under_maintenance"}
    assert summary["status"]["indicator"] == "none"
    assert [s["id"] for s in summary["scheduled_maintenances"]] == [m.code]
    services.post_maintenance_update(m, status="verifying", body="checking", now=now + timedelta(hours=1, minutes=30))
    assert services.advance_maintenances(now + timedelta(hours=2, seconds=1))
    [done] = get(client, "scheduled-maintenances")["scheduled_maintenances"]
    check_incident(done, page, maintenance=True)
    assert [u["status"] for u in done["incident_updates"]] == ["completed", "verifying", "in_progress", "scheduled"]
    assert get(client, "summary")["scheduled_maintenances"] == []
    assert {c["status"] for c in get(client, "components")["components"]} == {"operational"}


def test_every_component_status_can_be_set_by_hand(client, page):
    for status in ComponentStatus.values:
        services.set_override(page.api, status)
        doc = get(client, "components")
        api = next(c for c in doc["components"] if c["name"] == "API")
        assert api["status"] == status
    services.set_override(page.api, "")
    assert {c["status"] for c in get(client, "components")["components"]} == {"operational"}


def test_html_in_titles_and_updates_is_data_in_the_json(client, page, personas, open_incident):
    evil = '<script>alert("x")</script> & <b>bold</b>'
    incident = open_incident("sev2", title=evil)
    services.post_public_update(incident, page=page, status="identified", body=evil)
    raw = client.get("/status/acme/api/v2/summary.json").content
    assert b"<" not in raw and b">" not in raw and b"\\u003cscript\\u003e" in raw
    doc = json.loads(raw)
    assert doc["incidents"][0]["name"] == evil and doc["incidents"][0]["incident_updates"][0]["body"] == evil


def test_unknown_documents_and_pages_are_404(client, page):
    assert client.get("/status/acme/api/v2/nothing.json").status_code == 404
    assert client.get("/status/nope/api/v2/summary.json").status_code == 404


def test_drills_do_not_reach_the_public_page(client, page, open_incident):
    open_incident("sev1", is_drill=True)
    assert get(client, "status")["status"]["indicator"] == "none"
