"""GET/PUT /api/v1/services/{id}/sla."""

import datetime as dt

from vigil.accounts.models import AuditEntry
from vigil.sla.models import SlaPolicy

BODY = {
    "business_hours_only": True,
    "time_zone": "Europe/Paris",
    "business_days": ["mon", "tue", "wed", "thu", "fri"],
    "business_hours_start": "08:00",
    "business_hours_end": "18:00",
    "targets": {"sev1": {"ack_seconds": 900, "resolve_seconds": 14400}, "sev2": {"ack_seconds": 1800}},
}


def url(service):
    return f"/api/v1/services/{service.pk}/sla"


def test_a_service_without_an_sla_has_no_targets(personas, api):
    response = api(personas.viewer).get(url(personas.service))
    assert response.status_code == 200
    body = response.json()
    assert body["targets"] == {} and body["business_hours_only"] is False and body["escalate_fraction"] == 0.75


def test_an_admin_sets_the_sla_and_reads_it_back(personas, api):
    response = api(personas.admin).put(url(personas.service), json=BODY)
    assert response.status_code == 200, response.json()
    body = api(personas.viewer).get(url(personas.service)).json()
    assert body["targets"] == {"sev1": {"ack_seconds": 900, "resolve_seconds": 14400},
                               "sev2": {"ack_seconds": 1800, "resolve_seconds": None}}
    assert body["business_hours_only"] is True and body["time_zone"] == "Europe/Paris"
    assert body["business_hours_start"] == "08:00:00" and body["business_hours_end"] == "18:00:00"
    policy = SlaPolicy.objects.get(service=personas.service)
    assert policy.weekdays == [0, 1, 2, 3, 4] and policy.target("sev1", "ack") == 900
    assert AuditEntry.objects.filter(action="sla_policy.set").count() == 1
    response = api(personas.admin).put(url(personas.service), json={
        **BODY, "holidays_of": "FR", "closed_days": ["2026-12-24", "2026-12-31", "2026-12-24"]})
    assert (response.json()["holidays_of"], response.json()["closed_days"]) == ("FR", ["2026-12-24", "2026-12-31"])
    assert SlaPolicy.objects.get(service=personas.service).calendar().is_working_day(dt.date(2026, 12, 25)) is False


def test_put_replaces_the_whole_policy(personas, api):
    api(personas.admin).put(url(personas.service), json=BODY)
    response = api(personas.admin).put(url(personas.service), json={"business_hours_only": False,
                                                                    "targets": {"sev3": {"resolve_seconds": 86400}}})
    assert response.status_code == 200
    assert response.json()["targets"] == {"sev3": {"ack_seconds": None, "resolve_seconds": 86400}}
    assert SlaPolicy.objects.count() == 1


def test_bad_input_names_the_field_and_changes_nothing(personas, api):
    admin = api(personas.admin)
    for body, field in [
        ({**BODY, "targets": {"sev9": {"ack_seconds": 60}}}, "targets.sev9.[key]"),
        ({**BODY, "targets": {"sev1": {"ack_seconds": 0}}}, "targets.sev1.ack_seconds"),
        ({**BODY, "time_zone": "Mars/Olympus"}, "time_zone"),
        ({**BODY, "business_days": ["someday"]}, "business_days.0"),
        ({**BODY, "business_days": []}, "business_days"),
        ({**BODY, "business_hours_end": "07:00"}, "business_hours_end"),
        ({**BODY, "escalate_fraction": 1.5}, "escalate_fraction"),
        ({**BODY, "holidays_of": "XX"}, "holidays_of"),
        ({**BODY, "holidays_of": "US-ZZ"}, "holidays_of"),
        ({**BODY, "closed_days": ["2026-13-01"]}, "closed_days.0"),
        ({**BODY, "surprise": 1}, "surprise"),
    ]:
        response = admin.put(url(personas.service), json=body)
        assert response.status_code == 422, body
        assert field in [d["field"] for d in response.json()["detail"]], (field, response.json())
    assert not SlaPolicy.objects.exists()


def test_only_team_admins_set_it_and_other_teams_do_not_see_it(personas, api):
    assert api(personas.responder).put(url(personas.service), json=BODY).status_code == 403
    assert api(personas.outsider).get(url(personas.service)).status_code == 404
    assert api(personas.outsider).put(url(personas.service), json=BODY).status_code == 404
    assert api().get(url(personas.service)).status_code == 401
    assert not SlaPolicy.objects.exists()


def test_an_incident_shows_its_sla_only_on_a_service_with_one(personas, api):
    responder = api(personas.responder)
    incident = responder.post("/api/v1/incidents", json={"title": "A", "service_id": personas.service.pk, "severity": "sev1"}).json()
    assert responder.get(f"/api/v1/incidents/{incident['id']}").json()["sla"] is None
    api(personas.admin).put(url(personas.service), json={"targets": {"sev1": {"ack_seconds": 900, "resolve_seconds": 3600}}})
    incident = responder.post("/api/v1/incidents", json={"title": "B", "service_id": personas.service.pk, "severity": "sev1"}).json()
    sla = responder.get(f"/api/v1/incidents/{incident['id']}").json()["sla"]
    assert sla["ack_target_seconds"] == 900 and sla["resolve_target_seconds"] == 3600
    assert sla["ack_elapsed_seconds"] >= 0 and sla["ack_breached"] is False
