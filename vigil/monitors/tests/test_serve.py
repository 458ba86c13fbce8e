"""Monitors run by a real `vigil serve` (the job loop in its `vigil worker` child, its check pool, SQLite):
the demo's monitor of Vigil's own /healthz comes up, and a site that goes down and comes back
opens and resolves an incident, seen through the API."""

import time

import pytest

from vigil.testing import VigilServer

# A real `vigil serve` on its own SQLite data dir: the PostgreSQL leg skips it (it would run the same again).
pytestmark = pytest.mark.serve


@pytest.fixture
def vigil(tmp_path):
    v = VigilServer(tmp_path)
    yield v
    v.stop()


def wait_for(what, probe, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"waited {timeout} s for {what}")


def test_serve_runs_the_monitors(vigil, http_server):
    vigil.cli("migrate")
    vigil.cli("demo", "--first-run")
    token = vigil.token("admin@example.com")
    vigil.start()

    def monitor(pk):
        return vigil.request("GET", f"/api/v1/monitors/{pk}", token)[1]

    monitors = vigil.request("GET", "/api/v1/monitors", token)[1]["items"]
    health = next(m for m in monitors if m["name"] == "Vigil health endpoint")
    assert health["target"] == f"{vigil.base}/healthz"
    wait_for("the demo's health monitor to be up", lambda: monitor(health["id"])["status"] == "up")

    status, created = vigil.request("POST", "/api/v1/monitors", token, {
        "service_id": health["service_id"], "name": "Local site", "kind": "http", "target": http_server.url,
        "interval_seconds": 10, "timeout_seconds": 2, "retries": 1, "retry_interval_seconds": 1})
    assert status == 201, created
    wait_for("the first check", lambda: monitor(created["id"])["status"] == "up")

    http_server.stop()
    wait_for("the monitor to go down", lambda: monitor(created["id"])["status"] == "down")

    def firing_alert():
        alerts = vigil.request("GET", f"/api/v1/alerts?service_id={health['service_id']}&status=firing", token)[1]
        return next((a for a in alerts["items"] if a["dedup_key"] == f"monitor:{created['id']}"), None)

    # The worker tells the alert pipeline right after it recorded the state (see jobs.py).
    alert = wait_for("the alert", firing_alert, timeout=15)
    assert alert["summary"] == "Local site is down: connection failed: connection refused"
    incident = vigil.request("GET", f"/api/v1/incidents/{alert['incident_id']}", token)[1]
    assert incident["status"] == "triggered"
    results = vigil.request("GET", f"/api/v1/monitors/{created['id']}/results", token)[1]
    assert [r["ok"] for r in results["items"][:2]] == [False, False]  # the failure, then its confirmation

    http_server.start()
    wait_for("the incident to resolve", lambda: vigil.request(
        "GET", f"/api/v1/incidents/{alert['incident_id']}", token)[1]["status"] == "resolved")
    assert monitor(created["id"])["status"] == "up"
