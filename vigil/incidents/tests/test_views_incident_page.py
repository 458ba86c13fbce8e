import pytest

from vigil.incidents.actions import do_create_incident, do_resolve_incident
from vigil.incidents.models import Incident, TimelineEntry


@pytest.fixture
def incident(personas):
    return do_create_incident(personas.service, actor=personas.responder, title="Checkout returns 502", severity="sev2")


def kinds(incident):
    return list(TimelineEntry.objects.filter(incident=incident).values_list("kind", flat=True))


def test_it_shows_the_incident_with_its_timeline(personas, client, incident):
    client.force_login(personas.viewer)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Checkout returns 502" in html
    assert "Triggered" in html
    assert "Acme Shop" in html
    assert "Incident opened on Acme Shop" in html


def test_it_gives_outsiders_a_404(personas, client, incident):
    client.force_login(personas.outsider)
    assert client.get(f"/incidents/{incident.pk}/").status_code == 404
    assert client.post(f"/incidents/{incident.pk}/acknowledge/").status_code == 404
    assert Incident.objects.get(pk=incident.pk).status == "triggered"


def test_it_shows_viewers_no_buttons(personas, client, incident):
    client.force_login(personas.viewer)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f"/incidents/{incident.pk}/acknowledge/" not in html
    assert f"/incidents/{incident.pk}/notes/" not in html
    assert "you can follow this incident but not change it" in html


def test_a_viewer_cannot_acknowledge(personas, client, incident):
    client.force_login(personas.viewer)
    r = client.post(f"/incidents/{incident.pk}/acknowledge/")
    assert r.status_code == 403
    incident.refresh_from_db()
    assert incident.status == "triggered"
    assert incident.acknowledged_at is None
    assert kinds(incident) == ["created"]


def test_a_viewer_cannot_add_notes(personas, client, incident):
    client.force_login(personas.viewer)
    assert client.post(f"/incidents/{incident.pk}/notes/", {"body": "hi"}).status_code == 403
    assert kinds(incident) == ["created"]


def test_it_shows_responders_only_the_allowed_moves(personas, client, incident):
    client.force_login(personas.responder)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    for action in ["acknowledge", "mitigate", "resolve", "escalate"]:
        assert f"/incidents/{incident.pk}/{action}/" in html
    assert f"/incidents/{incident.pk}/reopen/" not in html

    do_resolve_incident(incident, actor=personas.responder)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f"/incidents/{incident.pk}/reopen/" in html
    for action in ["acknowledge", "mitigate", "resolve", "escalate"]:
        assert f"/incidents/{incident.pk}/{action}/" not in html


def test_a_responder_acknowledges_then_resolves_and_the_timeline_grows(personas, client, incident):
    client.force_login(personas.responder)
    r = client.post(f"/incidents/{incident.pk}/acknowledge/")
    assert r.status_code == 302 and r["Location"] == f"/incidents/{incident.pk}/"
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert incident.commander == personas.responder

    client.post(f"/incidents/{incident.pk}/resolve/")
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.resolved_at is not None
    assert kinds(incident) == ["created", "acknowledged", "role", "resolved"]

    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Resolved." in html  # the message
    assert html.index(">created<") < html.index(">acknowledged<") < html.index(">resolved<")


def test_a_move_the_status_no_longer_allows_shows_a_message(personas, client, incident):
    do_resolve_incident(incident, actor=personas.admin)
    client.force_login(personas.responder)
    r = client.post(f"/incidents/{incident.pk}/resolve/", follow=True)
    assert r.status_code == 200
    assert "Not done: cannot resolve an incident that is resolved." in r.content.decode()
    assert kinds(incident) == ["created", "resolved"]


def test_it_answers_404_to_unknown_actions_and_405_to_gets(personas, client, incident):
    client.force_login(personas.responder)
    assert client.post(f"/incidents/{incident.pk}/explode/").status_code == 404
    assert client.get(f"/incidents/{incident.pk}/acknowledge/").status_code == 405
    assert Incident.objects.get(pk=incident.pk).status == "triggered"


def test_a_responder_escalates_with_a_reason(personas, client, incident):
    client.force_login(personas.responder)
    client.post(f"/incidents/{incident.pk}/escalate/", {"reason": "need a DBA"})
    entry = TimelineEntry.objects.filter(incident=incident).last()
    assert (entry.kind, entry.body, entry.actor) == ("escalated", "need a DBA", personas.responder)


def test_a_responder_adds_a_note(personas, client, incident):
    client.force_login(personas.responder)
    client.post(f"/incidents/{incident.pk}/notes/", {"body": "Rolled back to v41"})
    entry = TimelineEntry.objects.filter(incident=incident).last()
    assert (entry.kind, entry.body) == ("note", "Rolled back to v41")
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Rolled back to v41" in html


def test_an_empty_note_adds_nothing(personas, client, incident):
    client.force_login(personas.responder)
    r = client.post(f"/incidents/{incident.pk}/notes/", {"body": ""}, follow=True)
    assert "The note is empty or too long." in r.content.decode()
    assert kinds(incident) == ["created"]


def test_a_responder_changes_the_severity(personas, client, incident):
    client.force_login(personas.responder)
    client.post(f"/incidents/{incident.pk}/impact/", {"severity": "sev1"})
    incident.refresh_from_db()
    assert incident.severity == "sev1"
    assert kinds(incident) == ["created", "updated"]
    assert client.post(f"/incidents/{incident.pk}/impact/", {"severity": "sev9"}).status_code == 302
    assert Incident.objects.get(pk=incident.pk).severity == "sev1"


def test_it_escapes_the_title_description_and_notes(personas, client):
    evil = "<script>alert(1)</script>"
    incident = do_create_incident(personas.service, actor=personas.responder, title=evil, severity="sev1",
                                  description=evil)
    client.force_login(personas.responder)
    client.post(f"/incidents/{incident.pk}/notes/", {"body": evil})
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert evil not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # <title>, heading, description, note


def test_the_live_part_polls_and_answers_htmx_with_the_timeline_only(personas, client, incident):
    client.force_login(personas.viewer)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f'hx-get="/incidents/{incident.pk}/"' in html
    partial = client.get(f"/incidents/{incident.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "Incident opened on Acme Shop" in partial
    assert "<html" not in partial and "incident-title" not in partial
