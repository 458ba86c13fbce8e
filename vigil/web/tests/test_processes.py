"""The real processes: `vigil serve` and the CLI, run as a user runs them, on their own data dir."""

import signal
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


def test_serve_answers_health_runs_the_worker_and_stops_cleanly_on_sigterm(vigil):
    vigil.start()
    assert vigil.request("GET", "/healthz") == (200, {"status": "ok"})
    # The job loop is a child process of its own: it starts beside the web, a moment later.
    deadline = time.monotonic() + 30
    while "worker started" not in vigil.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert vigil.signal(signal.SIGTERM) == 0
    log = vigil.log.read_text()
    assert "worker started" in log and "worker stopped" in log


def test_a_cli_token_opens_the_api_and_data_survives_a_kill(vigil):
    vigil.cli("migrate")
    vigil.cli("createuser", "ops@example.com", "--admin", "--password", "a long passphrase")
    token = vigil.token("ops@example.com")
    vigil.start()
    assert vigil.request("GET", "/api/v1/incidents")[0] == 401
    assert vigil.request("GET", "/api/v1/incidents", token) == (200, {"items": [], "count": 0})
    status, team = vigil.request("POST", "/api/v1/teams", token, {"name": "Ops"})
    assert status == 201
    status, service = vigil.request("POST", "/api/v1/services", token, {"name": "Shop", "team_id": team["id"]})
    assert status == 201
    status, incident = vigil.request("POST", "/api/v1/incidents", token, {"title": "Down", "service_id": service["id"]})
    assert status == 201

    vigil.signal(signal.SIGKILL)
    vigil.start()
    status, body = vigil.request("GET", f"/api/v1/incidents/{incident['id']}", token)
    assert status == 200 and body["title"] == "Down" and body["status"] == "triggered"
    timeline = vigil.request("GET", f"/api/v1/incidents/{incident['id']}/timeline", token)[1]["items"]
    assert timeline[0]["kind"] == "created"


def test_the_demo_loads_once(vigil):
    vigil.cli("migrate")
    assert "loaded" in vigil.cli("demo", "--first-run").stdout
    assert "nothing loaded" in vigil.cli("demo").stdout
    token = vigil.token("admin@example.com")
    vigil.start()
    status, body = vigil.request("GET", "/api/v1/incidents?limit=100", token)
    assert status == 200
    assert {i["status"] for i in body["items"]} == {"triggered", "acknowledged", "mitigated", "resolved"}
    assert any(i["is_drill"] for i in body["items"])
