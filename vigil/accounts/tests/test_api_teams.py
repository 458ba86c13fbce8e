from vigil.accounts.models import AuditEntry, Membership, Team, User


def test_a_user_sees_only_their_teams(personas, api):
    assert [t["name"] for t in api(personas.viewer).get("/api/v1/teams").json()["items"]] == ["Ops"]
    assert api(personas.viewer).get(f"/api/v1/teams/{personas.other_team.pk}").status_code == 404
    assert api(personas.viewer).get(f"/api/v1/teams/{personas.other_team.pk}/members").status_code == 404
    assert api(personas.site_admin).get("/api/v1/teams").json()["count"] == 2


def test_only_site_admins_create_teams(personas, api):
    assert api(personas.admin).post("/api/v1/teams", {"name": "New"}).status_code == 403
    r = api(personas.site_admin).post("/api/v1/teams", {"name": "Payments"})
    assert r.status_code == 201
    assert r.json()["slug"] == "payments"
    duplicate = api(personas.site_admin).post("/api/v1/teams", {"name": "payments"})
    assert duplicate.status_code == 422 and duplicate.json()["detail"][0]["field"] == "name"


def test_a_team_admin_adds_and_changes_members(personas, api):
    newcomer = User.objects.create_user("new@ops.test", name="Nina")
    client = api(personas.admin)
    r = client.post(f"/api/v1/teams/{personas.team.pk}/members", {"user_id": newcomer.pk, "role": "viewer"})
    assert r.status_code == 201, r.content
    assert r.json() == {"user_id": newcomer.pk, "name": "Nina", "email": "new@ops.test", "role": "viewer"}
    r = client.patch(f"/api/v1/teams/{personas.team.pk}/members/{newcomer.pk}", {"role": "responder"})
    assert r.json()["role"] == "responder"
    assert Membership.objects.get(user=newcomer, team=personas.team).role == "responder"
    assert client.delete(f"/api/v1/teams/{personas.team.pk}/members/{newcomer.pk}").status_code == 204
    assert not Membership.objects.filter(user=newcomer).exists()
    assert AuditEntry.objects.filter(action__startswith="membership.").count() == 3


def test_a_responder_cannot_manage_members(personas, api):
    r = api(personas.responder).post(f"/api/v1/teams/{personas.team.pk}/members", {"user_id": personas.outsider.pk})
    assert r.status_code == 403
    assert not Membership.objects.filter(user=personas.outsider, team=personas.team).exists()


def test_bad_member_input_names_the_field(personas, api):
    client = api(personas.admin)
    r = client.post(f"/api/v1/teams/{personas.team.pk}/members", {"user_id": personas.viewer.pk, "role": "boss"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "role"
    r = client.post(f"/api/v1/teams/{personas.team.pk}/members", {"user_id": personas.viewer.pk})
    assert r.status_code == 422 and "already" in r.json()["detail"][0]["msg"]
    r = client.post(f"/api/v1/teams/{personas.team.pk}/members", {"user_id": 987654})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "user_id"


def test_users_are_listed_within_shared_teams(personas, api):
    emails = {u["email"] for u in api(personas.viewer).get("/api/v1/users").json()["items"]}
    assert emails == {"admin@ops.test", "responder@ops.test", "viewer@ops.test"}
    assert api(personas.viewer).get(f"/api/v1/users/{personas.outsider.pk}").status_code == 404


def test_team_admins_create_users_and_only_site_admins_create_site_admins(personas, api):
    r = api(personas.admin).post("/api/v1/users", {"email": "Zoe@Ops.test", "name": "Zoe", "time_zone": "Europe/Paris"})
    assert r.status_code == 201
    assert r.json()["email"] == "zoe@ops.test" and r.json()["time_zone"] == "Europe/Paris"
    assert api(personas.admin).post("/api/v1/users", {"email": "x@ops.test", "is_admin": True}).status_code == 403
    assert api(personas.responder).post("/api/v1/users", {"email": "y@ops.test"}).status_code == 403


def test_user_creation_validates_every_field(personas, api):
    client = api(personas.site_admin)
    for body, field in [({"email": "not-an-email"}, "email"), ({"email": "admin@ops.test"}, "email"),
                        ({"email": "a@b.test", "time_zone": "Mars/Olympus"}, "time_zone"),
                        ({"email": "a@b.test", "password": "123"}, "password")]:
        r = client.post("/api/v1/users", body)
        assert r.status_code == 422, body
        assert r.json()["detail"][0]["field"] == field
    assert User.objects.count() == 5


def test_a_new_team_can_be_made_by_the_cli_user_without_membership(personas):
    from vigil.accounts.actions import do_create_team
    team = do_create_team("Night shift", actor=personas.admin)
    assert Membership.objects.get(team=team).user == personas.admin
    assert Membership.objects.get(team=team).role == "admin"
    assert Team.objects.get(pk=team.pk).slug == "night-shift"


def test_a_team_keeps_at_least_one_admin(personas, api):
    client = api(personas.admin)
    r = client.patch(f"/api/v1/teams/{personas.team.pk}/members/{personas.admin.pk}", {"role": "viewer"})
    assert r.status_code == 409 and "admin" in r.json()["detail"]
    assert client.delete(f"/api/v1/teams/{personas.team.pk}/members/{personas.admin.pk}").status_code == 409
    assert Membership.objects.get(user=personas.admin, team=personas.team).role == "admin"
    client.patch(f"/api/v1/teams/{personas.team.pk}/members/{personas.responder.pk}", {"role": "admin"})
    assert client.delete(f"/api/v1/teams/{personas.team.pk}/members/{personas.admin.pk}").status_code == 204
