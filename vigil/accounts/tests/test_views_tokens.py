import re

from vigil.accounts.models import ApiToken, hash_token


def test_it_creates_a_token_and_shows_it_once(personas, client):
    client.force_login(personas.responder)
    r = client.post("/account/tokens/", {"name": "deploy script"})
    html = r.content.decode()
    raw = re.search(r'<code id="raw-token" class="token">([^<]+)</code>', html).group(1)
    assert "it will not be shown again" in html
    assert "no-store" in r["Cache-Control"]
    token = ApiToken.objects.get(user=personas.responder)
    assert token.name == "deploy script"
    assert token.token_hash != raw and token.token_hash == hash_token(raw)
    assert raw not in client.get("/account/tokens/").content.decode()
    assert ApiToken.authenticate(raw) == personas.responder


def test_it_lists_only_the_users_tokens(personas, client):
    ApiToken.generate(personas.responder, "mine")
    ApiToken.generate(personas.viewer, "someone else's")
    client.force_login(personas.responder)
    html = client.get("/account/tokens/").content.decode()
    assert "mine" in html and "someone else" not in html


def test_it_revokes_a_token(personas, client):
    token, raw = ApiToken.generate(personas.responder, "old")
    client.force_login(personas.responder)
    r = client.post(f"/account/tokens/{token.pk}/revoke/")
    assert r.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ApiToken.authenticate(raw) is None
    assert "revoked" in client.get("/account/tokens/").content.decode()


def test_it_does_not_revoke_another_users_token(personas, client):
    token, raw = ApiToken.generate(personas.viewer, "theirs")
    client.force_login(personas.responder)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.authenticate(raw) == personas.viewer


def test_it_needs_a_name(personas, client):
    client.force_login(personas.responder)
    html = client.post("/account/tokens/", {"name": ""}).content.decode()
    assert "This field is required." in html
    assert not ApiToken.objects.exists()
