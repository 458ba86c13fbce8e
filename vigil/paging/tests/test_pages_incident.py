"""The incident page's Paging section: who was paged, by what and why, where the escalation
stands, and asking chosen people or a team for help."""

from vigil.incidents.actions import do_acknowledge_incident, do_create_incident, do_resolve_incident
from vigil.paging import jobs
from vigil.paging.models import ContactMethod, Notification


def open_incident(personas, title="Disk full"):
    return do_create_incident(personas.service, actor=None, title=title, severity="sev2")


def test_the_incident_page_lists_the_pages_and_the_next_level(personas, client, policy, webhooks):
    incident = open_incident(personas)
    jobs.step_due_escalation()
    client.force_login(personas.viewer)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Escalation: <strong>Default</strong>" in page
    assert "Next: level 2" in page and "Ada Admin" in page
    row = page.split('<tr class="page-pending">')[1].split("</tr>")[0]
    assert "Rita Responder" in row and "Webhook" in row and "level 1" in row and "pending" in row
    # Viewers follow: no form to ask for help.
    assert 'id="ask-for-help"' not in page

    jobs.deliver_due_notification()
    status = client.get(f"/incidents/{incident.pk}/paging/").content.decode()
    assert '<tr class="page-sent">' in status and "sent" in status
    assert "<html" not in status


def test_a_failed_attempt_shows_its_error(personas, client, policy, webhooks):
    webhooks.status = 503
    incident = open_incident(personas)
    jobs.step_due_escalation()
    jobs.deliver_due_notification()
    client.force_login(personas.responder)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert '<span class="last-error">HTTP 503</span>' in page


def test_acknowledging_shows_the_escalation_stopped(personas, client, policy, webhooks):
    incident = open_incident(personas)
    jobs.step_due_escalation()
    do_acknowledge_incident(incident, actor=personas.responder)
    client.force_login(personas.responder)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Stopped at" in page and ": acknowledged." in page


def test_ask_for_help_pages_a_chosen_person_now(personas, client, policy, webhooks):
    incident = open_incident(personas)
    client.force_login(personas.responder)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'id="ask-for-help"' in page and "Ada Admin" in page
    r = client.post(f"/incidents/{incident.pk}/ask-for-help/", {"users": [personas.admin.pk], "reason": "need a DBA"})
    assert r.status_code == 302 and r["Location"] == f"/incidents/{incident.pk}/#paging"
    assert Notification.objects.filter(incident=incident, user=personas.admin,
                                       reason="asked for help by Rita Responder").exists()
    assert "need a DBA" in client.get(f"/incidents/{incident.pk}/").content.decode()


def test_ask_for_help_pages_a_whole_team(personas, client, policy, webhooks):
    ContactMethod.objects.create(user=personas.outsider, kind="webhook", address=webhooks.url)
    incident = open_incident(personas)
    client.force_login(personas.responder)
    client.post(f"/incidents/{incident.pk}/ask-for-help/", {"team": personas.other_team.pk})
    assert Notification.objects.filter(incident=incident, user=personas.outsider).exists()


def test_ask_for_help_with_nobody_chosen_pages_the_next_level(personas, client, policy, webhooks):
    incident = open_incident(personas)
    jobs.step_due_escalation()
    client.force_login(personas.responder)
    r = client.post(f"/incidents/{incident.pk}/ask-for-help/", {"reason": ""}, follow=True)
    assert "Paging the next level now." in r.content.decode()
    jobs.step_due_escalation()
    assert Notification.objects.filter(incident=incident, user=personas.admin, reason="level 2").exists()


def test_only_people_of_the_team_can_be_chosen(personas, client, policy, webhooks):
    ContactMethod.objects.create(user=personas.outsider, kind="webhook", address=webhooks.url)
    incident = open_incident(personas)
    client.force_login(personas.responder)
    r = client.post(f"/incidents/{incident.pk}/ask-for-help/", {"users": [personas.outsider.pk]}, follow=True)
    assert "Choose people of the team from the list, or a team." in r.content.decode()
    assert not Notification.objects.filter(user=personas.outsider).exists()


def test_viewers_and_other_teams_cannot_ask_for_help(personas, client, policy):
    incident = open_incident(personas)
    client.force_login(personas.viewer)
    assert client.post(f"/incidents/{incident.pk}/ask-for-help/", {}).status_code == 403
    client.force_login(personas.outsider)
    assert client.post(f"/incidents/{incident.pk}/ask-for-help/", {}).status_code == 404
    assert client.get(f"/incidents/{incident.pk}/paging/").status_code == 404
    assert not Notification.objects.filter(incident=incident).exists()


def test_a_resolved_incident_has_no_help_form_and_says_why_not(personas, client, policy):
    incident = open_incident(personas)
    do_resolve_incident(incident, actor=personas.responder)
    client.force_login(personas.responder)
    assert 'id="ask-for-help"' not in client.get(f"/incidents/{incident.pk}/").content.decode()
    r = client.post(f"/incidents/{incident.pk}/ask-for-help/", {"users": [personas.admin.pk]}, follow=True)
    assert "Not done: cannot escalate an incident that is resolved." in r.content.decode()


def test_names_typed_by_users_stay_text(personas, client, policy, webhooks):
    personas.admin.name = "<img src=x onerror=alert(1)>"
    personas.admin.save()
    ContactMethod.objects.filter(user=personas.responder).update(name="<b>pager</b>")
    incident = open_incident(personas, title="<script>alert(1)</script>")
    jobs.step_due_escalation()
    client.force_login(personas.responder)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "<img src=x" not in page and "<script>alert(1)" not in page and "<b>pager</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "(&lt;b&gt;pager&lt;/b&gt;)" in page
