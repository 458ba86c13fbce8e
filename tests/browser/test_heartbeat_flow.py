"""A heartbeat set up and watched from a phone, in a real browser against a real `vigil serve`:
the form, the ping URL to copy, a real curl ping showing up in the log (htmx refresh), no CSP
violation. Run with `pytest -m browser`."""

import shutil
import subprocess

import pytest

from .test_incident_flow import EMAIL, EVIL, PASSWORD, phone, server, team_and_service  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_a_responder_adds_a_heartbeat_and_sees_its_pings(server, team_and_service, phone):  # noqa: F811
    page = phone
    page.goto(server.base + "/login/")
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.base + "/")

    page.goto(f"{server.base}/services/{team_and_service['slug']}/heartbeats/")
    page.fill("#id_name", "Nightly backup " + EVIL)
    page.select_option("#id_kind", "cron")
    page.fill("#id_cron", "30 2 * * *")
    page.fill("#id_time_zone", "Europe/Berlin")
    page.fill("#id_grace_minutes", "45")
    page.get_by_role("button", name="Add heartbeat").click()
    page.wait_for_url("**/heartbeats/*/")
    assert page.locator("h1").inner_text() == "Nightly backup " + EVIL
    ping_url = page.locator("#hb-url").inner_text().strip()
    assert ping_url.startswith(server.base + "/ping/")
    assert "cron “30 2 * * *” (Europe/Berlin), grace 45 minutes" in page.content()
    assert page.locator("button.copy").first.is_visible()

    if shutil.which("curl") is None:
        pytest.fail("curl is not installed (.ci/run installs it)")
    subprocess.run(["curl", "-fsS", "-m", "10", "--data-binary", "rsync: 1.2 GB sent", ping_url + "/0"], check=True,
                   capture_output=True)
    # The status and the log refresh themselves every 10 s.
    page.locator(".ping-log .ping").first.wait_for(timeout=20000)
    assert "rsync: 1.2 GB sent" in page.locator(".ping-log").inner_text()
    assert page.locator("#heartbeat-state .badge").first.inner_text() == "up"
    assert page.errors == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing wider than the phone
