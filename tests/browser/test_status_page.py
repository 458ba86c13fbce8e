"""A status page through an incident, in a real browser (Debian's Chromium via Playwright) against a
real `vigil serve`: operational, then a sev1 and a public update, then resolved with the outage in
today's bar. At desktop and at phone width; screenshots are kept in var/screenshots/ (paths printed;
VIGIL_SCREENSHOT_DIR chooses another folder)."""

import os
import re
import time
from pathlib import Path

import pytest

from .conftest import browser_page, vigil_server

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "status@vigil.test", "status-page-keeper"
UPDATE = "Card payments fail at checkout; we are on it. <b>not bold</b>"


@pytest.fixture
def server(tmp_path):
    with vigil_server(tmp_path, EMAIL, "Stella Status", PASSWORD) as s:
        yield s


@pytest.fixture
def mapped(server):
    """A team, a service, and a public page whose component Checkout follows the service."""
    _, team = server.request("POST", "/api/v1/teams", server.api_token, {"name": "Shop Ops"})
    _, service = server.request("POST", "/api/v1/services", server.api_token, {"name": "Acme Shop", "team_id": team["id"]})
    status, page = server.request("POST", "/api/v1/status-pages", server.api_token, {
        "slug": "acme", "name": "Acme Status", "public": True,
        "components": [{"name": "Checkout", "service_id": service["id"]}, {"name": "Docs"}]})
    assert status == 201, page
    return service


@pytest.fixture(params=[(1280, 900, False), (375, 812, True)], ids=["desktop", "phone"])
def page(request, server):
    width, height, mobile = request.param
    with browser_page(viewport={"width": width, "height": height}, is_mobile=mobile, has_touch=mobile) as page:
        page.width = width
        yield page


def component_status(page, name):
    return page.locator(f'.sp-components [data-component="{name}"] .sp-status').first.get_attribute("data-status")


def open_once_changed(page, url, changed, seconds=10):
    """Open the status page until it shows a change just made: `vigil serve` has two web processes,
    and the one that did not make it sees it within statuspage.cache.TTL (0.5 s)."""
    deadline = time.monotonic() + seconds
    page.goto(url)
    while not changed() and time.monotonic() < deadline:
        page.goto(url)


def test_the_status_page_follows_an_incident(server, mapped, page, tmp_path):
    status_url = server.base + "/status/acme/"
    page.goto(status_url)
    assert page.locator("#indicator").text_content() == "All Systems Operational"
    assert component_status(page, "Checkout") == component_status(page, "Docs") == "operational"

    status, incident = server.request("POST", "/api/v1/incidents", server.api_token,
                                      {"title": "Checkout returns 502", "service_id": mapped["id"], "severity": "sev1"})
    assert status == 201, incident

    # A responder publishes an update from the incident page.
    page.goto(server.base + f"/incidents/{incident['id']}/")
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/incidents/\d+/$"))
    form = page.locator("#public-update-form")
    form.locator("select[name=status]").select_option("identified")
    form.locator("textarea[name=body]").fill(UPDATE)
    form.get_by_role("button", name="Publish").click()
    page.wait_for_load_state()
    assert "Published on Acme Status." in page.locator(".message.success").text_content()

    open_once_changed(page, status_url, lambda: component_status(page, "Checkout") != "operational")
    assert component_status(page, "Checkout") == "major_outage"
    assert component_status(page, "Docs") == "operational"
    assert page.locator("#indicator").get_attribute("data-indicator") == "critical"
    assert page.locator(".sp-incident .sp-body").first.text_content() == UPDATE  # the markup shows as text
    shots = Path(os.environ.get("VIGIL_SCREENSHOT_DIR") or Path(__file__).resolve().parents[2] / "var" / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    outage_shot = shots / f"status-page-outage-{page.width}.png"
    page.screenshot(path=str(outage_shot), full_page=True)

    # Resolve, and tell customers.
    page.goto(server.base + f"/incidents/{incident['id']}/")
    page.get_by_role("button", name="Resolve").click()
    page.wait_for_load_state()
    assert page.locator(".message.success").text_content() == "Resolved."
    form = page.locator("#public-update-form")
    form.locator("select[name=status]").select_option("resolved")
    form.get_by_role("button", name="Publish").click()
    page.wait_for_load_state()
    assert "Published on Acme Status." in page.locator(".message.success").text_content()

    open_once_changed(page, status_url, lambda: component_status(page, "Checkout") == "operational")
    assert page.locator("#indicator").text_content() == "All Systems Operational"
    assert component_status(page, "Checkout") == "operational"
    today = page.locator('.sp-bar-row[data-component="Checkout"] .sp-day').last
    assert today.get_attribute("data-status") == "major_outage"
    assert "Checkout returns 502" in today.get_attribute("title")
    assert page.locator(".sp-past-incident h3").first.text_content() == "Checkout returns 502"
    resolved_shot = shots / f"status-page-resolved-{page.width}.png"
    page.screenshot(path=str(resolved_shot), full_page=True)
    print(f"\nscreenshots: {outage_shot} {resolved_shot}")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width  # no sideways scrolling on a phone
    assert page.errors == []
