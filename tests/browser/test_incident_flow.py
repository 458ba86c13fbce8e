"""A responder's night, in a real browser: Debian's Chromium, driven by Playwright, against a
real `vigil serve` with its own data dir. Run with `pytest -m browser`.

Set VIGIL_SCREENSHOT_DIR to keep the 375px-wide screenshot of the incident page.
"""

import os
import re
from pathlib import Path

import pytest

from .conftest import PHONE, browser_page, vigil_server

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "night@vigil.test", "night-owl-on-call"
EVIL = "<script>alert(1)</script>"


@pytest.fixture
def server(tmp_path):
    with vigil_server(tmp_path, EMAIL, "Nora Night", PASSWORD) as s:
        yield s


@pytest.fixture
def team_and_service(server):
    status, team = server.request("POST", "/api/v1/teams", server.api_token, {"name": "Night Ops"})
    assert status == 201, team
    status, service = server.request("POST", "/api/v1/services", server.api_token, {"name": "Acme Shop", "team_id": team["id"]})
    assert status == 201, service
    return service


@pytest.fixture
def phone(server):
    with browser_page(device_scale_factor=2, **PHONE) as page:
        yield page


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
