"""/api/v1/monitors: create, list, read, change, pause, resume, delete; history and stats."""

from datetime import timedelta

import pytest
from django.utils import timezone

from vigil.accounts.models import AuditEntry
from vigil.monitors.models import CheckResult, Monitor

BODY = {"name": "Shop", "kind": "http", "target": "https://shop.example.com/healthz", "interval_seconds": 30,
        "timeout_seconds": 10}


@pytest.fixture
def created(personas, api):
    r = api(personas.responder).post("/api/v1/monitors", {**BODY, "service_id": personas.service.pk})
    assert r.status_code == 201, r.content
    return r.json()


def test_a_responder_creates_a_monitor_due_at_once(personas, created):
    assert created["id"] and created["service_id"] == personas.service.pk
    assert (created["kind"], created["target"], created["interval_seconds"]) == ("http", BODY["target"], 30)
    assert (created["retries"], created["expected_status"], created["severity"]) == (1, "200-299", "sev2")
    assert (created["status"], created["state"], created["paused"]) == ("unknown", "unknown", False)
    assert created["url"] == f"http://127.0.0.1:8000/monitors/{created['id']}/"
    assert created["dedup_key"] == f"monitor:{created['id']}"
    monitor = Monitor.objects.get()
    assert monitor.next_due_at <= timezone.now()
    assert AuditEntry.objects.filter(action="monitor.create", object_id=str(monitor.pk)).exists()


def test_every_kind_and_option_can_be_set(personas, api):
    client = api(personas.admin)
    for body in [
        {"name": "API", "kind": "http", "target": "http://api.example.com/v1/ping", "method": "POST",
         "headers": {"Authorization": "Bearer x"}, "body": "{}", "expected_status": "200, 204", "keyword": "pong",
         "keyword_mode": "present", "max_latency_ms": 800, "follow_redirects": False, "verify_tls": False,
         "tls_expiry_days": 30, "retries": 2, "retry_interval_seconds": 15, "recovery_checks": 2, "severity": "sev1"},
        {"name": "DB port", "kind": "tcp", "target": "db.example.com:5432"},
        {"name": "DNS", "kind": "dns", "target": "example.com", "record_type": "MX", "expected_answer": "mx.example.com",
         "nameserver": "1.1.1.1"},
        {"name": "Ping", "kind": "ping", "target": "example.com"},
    ]:
        r = client.post("/api/v1/monitors", {**body, "service_id": personas.service.pk})
        assert r.status_code == 201, r.content
        for key, value in body.items():
            assert r.json()[key] == value, key


