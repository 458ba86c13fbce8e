"""The real processes: `vigil serve` and the CLI, run as a user runs them, on their own data dir."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

VIGIL = str(Path(sys.executable).parent / "vigil")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Vigil:
    def __init__(self, data_dir):
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "DATABASE_URL", "PYTEST"))}
        self.env["VIGIL_DATA_DIR"] = str(data_dir)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "serve.log"
        self.process = None

    def cli(self, *args):
        return subprocess.run([VIGIL, *args], env=self.env, capture_output=True, text=True, check=True, timeout=120)

    def start(self):
        self.process = subprocess.Popen(
            [VIGIL, "serve", "--port", str(self.port)], env=self.env, start_new_session=True,
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if self.request("GET", "/readyz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("vigil serve did not become ready:\n" + self.log.read_text())

    def signal(self, sig):
        os.killpg(self.process.pid, sig)
        return self.process.wait(timeout=60)

    def request(self, method, path, token=None, body=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


@pytest.fixture
def vigil(tmp_path):
    v = Vigil(tmp_path)
    yield v
    if v.process and v.process.poll() is None:
        v.signal(signal.SIGKILL)


def test_serve_answers_health_runs_the_worker_and_stops_cleanly_on_sigterm(vigil):
    vigil.start()
    assert vigil.request("GET", "/healthz") == (200, {"status": "ok"})
    assert vigil.signal(signal.SIGTERM) == 0
    log = vigil.log.read_text()
    assert "worker started" in log and "worker stopped" in log


def test_a_cli_token_opens_the_api_and_data_survives_a_kill(vigil):
    vigil.cli("migrate")
    vigil.cli("createuser", "ops@example.com", "--admin", "--password", "a long passphrase")
    token = vigil.cli("token", "create", "--user", "ops@example.com").stdout.strip().splitlines()[-1]
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
    out = vigil.cli("token", "create", "--user", "admin@example.com").stdout
    token = out.strip().splitlines()[-1]
    vigil.start()
    status, body = vigil.request("GET", "/api/v1/incidents?limit=100", token)
    assert status == 200
    assert {i["status"] for i in body["items"]} == {"triggered", "acknowledged", "mitigated", "resolved"}
    assert any(i["is_drill"] for i in body["items"])
