from vigil.incidents.actions import do_create_incident
from vigil.oncall.models import EscalationPolicy
from vigil.paging import jobs
from vigil.paging.models import ContactMethod, Notification, NotificationRule


def test_a_user_adds_a_webhook_sees_its_secret_once_and_tests_it(personas, client, receiver):
    client.force_login(personas.responder)
    r = client.post("/account/contact/", {"add-method": "1", "kind": "webhook", "name": "pager", "address": receiver.url})
    method = ContactMethod.objects.get(user=personas.responder)
    assert method.signing_secret.encode() in r.content
    assert method.signing_secret.encode() not in client.get("/account/contact/").content
    client.post(f"/account/contact/{method.pk}/test/")
    assert receiver.requests[0]["json"]["event"] == "test"


def test_a_bad_address_is_a_field_error_and_adds_nothing(personas, client):
    client.force_login(personas.responder)
    for kind, address in [("email", "not-an-address"), ("webhook", "ftp://x"), ("apprise", "nosuchservice://x")]:
        r = client.post("/account/contact/", {"add-method": "1", "kind": kind, "address": address})
        assert r.status_code == 200 and b"errorlist" in r.content, kind
    assert not ContactMethod.objects.exists()


def test_rules_are_set_in_minutes_and_kept_in_seconds(personas, client):
    method = ContactMethod.objects.create(user=personas.responder, kind="email", address="r@ops.test")
    client.force_login(personas.responder)
    client.post("/account/contact/", {"add-rule": "1", "contact_method": method.pk, "delay_minutes": 2})
    assert NotificationRule.objects.get().delay_seconds == 120
    assert b"After 2 min" in client.get("/account/contact/").content


def test_nobody_can_test_or_remove_someone_elses_method(personas, client):
    method = ContactMethod.objects.create(user=personas.admin, kind="email", address="a@ops.test")
    client.force_login(personas.responder)
    assert client.post(f"/account/contact/{method.pk}/test/").status_code == 404
    assert client.post(f"/account/contact/{method.pk}/delete/").status_code == 404
    assert ContactMethod.objects.filter(pk=method.pk).exists()


def test_a_team_admin_builds_a_two_level_policy(personas, client):
    client.force_login(personas.admin)
    r = client.post(f"/escalation-policies/new/{personas.team.slug}/", {
        "name": "Nights", "repeat": 1,
        "level-TOTAL_FORMS": 3, "level-INITIAL_FORMS": 0,
        "level-0-delay_minutes": 5, "level-0-targets": [f"user:{personas.responder.pk}"],
        "level-1-delay_minutes": 10, "level-1-targets": [f"user:{personas.admin.pk}", f"team:{personas.team.pk}"],
        "level-2-delay_minutes": 5,
    })
    policy = EscalationPolicy.objects.get(name="Nights")
    assert r.status_code == 302
    assert policy.repeat == 1
    assert policy.levels == [
        {"delay_seconds": 300, "targets": [{"type": "user", "id": personas.responder.pk}]},
        {"delay_seconds": 600, "targets": [{"type": "user", "id": personas.admin.pk}, {"type": "team", "id": personas.team.pk}]},
    ]
    page = client.get(f"/escalation-policies/{policy.pk}/").content.decode()
    assert "Level 2" in page and "team Ops" in page


def test_a_level_cannot_page_someone_outside_the_team(personas, client):
    client.force_login(personas.admin)
    r = client.post(f"/escalation-policies/new/{personas.team.slug}/", {
        "name": "Sneaky", "repeat": 0, "level-TOTAL_FORMS": 1, "level-INITIAL_FORMS": 0,
        "level-0-delay_minutes": 5, "level-0-targets": [f"user:{personas.outsider.pk}"],
    })
    assert r.status_code == 200 and b"errorlist" in r.content
    assert not EscalationPolicy.objects.filter(name="Sneaky").exists()


def test_viewers_and_other_teams_cannot_edit_policies(personas, client, policy):
    client.force_login(personas.viewer)
    assert client.get(f"/escalation-policies/{policy.pk}/edit/").status_code == 403
    assert client.get(f"/escalation-policies/new/{personas.team.slug}/").status_code == 403
    client.force_login(personas.outsider)
    assert client.get(f"/escalation-policies/{policy.pk}/").status_code == 404
    assert client.get(f"/escalation-policies/new/{personas.team.slug}/").status_code == 404


def test_the_incident_page_shows_who_was_paged_and_asks_a_chosen_person_for_help(personas, client, policy, webhooks):
    incident = do_create_incident(personas.service, actor=None, title="Disk <b>full</b>", severity="sev2")
    jobs.step_due_escalation()
    client.force_login(personas.responder)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Paging" in page and "Rita Responder" in page and "level 1" in page
    assert "Disk &lt;b&gt;full&lt;/b&gt;" in page
    client.post(f"/incidents/{incident.pk}/ask-for-help/", {"users": [personas.admin.pk], "reason": "need a DBA"})
    assert Notification.objects.filter(incident=incident, user=personas.admin,
                                       reason="asked for help by Rita Responder").exists()
    client.force_login(personas.viewer)
    assert client.post(f"/incidents/{incident.pk}/ask-for-help/", {}).status_code == 403


def test_a_responder_asks_a_whole_team_for_help_from_the_incident_page(personas, client, policy, webhooks):
    from vigil.accounts.models import Membership
    from vigil.paging.models import ContactMethod

    helper = personas.outsider
    ContactMethod.objects.create(user=helper, kind="webhook", address=webhooks.url)
    incident = do_create_incident(personas.service, actor=None, title="Disk full", severity="sev2")
    client.force_login(personas.responder)
    assert b"Or a whole team" in client.get(f"/incidents/{incident.pk}/").content
    client.post(f"/incidents/{incident.pk}/ask-for-help/", {"team": personas.other_team.pk})
    assert Membership.objects.get(user=helper).team == personas.other_team
    assert Notification.objects.filter(incident=incident, user=helper).exists()
