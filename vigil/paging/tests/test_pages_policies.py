"""Escalation policy pages: the list per team, a policy's levels and services, create and edit
for team admins."""

from vigil.oncall.actions import do_create_schedule
from vigil.oncall.models import EscalationPolicy


def levels_post(*levels, **fields):
    """The form's POST body: fields, then levels as (delay in minutes, [targets])."""
    data = {"name": "Nights", "repeat": 0, "level-TOTAL_FORMS": len(levels), "level-INITIAL_FORMS": 0, **fields}
    for i, (minutes, targets) in enumerate(levels):
        data[f"level-{i}-delay_minutes"] = minutes
        data[f"level-{i}-targets"] = targets
    return data


def test_a_team_admin_builds_a_two_level_policy_in_minutes(personas, client):
    schedule, _ = do_create_schedule(personas.team, actor=None, name="Primary", time_zone="Europe/London")
    client.force_login(personas.admin)
    r = client.post(f"/escalation-policies/new/{personas.team.slug}/", levels_post(
        (5, [f"user:{personas.responder.pk}", f"schedule:{schedule.pk}"]),
        (10, [f"user:{personas.admin.pk}", f"team:{personas.team.pk}"]),
        (5, []),  # left empty: dropped
        repeat=1,
    ))
    policy = EscalationPolicy.objects.get(name="Nights")
    assert r.status_code == 302 and r["Location"] == f"/escalation-policies/{policy.pk}/"
    assert policy.team == personas.team and policy.repeat == 1
    assert policy.levels == [
        {"delay_seconds": 300, "targets": [{"type": "user", "id": personas.responder.pk},
                                           {"type": "schedule", "id": schedule.pk}]},
        {"delay_seconds": 600, "targets": [{"type": "user", "id": personas.admin.pk},
                                           {"type": "team", "id": personas.team.pk}]},
    ]
    page = client.get(f"/escalation-policies/{policy.pk}/").content.decode()
    assert "Level 2 after 5 min without an acknowledgement" in page
    assert "Level 1 again after 10 min without an acknowledgement (1 more time)" in page
    assert f'<a href="/schedules/{schedule.pk}/">Primary</a>' in page and "now: nobody" in page
    assert "every responder of</span> <a href=\"/teams/ops/\">Ops</a>" in page


def test_editing_shows_the_levels_in_minutes_and_saves_the_changes(personas, client, policy):
    client.force_login(personas.admin)
    form = client.get(f"/escalation-policies/{policy.pk}/edit/").content.decode()
    assert 'name="level-0-delay_minutes" value="5"' in form
    assert f'value="user:{personas.responder.pk}" class="choices" id="id_level-0-targets_0_1" checked' in form \
        or f'value="user:{personas.responder.pk}" class="choices" id="id_level-0-targets_0_0" checked' in form
    r = client.post(f"/escalation-policies/{policy.pk}/edit/", levels_post(
        (2, [f"user:{personas.admin.pk}"]), (15, [f"user:{personas.responder.pk}"]), name="Default", repeat=2))
    assert r.status_code == 302
    policy.refresh_from_db()
    assert policy.repeat == 2
    assert [(lv["delay_seconds"], lv["targets"][0]["id"]) for lv in policy.levels] == [
        (120, personas.admin.pk), (900, personas.responder.pk)]


def test_add_a_level_shows_one_more_level_and_keeps_what_was_typed(personas, client):
    client.force_login(personas.admin)
    r = client.post(f"/escalation-policies/new/{personas.team.slug}/", {
        **levels_post((7, [f"user:{personas.responder.pk}"]), name="Half typed"), "add-level": "1"})
    page = r.content.decode()
    assert r.status_code == 200 and not EscalationPolicy.objects.exists()
    assert 'value="Half typed"' in page and 'name="level-0-delay_minutes" value="7"' in page
    assert "Level 2" in page and 'name="level-TOTAL_FORMS" value="2"' in page
    assert "errorlist" not in page


