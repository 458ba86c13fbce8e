from vigil.accounts.models import Membership, Role, Team, User


def test_it_lists_only_the_users_teams(personas, client):
    client.force_login(personas.viewer)
    html = client.get("/teams/").content.decode()
    assert "Ops" in html and "Other" not in html


def test_it_shows_members_and_roles(personas, client):
    client.force_login(personas.viewer)
    html = client.get("/teams/ops/").content.decode()
    for person in ["Ada Admin", "Rita Responder", "Victor Viewer"]:
        assert person in html
    assert "Oscar Outsider" not in html
    assert "/teams/ops/members/" not in html  # viewers manage nothing


def test_it_gives_outsiders_a_404(personas, client):
    client.force_login(personas.outsider)
    assert client.get("/teams/ops/").status_code == 404
    assert client.post("/teams/ops/members/", {"email": "outsider@other.test", "role": "admin"}).status_code == 404
    assert not Membership.objects.filter(team=personas.team, user=personas.outsider).exists()


def test_a_team_admin_adds_an_existing_user_by_email(personas, client):
    newcomer = User.objects.create_user("new@ops.test", name="Nina New")
    client.force_login(personas.admin)
    r = client.post("/teams/ops/members/", {"email": "NEW@ops.test", "role": "viewer"})
    assert r.status_code == 302
    assert Membership.objects.get(team=personas.team, user=newcomer).role == Role.VIEWER


def test_it_names_an_unknown_email_and_a_member_already_there(personas, client):
    client.force_login(personas.admin)
    html = client.post("/teams/ops/members/", {"email": "nobody@ops.test", "role": "viewer"}).content.decode()
    assert "No one has an account with this email." in html
    html = client.post("/teams/ops/members/", {"email": "viewer@ops.test", "role": "admin"}).content.decode()
    assert "Already a member of this team." in html
    assert Membership.objects.get(team=personas.team, user=personas.viewer).role == Role.VIEWER


def test_a_responder_cannot_add_members(personas, client):
    newcomer = User.objects.create_user("new@ops.test")
    client.force_login(personas.responder)
    r = client.post("/teams/ops/members/", {"email": "new@ops.test", "role": "admin"})
    assert r.status_code == 403
    assert not Membership.objects.filter(user=newcomer).exists()


def test_a_team_admin_changes_a_role(personas, client):
    client.force_login(personas.admin)
    client.post(f"/teams/ops/members/{personas.viewer.pk}/role/", {"role": "responder"})
    assert Membership.objects.get(team=personas.team, user=personas.viewer).role == Role.RESPONDER


def test_a_responder_cannot_change_roles(personas, client):
    client.force_login(personas.responder)
    r = client.post(f"/teams/ops/members/{personas.responder.pk}/role/", {"role": "admin"})
    assert r.status_code == 403
    assert Membership.objects.get(team=personas.team, user=personas.responder).role == Role.RESPONDER


def test_a_team_admin_removes_a_member(personas, client):
    client.force_login(personas.admin)
    client.post(f"/teams/ops/members/{personas.viewer.pk}/remove/")
    assert not Membership.objects.filter(team=personas.team, user=personas.viewer).exists()


def test_a_viewer_cannot_remove_members(personas, client):
    client.force_login(personas.viewer)
    assert client.post(f"/teams/ops/members/{personas.responder.pk}/remove/").status_code == 403
    assert Membership.objects.filter(team=personas.team, user=personas.responder).exists()


def test_the_last_admin_stays(personas, client):
    client.force_login(personas.admin)
    r = client.post(f"/teams/ops/members/{personas.admin.pk}/remove/", follow=True)
    assert "A team needs at least one admin" in r.content.decode()
    client.post(f"/teams/ops/members/{personas.admin.pk}/role/", {"role": "viewer"})
    assert Membership.objects.get(team=personas.team, user=personas.admin).role == Role.ADMIN


def test_a_site_admin_creates_a_team_and_others_cannot(personas, client):
    client.force_login(personas.admin)
    assert client.post("/teams/", {"name": "Night shift"}).status_code == 403
    client.force_login(personas.site_admin)
    r = client.post("/teams/", {"name": "Night shift"})
    assert r.status_code == 302 and r["Location"] == "/teams/night-shift/"
    assert Team.objects.filter(name="Night shift").exists()
    assert "A team with this name exists." in client.post("/teams/", {"name": "night SHIFT"}).content.decode()


def test_it_escapes_member_names(personas, client):
    User.objects.filter(pk=personas.viewer.pk).update(name="<script>alert(1)</script>")
    client.force_login(personas.admin)
    html = client.get("/teams/ops/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
