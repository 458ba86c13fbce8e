"""Roles on an incident: commander, communications lead, responders; assigned, handed over, left."""

import pytest
from django.db import IntegrityError

from vigil.incidents import actions
from vigil.incidents.models import Incident, RoleAssignment


@pytest.fixture
def incident(personas):
    return actions.do_create_incident(personas.service, actor=personas.responder, title="Checkout returns 502", severity="sev2")


def roles_url(incident):
    return f"/api/v1/incidents/{incident.pk}/roles"


def role_entries(incident):
    return list(incident.timeline.filter(kind="role").values_list("body", flat=True))


def test_the_first_to_acknowledge_becomes_commander(personas, api, incident):
    api(personas.admin).post(f"/api/v1/incidents/{incident.pk}/acknowledge")
    body = api(personas.responder).get(f"/api/v1/incidents/{incident.pk}").json()
    assert body["commander_id"] == personas.admin.pk
    assert body["roles"]["commander"]["user_id"] == personas.admin.pk
    assert body["roles"]["commander"]["name"] == "Ada Admin"
    assert role_entries(incident) == ["Ada Admin is incident commander (first to acknowledge)"]


def test_an_assigned_commander_stays_when_someone_else_acknowledges(personas, api, incident):
    r = api(personas.admin).post(roles_url(incident), {"role": "commander", "user_id": personas.responder.pk})
    assert r.status_code == 201
    assert r.json()["role"] == "commander" and r.json()["assigned_by_id"] == personas.admin.pk
    api(personas.admin).post(f"/api/v1/incidents/{incident.pk}/acknowledge")
    assert Incident.objects.get(pk=incident.pk).commander == personas.responder
    assert role_entries(incident) == ["Rita Responder is incident commander"]


def test_assigning_a_commander_hands_over_from_the_current_one(personas, api, incident):
    api(personas.responder).post(f"/api/v1/incidents/{incident.pk}/acknowledge")
    r = api(personas.responder).post(roles_url(incident), {"role": "commander", "user_id": personas.admin.pk})
    assert r.status_code == 201
    body = api(personas.responder).get(f"/api/v1/incidents/{incident.pk}").json()
    assert body["commander_id"] == personas.admin.pk
    assert body["roles"]["commander"]["user_id"] == personas.admin.pk
    assert role_entries(incident)[-1] == "Rita Responder handed incident commander over to Ada Admin"
    history = api(personas.responder).get(roles_url(incident), include_ended="true").json()["items"]
    assert [(h["name"], h["ended_at"] is None) for h in history] == [("Rita Responder", False), ("Ada Admin", True)]
    assert [(h["name"], h["ended_by_id"]) for h in history] == [("Rita Responder", personas.responder.pk), ("Ada Admin", None)]
    current = api(personas.responder).get(roles_url(incident)).json()["items"]
    assert [c["name"] for c in current] == ["Ada Admin"]


def test_a_third_person_reassigning_reads_as_a_hand_over(personas, api, incident):
    api(personas.responder).post(roles_url(incident), {"role": "communications", "user_id": personas.responder.pk})
    api(personas.admin).post(roles_url(incident), {"role": "communications", "user_id": personas.admin.pk})
    assert role_entries(incident)[-1] == "Communications lead: Rita Responder → Ada Admin"
    assert RoleAssignment.objects.filter(incident=incident, role="communications", ended_at=None).count() == 1


def test_assigning_the_same_person_again_changes_nothing(personas, api, incident):
    first = api(personas.admin).post(roles_url(incident), {"role": "communications", "user_id": personas.responder.pk})
    again = api(personas.admin).post(roles_url(incident), {"role": "communications", "user_id": personas.responder.pk})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert len(role_entries(incident)) == 1


