import io

import time_machine
from django.core.management import call_command
from django.utils import timezone

from vigil.accounts.models import ApiToken, hash_token


def test_a_token_is_stored_only_as_a_hash(personas):
    token, raw = ApiToken.generate(personas.responder, "laptop")
    assert raw.startswith("vgl_") and len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == hash_token(raw) != raw
    assert raw not in str(ApiToken.objects.values().get(pk=token.pk))


def test_the_api_creates_a_token_once_and_lists_it_without_the_secret(personas, api):
    client = api(personas.responder)
    r = client.post("/api/v1/tokens", {"name": "ci"})
    assert r.status_code == 201
    raw = r.json()["token"]
    listed = client.get("/api/v1/tokens").json()["items"]
    assert {t["name"] for t in listed} == {"test", "ci"}
    assert all("token" not in t for t in listed)
    other = api()
    other.headers["Authorization"] = f"Bearer {raw}"
    assert other.get("/api/v1/users/me").json()["email"] == "responder@ops.test"


def test_a_revoked_token_no_longer_authenticates(personas, api):
    token, raw = ApiToken.generate(personas.responder, "old")
    client = api()
    client.headers["Authorization"] = f"Bearer {raw}"
    assert client.get("/api/v1/incidents").status_code == 200
    r = client.post(f"/api/v1/tokens/{token.pk}/revoke")
    assert r.status_code == 200 and r.json()["revoked_at"] is not None
    assert client.get("/api/v1/incidents").status_code == 401


def test_a_user_cannot_revoke_someone_elses_token(personas, api):
    token, _ = ApiToken.generate(personas.admin, "admin's")
    assert api(personas.responder).post(f"/api/v1/tokens/{token.pk}/revoke").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


def test_a_deactivated_users_token_is_refused(personas, api):
    client = api(personas.responder)
    personas.responder.is_active = False
    personas.responder.save()
    assert client.get("/api/v1/incidents").status_code == 401


def test_it_records_the_last_use_at_most_once_a_minute(personas, api):
    token, raw = ApiToken.generate(personas.responder, "t")
    client = api()
    client.headers["Authorization"] = f"Bearer {raw}"
    with time_machine.travel("2026-11-26 10:00:00Z", tick=False):
        client.get("/api/v1/users/me")
        assert ApiToken.objects.get(pk=token.pk).last_used_at == timezone.now()
    with time_machine.travel("2026-11-26 10:00:30Z", tick=False):
        client.get("/api/v1/users/me")
        assert ApiToken.objects.get(pk=token.pk).last_used_at.second == 0
    with time_machine.travel("2026-11-26 10:02:00Z", tick=False):
        client.get("/api/v1/users/me")
        assert ApiToken.objects.get(pk=token.pk).last_used_at == timezone.now()


def test_the_cli_prints_a_new_token_alone_on_the_last_line(personas, api):
    out = io.StringIO()
    call_command("token", "create", "--user", "responder@ops.test", "--name", "cli", stdout=out, stderr=io.StringIO())
    raw = out.getvalue().strip().splitlines()[-1]
    assert ApiToken.objects.filter(token_hash=hash_token(raw), name="cli", user=personas.responder).exists()
    client = api()
    client.headers["Authorization"] = f"Bearer {raw}"
    assert client.get("/api/v1/incidents").status_code == 200
