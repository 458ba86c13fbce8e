"""Real clients against a real `vigil serve`: the processes, ports and helpers the tests share.

Run with `pytest -m clients tests/clients` (`make test-clients`). Without `-m clients` these
tests are left out, like the browser leg. A missing client (Debian's prometheus-alertmanager,
the PyPI pdpyras/pagerduty libraries, openssl) skips a test locally and fails it in CI (CI=true),
so that CI cannot go green without having run them.

Every process started here runs in its own session on a free loopback port with its own temp
dir, and is stopped by its process group: SIGTERM, then SIGKILL if it has not gone in 10 s.
"""

import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

VIGIL = str(Path(sys.executable).parent / "vigil")
ADMIN, PASSWORD = "clients@vigil.test", "real clients, real server"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(what):
    """A client that is not installed: a failure in CI, a skip elsewhere."""
    message = f"{what} (CI installs it: see docs/clients.md)"
    if IN_CI:
        pytest.fail("missing in CI: " + message, pytrace=False)
    pytest.skip("not installed: " + message)


def need_binary(path):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        missing(f"{path} not found")
    return path


def need_module(name, package):
    try:
        return __import__(name)
    except ImportError:
        missing(f"Python module {name!r} (PyPI {package})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, timeout=30.0, interval=0.2, processes=()):
    """Poll `check()` until it returns something truthy, and return that. Fail at once if one of
    `processes` died, and after `timeout` s with the last value seen and the processes' logs (an
    exception from `check` counts as "not yet")."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        for p in processes:
            if not p.alive():
                pytest.fail(f"{p.name} exited with {p.process.returncode} while waiting for {what}:\n{p.output()}",
                            pytrace=False)
        try:
            last = check()
        except (OSError, AssertionError, KeyError, ValueError) as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            logs = "".join(f"\n--- {p.name} log (tail) ---\n{p.output()}" for p in processes)
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; last seen: {last!r}{logs}", pytrace=False)
        time.sleep(interval)


def http(method, url, body=None, headers=None, timeout=10):
    """(status, decoded JSON body or raw text) for one request; HTTP errors are answers too."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode("utf-8", "replace")


class Process:
    """A subprocess in its own session, its output in a log file."""

    def __init__(self, name, args, log, env=None, cwd=None):
        self.name, self.args, self.log = name, args, Path(log)
        self.process = subprocess.Popen(args, env=env, cwd=cwd, start_new_session=True,
                                        stdout=self.log.open("ab"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def alive(self):
        return self.process.poll() is None

    def output(self, tail=4000):
        return self.log.read_text(errors="replace")[-tail:] if self.log.exists() else ""

    def stop(self, timeout=10):
        if not self.alive():
            return self.process.returncode
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                return self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        return self.process.returncode


class Vigil:
    """`vigil serve` on its own data dir (SQLite) and port, with an admin and an API token."""

    def __init__(self, data_dir):
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # Not pytest's variables (with them, settings switch to the test database), nor a DATABASE_URL.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "DATABASE_URL", "PYTEST"))}
        self.env.update(VIGIL_DATA_DIR=str(self.data_dir), VIGIL_BASE_URL=self.base)
        self.server = None
        self.token = None

    def cli(self, *args):
        done = subprocess.run([VIGIL, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"vigil {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self):
        self.cli("migrate")
        self.cli("createuser", ADMIN, "--admin", "--password", PASSWORD)
        self.token = self.cli("token", "create", "--user", ADMIN).strip().splitlines()[-1]
        self.server = Process("vigil serve", [VIGIL, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                              self.data_dir / "serve.log", env=self.env)
        wait_for("vigil serve to be ready", lambda: http("GET", self.base + "/readyz")[0] == 200, timeout=60,
                 processes=[self.server])

    def stop(self):
        if self.server:
            self.server.stop()

    def api(self, method, path, body=None, expect=None):
        status, reply = http(method, self.base + "/api/v1" + path, body, {"Authorization": f"Bearer {self.token}"})
        if expect is not None:
            assert status == expect, f"{method} {path} -> {status} {reply}"
        return reply

    def service(self, name):
        """A new service (in the clients' team) to keep each test's incidents apart."""
        if not hasattr(self, "team_id"):
            self.team_id = self.api("POST", "/teams", {"name": "Clients"}, expect=201)["id"]
        return self.api("POST", "/services", {"name": name, "team_id": self.team_id}, expect=201)

    def integration(self, service_id, kind, name=""):
        """{id, kind, key, url, ...}: the key and URL to paste into the sender."""
        return self.api("POST", f"/services/{service_id}/integrations", {"kind": kind, "name": name or kind}, expect=201)

    def incidents(self, service_id):
        return self.api("GET", f"/incidents?service_id={service_id}&limit=100", expect=200)["items"]

    def alerts(self, service_id):
        return self.api("GET", f"/alerts?service_id={service_id}&limit=100", expect=200)["items"]

    def timeline(self, incident_id):
        return self.api("GET", f"/incidents/{incident_id}/timeline?limit=100", expect=200)["items"]

    def query(self, sql, *params):
        """Read the server's own SQLite file (read-only), for what the API does not show yet."""
        with sqlite3.connect(f"file:{self.data_dir / 'vigil.sqlite3'}?mode=ro", uri=True, timeout=10) as db:
            return db.execute(sql, params).fetchall()


@pytest.fixture(scope="session")
def vigil(tmp_path_factory):
    server = Vigil(tmp_path_factory.mktemp("vigil-serve"))
    try:
        server.start()
        yield server
    finally:
        server.stop()


class Alertmanager:
    """Debian's prometheus-alertmanager on loopback, gossip off, storage in a temp dir."""

    BINARY = "/usr/bin/prometheus-alertmanager"

    def __init__(self, work_dir, config):
        binary = need_binary(self.BINARY)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config_file = Path(work_dir) / "alertmanager.yml"
        self.config_file.write_text(json.dumps(config, indent=2))  # YAML reads JSON
        self.process = Process("alertmanager", [
            binary, f"--config.file={self.config_file}", f"--storage.path={Path(work_dir) / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=", "--log.level=debug",
        ], Path(work_dir) / "alertmanager.log", cwd=work_dir)

    def wait_ready(self):
        wait_for("alertmanager to be ready", lambda: http("GET", self.base + "/-/ready")[0] == 200, timeout=20,
                 processes=[self.process])

    def post_alerts(self, alerts):
        status, reply = http("POST", self.base + "/api/v2/alerts", alerts)
        assert status == 200, f"alertmanager refused the alerts: {status} {reply}"

    def stop(self):
        return self.process.stop()


@pytest.fixture
def alertmanager(tmp_path):
    """alertmanager(config) -> a running Alertmanager with that config (a dict); stopped after the test.
    Ask for it before `vigil`, so that a missing binary is found before a server is started."""
    need_binary(Alertmanager.BINARY)
    started = []

    def start(config):
        am = Alertmanager(tmp_path, config)
        started.append(am)
        am.wait_ready()
        return am

    yield start
    for am in started:
        am.stop()


def am_fingerprint(labels):
    """Alertmanager's fingerprint of a label set (FNV-1a 64; shared/spec/clients.md)."""
    h, prime = 14695981039346656037, 1099511628211
    for k in sorted(labels):
        for chunk in (k.encode(), b"\xff", labels[k].encode(), b"\xff"):
            for b in chunk:
                h = ((h ^ b) * prime) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()