def test_a_target_from_another_team_is_a_field_error(personas, client):
    other_schedule, _ = do_create_schedule(personas.other_team, actor=None, name="Theirs", time_zone="UTC")
    client.force_login(personas.admin)
    for target in [f"user:{personas.outsider.pk}", f"user:{personas.viewer.pk}", f"schedule:{other_schedule.pk}",
                   "team:999999", "nonsense"]:
        r = client.post(f"/escalation-policies/new/{personas.team.slug}/", levels_post(
            (5, [f"user:{personas.responder.pk}"]), (5, [target])))
        page = r.content.decode()
        assert r.status_code == 200, target
        assert "cannot be paged by this team&#x27;s policy" in page, target
    assert not EscalationPolicy.objects.exists()


def test_a_policy_needs_someone_to_page(personas, client):
    client.force_login(personas.admin)
    r = client.post(f"/escalation-policies/new/{personas.team.slug}/", levels_post((5, [])))
    assert "Give at least one level someone to page." in r.content.decode()
    assert not EscalationPolicy.objects.exists()


def test_viewers_cannot_change_policies_and_other_teams_do_not_see_them(personas, client, policy):
    client.force_login(personas.viewer)
    assert client.get(f"/escalation-policies/{policy.pk}/").status_code == 200
    assert client.get(f"/escalation-policies/{policy.pk}/edit/").status_code == 403
    assert client.post(f"/escalation-policies/{policy.pk}/edit/", levels_post((1, []))).status_code == 403
    assert client.get(f"/escalation-policies/new/{personas.team.slug}/").status_code == 403
    assert client.post(f"/escalation-policies/{policy.pk}/delete/").status_code == 403
    client.force_login(personas.responder)
    assert client.get(f"/escalation-policies/{policy.pk}/edit/").status_code == 403
    assert "Edit policy" not in client.get(f"/escalation-policies/{policy.pk}/").content.decode()
    client.force_login(personas.outsider)
    assert client.get(f"/escalation-policies/{policy.pk}/").status_code == 404
    assert client.get(f"/escalation-policies/new/{personas.team.slug}/").status_code == 404
    assert client.post(f"/escalation-policies/{policy.pk}/delete/").status_code == 404
    assert "Default" not in client.get("/escalation-policies/").content.decode()
    assert EscalationPolicy.objects.filter(pk=policy.pk).exists()


def test_the_list_shows_each_team_its_policies_and_the_services_using_them(personas, client, policy):
    client.force_login(personas.admin)
    page = client.get("/escalation-policies/").content.decode()
    assert "Ops" in page and "Default" in page and "Used by Acme Shop" in page
    assert f'href="/escalation-policies/new/{personas.team.slug}/"' in page
    detail = client.get(f"/escalation-policies/{policy.pk}/").content.decode()
    assert 'href="/services/acme-shop/"' in detail


def test_deleting_a_policy_leaves_its_services_to_the_team_admins(personas, client, policy):
    client.force_login(personas.admin)
    r = client.post(f"/escalation-policies/{policy.pk}/delete/", follow=True)
    assert "1 service now pages the team&#x27;s admins." in r.content.decode()
    personas.service.refresh_from_db()
    assert personas.service.escalation_policy is None


def test_names_and_descriptions_typed_by_admins_stay_text(personas, client):
    client.force_login(personas.admin)
    client.post(f"/escalation-policies/new/{personas.team.slug}/", levels_post(
        (5, [f"user:{personas.responder.pk}"]), name="<b>Nights</b>", description="<script>alert(1)</script>"))
    policy = EscalationPolicy.objects.get()
    pages = client.get(f"/escalation-policies/{policy.pk}/").content.decode() + client.get("/escalation-policies/").content.decode()
    assert "<b>Nights</b>" not in pages and "<script>alert(1)" not in pages
    assert "&lt;b&gt;Nights&lt;/b&gt;" in pages and "&lt;script&gt;alert(1)&lt;/script&gt;" in pages