def test_there_may_be_any_number_of_responders(personas, api, incident):
    for user in (personas.responder, personas.admin):
        assert api(personas.admin).post(roles_url(incident), {"role": "responder", "user_id": user.pk}).status_code == 201
    roles = api(personas.admin).get(f"/api/v1/incidents/{incident.pk}").json()["roles"]
    assert [r["name"] for r in roles["responders"]] == ["Rita Responder", "Ada Admin"]
    assert roles["commander"] is None and roles["communications"] is None


def test_leaving_ends_the_role_and_clears_the_commander(personas, api, incident):
    assignment = api(personas.admin).post(roles_url(incident), {"role": "commander", "user_id": personas.responder.pk}).json()
    r = api(personas.responder).delete(f"{roles_url(incident)}/{assignment['id']}")
    assert r.status_code == 200 and r.json()["ended_at"] is not None and r.json()["ended_by_id"] == personas.responder.pk
    assert Incident.objects.get(pk=incident.pk).commander is None
    assert role_entries(incident)[-1] == "Rita Responder left the incident commander role"
    again = api(personas.responder).delete(f"{roles_url(incident)}/{assignment['id']}")
    assert again.status_code == 409
    assert len(role_entries(incident)) == 2


def test_someone_else_taking_a_person_off_a_role_says_so(personas, api, incident):
    assignment = api(personas.admin).post(roles_url(incident), {"role": "responder", "user_id": personas.responder.pk}).json()
    api(personas.admin).delete(f"{roles_url(incident)}/{assignment['id']}")
    assert role_entries(incident)[-1] == "Ada Admin took Rita Responder off the responder role"


def test_patching_commander_id_goes_through_the_roles(personas, api, incident):
    r = api(personas.admin).patch(f"/api/v1/incidents/{incident.pk}", {"commander_id": personas.responder.pk})
    assert r.json()["roles"]["commander"]["user_id"] == personas.responder.pk
    r = api(personas.admin).patch(f"/api/v1/incidents/{incident.pk}", {"commander_id": None})
    assert r.json()["commander_id"] is None and r.json()["roles"]["commander"] is None
    assert role_entries(incident) == ["Rita Responder is incident commander", "Ada Admin took Rita Responder off the incident commander role"]


def test_only_responders_of_the_team_can_hold_roles(personas, api, incident):
    for user_id in (personas.viewer.pk, personas.outsider.pk, 987654):
        r = api(personas.admin).post(roles_url(incident), {"role": "responder", "user_id": user_id})
        assert r.status_code == 422
        assert r.json()["detail"][0]["field"] == "user_id"
    r = api(personas.admin).post(roles_url(incident), {"role": "chef", "user_id": personas.admin.pk})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "role"
    assert not RoleAssignment.objects.exists()


def test_viewers_read_roles_but_cannot_assign_and_outsiders_do_not_see_the_incident(personas, api, incident):
    assert api(personas.viewer).get(roles_url(incident)).status_code == 200
    r = api(personas.viewer).post(roles_url(incident), {"role": "responder", "user_id": personas.responder.pk})
    assert r.status_code == 403
    assert api(personas.outsider).get(roles_url(incident)).status_code == 404
    r = api(personas.outsider).post(roles_url(incident), {"role": "responder", "user_id": personas.responder.pk})
    assert r.status_code == 404
    assert not RoleAssignment.objects.exists()


def test_the_database_allows_one_commander_at_a_time(personas, incident):
    RoleAssignment.objects.create(incident=incident, user=personas.admin, role="commander")
    with pytest.raises(IntegrityError):
        RoleAssignment.objects.create(incident=incident, user=personas.responder, role="commander")


def test_the_incident_list_shows_roles_without_a_query_per_incident(personas, api, django_assert_max_num_queries):
    client = api(personas.admin)
    for n in range(5):
        incident = actions.do_create_incident(personas.service, actor=None, title=f"Incident {n}", severity="sev3")
        actions.do_acknowledge_incident(incident, actor=personas.responder)
    with django_assert_max_num_queries(8):
        items = client.get("/api/v1/incidents").json()["items"]
    assert [i["roles"]["commander"]["name"] for i in items] == ["Rita Responder"] * 5
