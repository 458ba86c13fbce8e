"""A responder's night, in a real browser: Debian's Chromium, driven by Playwright, against a
real `vigil serve` with its own data dir. Run with `pytest -m browser`.

Set VIGIL_SCREENSHOT_DIR to keep the 375px-wide screenshot of the incident page.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

VIGIL = str(Path(sys.executable).parent / "vigil")
CHROMIUM = "/usr/bin/chromium"
EMAIL, PASSWORD = "night@vigil.test", "night-owl-on-call"
EVIL = "<script>alert(1)</script>"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir):
        # The server must not see pytest's variables: with them, settings switch to the test database.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "DATABASE_URL", "PYTEST"))}
        self.env["VIGIL_DATA_DIR"] = str(data_dir)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env["VIGIL_BASE_URL"] = self.base
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
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("vigil serve did not become ready:\n" + self.log.read_text())

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def api(self, method, path, token, body=None):
        req = urllib.request.Request(
            self.base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())


@pytest.fixture
def server(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's Chromium: apt-get install chromium")
    s = Server(tmp_path)
    s.cli("migrate", "--verbosity", "0")
    s.cli("createuser", EMAIL, "--name", "Nora Night", "--password", PASSWORD, "--admin")
    s.token = s.cli("token", "create", "--user", EMAIL).stdout.strip().splitlines()[-1]
    s.start()
    yield s
    s.stop()


@pytest.fixture
def team_and_service(server):
    team = server.api("POST", "/api/v1/teams", server.token, {"name": "Night Ops"})
    return server.api("POST", "/api/v1/services", server.token, {"name": "Acme Shop", "team_id": team["id"]})


@pytest.fixture
def phone(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        context = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2,
                                      is_mobile=True, has_touch=True)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.dialogs, page.errors = [], []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        # A CSP violation (an inline script or style slipping in) is reported as a console error.
        page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.on("response", lambda r: r.status >= 400 and page.errors.append(f"{r.status} {r.url}"))
        yield page
        context.close()
        browser.close()


def test_a_responder_opens_acknowledges_and_resolves_an_incident(server, team_and_service, phone, tmp_path):
    page = phone
    page.goto(server.base + "/")
    assert "/login/" in page.url
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.base + "/")

    page.get_by_role("link", name="New incident").click()
    page.select_option("#id_service", label="Acme Shop (Night Ops)")
    page.fill("#id_title", EVIL)
    page.select_option("#id_severity", "sev1")
    page.get_by_role("button", name="Open incident").click()
    page.wait_for_url(re.compile(r".*/incidents/\d+/$"))

    assert page.locator("#incident-title").text_content() == EVIL
    assert page.locator("#incident-status").text_content() == "Triggered"

    # htmx is loaded from our own static files and polls the live part of the page.
    with page.expect_request(lambda r: r.headers.get("hx-request") == "true", timeout=10000):
        pass

    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state()
    assert page.locator("#incident-status").text_content() == "Acknowledged"
    assert page.locator(".message.success").text_content() == "Acknowledged."

    page.get_by_role("button", name="Resolve").click()
    page.wait_for_load_state()
    assert page.locator("#incident-status").text_content() == "Resolved"
    assert page.get_by_role("button", name="Reopen").is_visible()
    assert page.get_by_role("button", name="Acknowledge").count() == 0
    # The paging engine adds its own entries (who was paged, deliveries) between these.
    kinds = [k for k in page.locator(".timeline .kind").all_text_contents() if k in ("created", "acknowledged", "resolved")]
    assert kinds == ["created", "acknowledged", "resolved"]
    assert page.locator("#incident-title").text_content() == EVIL

    shots = Path(os.environ.get("VIGIL_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "incident-375.png"), full_page=True)
    # Nothing wider than the phone: no sideways scrolling at 3 a.m.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.get_by_role("link", name="Incidents").click()
    assert page.get_by_role("link", name=EVIL).text_content() == EVIL

    assert page.dialogs == []
    assert page.errors == []