@pytest.mark.parametrize("body, field", [
    ({"kind": "http", "target": "ftp://example.com"}, "target"),
    ({"kind": "http", "target": "https://"}, "target"),
    ({"kind": "tcp", "target": "db.example.com"}, "target"),
    ({"kind": "tcp", "target": "db.example.com:70000"}, "target"),
    ({"kind": "dns", "target": "not a name"}, "target"),
    ({"kind": "smtp"}, "kind"),
    ({"interval_seconds": 5}, "interval_seconds"),
    ({"timeout_seconds": 40, "interval_seconds": 30}, "timeout_seconds"),
    ({"expected_status": "2xx,7"}, "expected_status"),
    ({"method": "BREW"}, "method"),
    ({"headers": {"Bad Name": "x"}}, "headers"),
    ({"nameserver": "dns.google"}, "nameserver"),
    ({"retries": 11}, "retries"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_settings_are_refused_naming_the_field_and_change_nothing(personas, api, body, field):
    r = api(personas.admin).post("/api/v1/monitors", {**BODY, "service_id": personas.service.pk, **body})
    assert r.status_code == 422, r.content
    assert field in [d["field"] for d in r.json()["detail"]]
    assert not Monitor.objects.exists()


def test_private_targets_are_refused_when_configured(personas, api, settings):
    settings.MONITOR_ALLOW_PRIVATE = False
    client = api(personas.admin)
    for target in ("http://127.0.0.1:8000/healthz", "http://localhost/", "http://[::1]/", "http://10.0.0.5/"):
        r = client.post("/api/v1/monitors", {**BODY, "target": target, "service_id": personas.service.pk})
        assert r.status_code == 422
        assert "private" in r.json()["detail"][0]["msg"]
    r = client.post("/api/v1/monitors", {**BODY, "kind": "tcp", "target": "192.168.1.1:22",
                                         "service_id": personas.service.pk})
    assert r.status_code == 422


def test_names_are_unique_per_service(personas, api, created):
    r = api(personas.admin).post("/api/v1/monitors", {**BODY, "service_id": personas.service.pk})
    assert r.status_code == 422
    assert r.json()["detail"][0]["field"] == "name"


def test_team_boundaries_and_roles(personas, api, created):
    path = f"/api/v1/monitors/{created['id']}"
    assert api().get(path).status_code == 401
    assert api(personas.outsider).get(path).status_code == 404
    assert api(personas.outsider).get("/api/v1/monitors").json()["count"] == 0
    assert api(personas.viewer).get(path).status_code == 200
    assert api(personas.viewer).patch(path, {"interval_seconds": 60}).status_code == 403
    assert api(personas.viewer).post(path + "/pause").status_code == 403
    assert api(personas.viewer).delete(path).status_code == 403
    r = api(personas.viewer).post("/api/v1/monitors", {**BODY, "name": "Other", "service_id": personas.service.pk})
    assert r.status_code == 403
    r = api(personas.outsider).post("/api/v1/monitors", {**BODY, "service_id": personas.service.pk})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "service_id"


def test_list_filters_and_pages(personas, api, created):
    client = api(personas.admin)
    client.post("/api/v1/monitors", {**BODY, "name": "Port", "kind": "tcp", "target": "db.example.com:5432",
                                     "service_id": personas.service.pk})
    assert client.get("/api/v1/monitors").json()["count"] == 2
    assert [m["name"] for m in client.get("/api/v1/monitors", kind="tcp").json()["items"]] == ["Port"]
    assert client.get("/api/v1/monitors", service_id=personas.other_service.pk).json()["count"] == 0
    assert client.get("/api/v1/monitors", limit=1).json() == {"items": [client.get("/api/v1/monitors").json()["items"][0]],
                                                               "count": 2}


def test_patch_changes_settings_and_checks_again_at_once(personas, api, created):
    Monitor.objects.update(next_due_at=timezone.now() + timedelta(seconds=25))
    r = api(personas.responder).patch(f"/api/v1/monitors/{created['id']}", {"keyword": "ok", "max_latency_ms": 500})
    assert r.status_code == 200, r.content
    assert (r.json()["keyword"], r.json()["max_latency_ms"]) == ("ok", 500)
    assert Monitor.objects.get().next_due_at <= timezone.now()
    r = api(personas.responder).patch(f"/api/v1/monitors/{created['id']}", {"max_latency_ms": None})
    assert r.json()["max_latency_ms"] is None
    r = api(personas.responder).patch(f"/api/v1/monitors/{created['id']}", {"kind": "tcp"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "target"
    r = api(personas.responder).patch(f"/api/v1/monitors/{created['id']}", {"interval_seconds": None})
    assert r.status_code == 422
    assert Monitor.objects.get().kind == "http"


def test_pause_resume_and_delete(personas, api, created):
    client = api(personas.responder)
    path = f"/api/v1/monitors/{created['id']}"
    r = client.post(path + "/pause")
    assert r.status_code == 200 and r.json()["paused"] and r.json()["state"] == "paused"
    assert r.json()["next_due_at"] is None
    assert client.post(path + "/pause").status_code == 200  # idempotent
    r = client.post(path + "/resume")
    assert r.status_code == 200 and not r.json()["paused"] and r.json()["next_due_at"]
    assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404


def test_history_and_stats(personas, api, created):
    now = timezone.now()
    monitor = Monitor.objects.get()
    CheckResult.objects.bulk_create([
        CheckResult(monitor=monitor, at=now - timedelta(minutes=m), ok=m % 10 != 0, latency_ms=None if m % 10 == 0 else 100 + m,
                    status_code=200 if m % 10 else None, error="" if m % 10 else "connection failed: connection refused")
        for m in range(1, 61)])
    client = api(personas.viewer)
    r = client.get(f"/api/v1/monitors/{monitor.pk}/results", limit=5)
    body = r.json()
    assert body["count"] == 60 and [i["latency_ms"] for i in body["items"]] == [101, 102, 103, 104, 105]
    failed = client.get(f"/api/v1/monitors/{monitor.pk}/results", ok="false").json()
    assert failed["count"] == 6 and failed["items"][0]["error"] == "connection failed: connection refused"
    stats = client.get(f"/api/v1/monitors/{monitor.pk}/stats").json()
    assert (stats["checks"], stats["failures"], stats["uptime_percent"]) == (60, 6, 90.0)
    assert len(stats["buckets"]) == 48 and sum(b["checks"] for b in stats["buckets"]) == 60
    assert stats["latency_p95_ms"] == 157
    assert client.get(f"/api/v1/monitors/{monitor.pk}/stats", span="1y").status_code == 422
    assert api(personas.outsider).get(f"/api/v1/monitors/{monitor.pk}/results").status_code == 404
