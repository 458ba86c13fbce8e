"""A responder's night, in a real browser: Debian's Chromium, driven by Playwright, against a
real `vigil serve` with its own data dir. Run with `pytest -m browser`.

Set VIGIL_SCREENSHOT_DIR to keep the 375px-wide screenshot of the incident page.
"""

import os
import re
from pathlib import Path

import pytest

from vigil.testing import VigilServer

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
EMAIL, PASSWORD = "night@vigil.test", "night-owl-on-call"
EVIL = "<script>alert(1)</script>"


@pytest.fixture
def server(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's Chromium: apt-get install chromium")
    s = VigilServer(tmp_path)
    s.cli("migrate", "--verbosity", "0")
    s.cli("createuser", EMAIL, "--name", "Nora Night", "--password", PASSWORD, "--admin")
    s.api_token = s.token(EMAIL)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def team_and_service(server):
    status, team = server.request("POST", "/api/v1/teams", server.api_token, {"name": "Night Ops"})
    assert status == 201, team
    status, service = server.request("POST", "/api/v1/services", server.api_token, {"name": "Acme Shop", "team_id": team["id"]})
    assert status == 201, service
    return service


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
