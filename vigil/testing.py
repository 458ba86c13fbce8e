"""For the tests that run Vigil as a user does: a `vigil serve` process on a free loopback port
with its own data dir, and the `vigil` command against the same data."""

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

VIGIL = str(Path(sys.executable).parent / "vigil")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VigilServer:
    def __init__(self, data_dir, **env):
        # The server must not see pytest's variables: with them, settings switch to the test database.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "DATABASE_URL", "PYTEST"))}
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env.update(VIGIL_DATA_DIR=str(data_dir), VIGIL_BASE_URL=self.base, **env)
        self.log = Path(data_dir) / "serve.log"
        self.process = None

    def cli(self, *args):
        return subprocess.run([VIGIL, *args], env=self.env, capture_output=True, text=True, check=True, timeout=120)

    def token(self, email):
        """A new API token of that user, from `vigil token create` (the last line it prints)."""
        return self.cli("token", "create", "--user", email).stdout.strip().splitlines()[-1]

    def start(self):
        Path(self.log).parent.mkdir(parents=True, exist_ok=True)
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
        """Send `sig` to the server's process group and wait for it to end; its exit code."""
        os.killpg(self.process.pid, sig)
        return self.process.wait(timeout=60)

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)

    def request(self, method, path, token=None, body=None):
        """(status, decoded JSON body) of a request to the server."""
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
