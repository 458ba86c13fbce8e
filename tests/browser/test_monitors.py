"""Uptime monitors in a real browser (Chromium through Playwright, a real `vigil serve`): a responder
adds a monitor of Vigil's own /healthz from the service page and sees it come up, with its chart,
on a phone-sized screen, under the strict CSP. Run with `pytest -m browser`."""

import os
import re
import time
from pathlib import Path

import pytest

from tests.browser.test_incident_flow import EMAIL, PASSWORD, phone, server, team_and_service  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_a_responder_adds_a_monitor_and_sees_it_up_with_its_chart(server, team_and_service, phone, tmp_path):  # noqa: F811
    page = phone
    page.goto(server.base + "/login/")
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.base + "/")

    page.goto(f"{server.base}/services/{team_and_service['slug']}/")
    page.get_by_role("link", name="New monitor").click()
    page.fill("#id_name", "Vigil <health>")
    page.select_option("#id_kind", "http")
    page.fill("#id_target", server.base + "/healthz")
    page.fill("#id_keyword", '"ok"')
    page.get_by_role("button", name="Create monitor").click()
    page.wait_for_url(re.compile(r".*/monitors/\d+/$"))
    assert page.locator("h1").text_content() == "Vigil <health>"

    deadline = time.monotonic() + 30
    while page.locator(".facts .badge.resolved", has_text="up").count() == 0:
        assert time.monotonic() < deadline, "the first check did not come up"
        time.sleep(1)
        page.reload()
    assert page.locator("svg.chart polyline, svg.chart circle").count() >= 1
    assert page.locator("table.responsive tbody tr").count() >= 1

    shots = Path(os.environ.get("VIGIL_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "monitor-375.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    page.get_by_role("link", name="Monitors", exact=True).first.click()
    assert page.get_by_text("Vigil <health>").count() == 1
    assert page.dialogs == []
    assert page.errors == []
