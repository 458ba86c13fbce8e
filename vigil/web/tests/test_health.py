from django.db import DatabaseError


def test_healthz_answers_while_the_process_runs(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readyz_answers_200_when_the_database_answers(client, db):
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_readyz_answers_503_when_the_database_does_not(client, db, monkeypatch):
    from django.db import connection

    def broken():
        raise DatabaseError("connection refused")

    with monkeypatch.context() as patched:
        patched.setattr(connection, "cursor", broken)
        r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["status"] == "unavailable"


def test_pages_carry_a_strict_content_security_policy(client):
    assert "script-src 'self'" in client.get("/healthz")["Content-Security-Policy"]
