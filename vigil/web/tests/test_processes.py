"""The real processes: `vigil serve` and the CLI, run as a user runs them, on their own data dir."""

import os
import signal
import time
from pathlib import Path

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


def _children(pid):
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # not a process, or it ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[1] == str(pid) and fields[0] != "Z":
            found.append((int(entry.name), cmdline))
    return found


def _job_loop_of(pid, other_than=None, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child, cmdline in _children(pid):
            if b"vigil.cli\0worker" in cmdline and child != other_than:
                return child
        time.sleep(0.1)
    raise AssertionError(f"no vigil worker child: {_children(pid)}")


def _alive(pid):
    try:
        return (Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]) != "Z"
    except FileNotFoundError:
        return False


def test_serve_starts_its_job_loop_again_and_takes_it_down_when_killed(vigil):
    vigil.start()
    first = _job_loop_of(vigil.process.pid)
    os.kill(first, signal.SIGKILL)
    try:
        second = _job_loop_of(vigil.process.pid, other_than=first)
    except AssertionError:
        raise AssertionError(vigil.log.read_text()) from None
    assert "exited with -9; starting it again" in vigil.log.read_text()

    os.kill(vigil.process.pid, signal.SIGKILL)  # `vigil serve` alone, not its process group
    vigil.process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while _alive(second) and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        assert not _alive(second), "the job loop outlived vigil serve"
    finally:
        try:
            os.killpg(vigil.process.pid, signal.SIGKILL)  # Granian's workers, whatever they do
        except ProcessLookupError:
            pass
