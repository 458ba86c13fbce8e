"""The incident page's workspace: roles, quick actions for containment and fixes, severity and impact."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from vigil.incidents.actions import do_create_incident
from vigil.incidents.models import Incident, RoleAssignment, TimelineEntry

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def incident(personas):
    return do_create_incident(personas.service, actor=personas.responder, title="Checkout returns 502", severity="sev2")


def test_a_responder_assigns_a_commander_and_then_leaves(personas, client, incident):
    client.force_login(personas.responder)
    r = client.post(f"/incidents/{incident.pk}/roles/", {"role": "commander", "user": personas.responder.pk})
    assert r.status_code == 302
    assignment = RoleAssignment.objects.get(incident=incident, ended_at=None)
    assert (assignment.user, assignment.role) == (personas.responder, "commander")
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert '<dd id="incident-commander">Rita Responder</dd>' in html
    client.post(f"/incidents/{incident.pk}/roles/{assignment.pk}/leave/")
    assert Incident.objects.get(pk=incident.pk).commander is None
    assert list(incident.timeline.filter(kind="role").values_list("body", flat=True)) == [
        "Rita Responder is incident commander", "Rita Responder left the incident commander role"]


def test_roles_go_only_to_the_teams_responders(personas, client, incident):
    client.force_login(personas.responder)
    client.post(f"/incidents/{incident.pk}/roles/", {"role": "commander", "user": personas.outsider.pk})
    client.post(f"/incidents/{incident.pk}/roles/", {"role": "commander", "user": personas.viewer.pk})
    assert not RoleAssignment.objects.exists()
    client.force_login(personas.viewer)
    assert client.post(f"/incidents/{incident.pk}/roles/", {"role": "commander", "user": personas.viewer.pk}).status_code == 403


def test_the_rollback_quick_action_logs_a_structured_entry_and_escapes_it(personas, client, incident):
    client.force_login(personas.responder)
    r = client.post(f"/incidents/{incident.pk}/fixes/rollback/", {
        "rollback-change": EVIL, "rollback-target": "checkout-api", "rollback-from_": "v1.4.2", "rollback-to": "v1.4.1",
        "rollback-command": "kubectl rollout undo deploy/checkout-api", "rollback-link": "https://ci.example.com/p/1",
        "rollback-outcome": "succeeded"})
    assert r.status_code == 302
    entry = TimelineEntry.objects.get(incident=incident, kind="fix")
    assert entry.data["from"] == "v1.4.2" and entry.data["to"] == "v1.4.1" and entry.data["change"] == EVIL
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert EVIL not in html and "Rolled back &lt;script&gt;alert(1)&lt;/script&gt; on checkout-api" in html
    assert "kubectl rollout undo deploy/checkout-api</pre>" in html


def test_a_quick_action_missing_what_it_needs_logs_nothing(personas, client, incident):
    client.force_login(personas.responder)
    r = client.post(f"/incidents/{incident.pk}/fixes/rollback/", {"rollback-change": "deploy 1", "rollback-outcome": "succeeded"},
                    follow=True)
    assert "Not logged." in r.content.decode()
    assert not incident.timeline.filter(kind="fix").exists()
    assert client.post(f"/incidents/{incident.pk}/fixes/pray/", {}).status_code == 404


def test_severity_and_impact_are_saved_in_the_users_time_zone(personas, client, incident):
    personas.responder.time_zone = "Europe/Berlin"
    personas.responder.save()
    client.force_login(personas.responder)
    r = client.post(f"/incidents/{incident.pk}/impact/", {
        "severity": "sev1", "impact": "Payments fail", "impact_started_at": "2026-01-10T09:30",
        "affected_services": [personas.service.pk], "affected_components": "checkout API, payments"})
    assert r.status_code == 302
    incident.refresh_from_db()
    assert incident.severity == "sev1" and incident.impact == "Payments fail"
    assert incident.impact_started_at == datetime(2026, 1, 10, 8, 30, tzinfo=ZoneInfo("UTC"))
    assert incident.affected_components == ["checkout API", "payments"]
    assert list(incident.affected_services.all()) == [personas.service]
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'value="2026-01-10T09:30"' in html


def test_impact_cannot_start_in_the_future(personas, client, incident):
    client.force_login(personas.responder)
    r = client.post(f"/incidents/{incident.pk}/impact/", {"severity": "sev2", "impact_started_at": "2999-01-01T00:00"}, follow=True)
    assert "Impact cannot start in the future." in r.content.decode()
    assert Incident.objects.get(pk=incident.pk).impact_started_at is None


def test_a_site_admin_who_is_not_a_member_can_take_command(personas, client, incident):
    client.force_login(personas.site_admin)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert ">Sam Site</option>" in html and ">Oscar Outsider</option>" not in html
    client.post(f"/incidents/{incident.pk}/roles/", {"role": "commander", "user": personas.site_admin.pk})
    assert Incident.objects.get(pk=incident.pk).commander == personas.site_admin
