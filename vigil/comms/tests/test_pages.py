"""The pages: a service's stakeholders and settings, and the incident page's update panel."""

from vigil.comms.models import DEFAULT_TEMPLATES, CommsSettings, Message, Stakeholder, StakeholderUpdate

EVIL = "<script>alert(1)</script>"


def test_a_responder_adds_and_removes_a_stakeholder(personas, client):
    client.force_login(personas.responder)
    page = f"/services/{personas.service.slug}/stakeholders/"
    r = client.post(page, {"add": "1", "name": EVIL, "group": "client", "kind": "email", "address": "bea@client.test"})
    assert r.status_code == 302
    stakeholder = Stakeholder.objects.get()
    html = client.get(page).content.decode()
    assert EVIL not in html and "&lt;script&gt;" in html and "bea@client.test" in html
    r = client.post(page, {"add": "1", "name": "Again", "group": "client", "kind": "email", "address": "bea@client.test"})
    assert "Already a stakeholder of this service." in r.content.decode()
    client.post(f"{page}{stakeholder.pk}/delete/")
    assert not Stakeholder.objects.exists()


def test_viewers_see_but_cannot_change_and_outsiders_get_a_404(personas, client):
    page = f"/services/{personas.service.slug}/stakeholders/"
    client.force_login(personas.viewer)
    assert client.get(page).status_code == 200
    assert client.post(page, {"add": "1", "name": "V", "group": "client", "kind": "email", "address": "v@x.test"}).status_code == 403
    client.force_login(personas.outsider)
    assert client.get(page).status_code == 404
    assert not Stakeholder.objects.exists()


def test_reminder_minutes_and_templates_are_saved_from_the_page(personas, client):
    client.force_login(personas.responder)
    page = f"/services/{personas.service.slug}/stakeholders/"
    form = {"save-settings": "1", "minutes_sev1": "15", "minutes_sev2": "45", "minutes_sev3": "0", "minutes_sev4": "0",
            "template_investigating": "Looking at $title.", "template_identified": "",
            "template_monitoring": DEFAULT_TEMPLATES["monitoring"].replace("\n", "\r\n"),
            "template_resolved": ""}
    assert client.post(page, form).status_code == 302
    comms = CommsSettings.objects.get(service=personas.service)
    assert comms.all_minutes() == {"sev1": 15, "sev2": 45, "sev3": 0, "sev4": 0}
    assert comms.templates == {"investigating": "Looking at $title."}


def test_the_incident_page_posts_an_update_from_the_drafted_template(personas, client):
    from vigil.incidents.actions import do_create_incident

    Stakeholder.objects.create(service=personas.service, name="Bea", address="bea@client.test")
    incident = do_create_incident(personas.service, actor=personas.responder, title="Checkout returns 502", severity="sev2")
    client.force_login(personas.responder)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "We are investigating a problem with Acme Shop: Checkout returns 502." in html
    draft = client.get(f"/incidents/{incident.pk}/updates/draft/", {"update-status": "monitoring"}, headers={"HX-Request": "true"})
    assert "A fix for the problem with Acme Shop (Checkout returns 502) is in place" in draft.content.decode()
    r = client.post(f"/incidents/{incident.pk}/updates/", {"update-status": "identified", "update-body": "Found the bad deploy."})
    assert r.status_code == 302 and r["Location"].endswith("#updates")
    update = StakeholderUpdate.objects.get()
    assert (update.status, update.body, update.posted_by) == ("identified", "Found the bad deploy.", personas.responder)
    assert list(Message.objects.values_list("address", flat=True)) == ["bea@client.test"]
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Bea: pending" in html


def test_a_viewer_cannot_post_an_update(personas, client):
    from vigil.incidents.actions import do_create_incident

    incident = do_create_incident(personas.service, actor=personas.responder, title="Down", severity="sev2")
    client.force_login(personas.viewer)
    assert client.post(f"/incidents/{incident.pk}/updates/", {"update-status": "identified", "update-body": "x"}).status_code == 403
    assert not StakeholderUpdate.objects.exists()
