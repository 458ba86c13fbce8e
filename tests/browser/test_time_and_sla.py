"""On an incident page in a real browser (Debian's Chromium via Playwright, real `vigil serve`):
the SLA clocks are shown and refreshed, and a responder logs 30 minutes of corrective time.
Run with `pytest -m browser`."""

import re

import pytest

from .conftest import PHONE, browser_page, vigil_server

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "clock@vigil.test", "tick-tock-on-call"


@pytest.fixture
def server(tmp_path):
    with vigil_server(tmp_path, EMAIL, "Cleo Clock", PASSWORD) as s:
        yield s


@pytest.fixture
def incident(server):
    def call(method, path, body=None):
        status, answer = server.request(method, path, server.api_token, body)
        assert status in (200, 201), answer
        return answer

    team = call("POST", "/api/v1/teams", {"name": "Clock Ops"})
    service = call("POST", "/api/v1/services", {"name": "Acme Shop", "team_id": team["id"], "monthly_approved_hours": "10"})
    call("PUT", f"/api/v1/services/{service['id']}/sla",
         {"business_hours_only": False, "targets": {"sev1": {"ack_seconds": 900, "resolve_seconds": 14400}}})
    return call("POST", "/api/v1/incidents", {"title": "Checkout down", "service_id": service["id"], "severity": "sev1"})


@pytest.fixture
def page(server):
    with browser_page(**PHONE) as page:
        yield page


def test_a_responder_sees_the_sla_clocks_and_logs_30_minutes(server, incident, page):
    page.goto(server.base + f"/incidents/{incident['id']}/")
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(rf".*/incidents/{incident['id']}/$"))

    ack, resolve = page.locator("#sla-ack"), page.locator("#sla-resolve")
    assert "Time to acknowledge" in ack.text_content() and ack.locator(".target").text_content() == "15 min"
    assert resolve.locator(".target").text_content() == "4 h"
    assert "Running" in ack.locator(".clock-state").text_content()
    assert ack.locator("progress").get_attribute("max") == "900"

    # The clocks are in the part of the page htmx refreshes: they are there after a refresh too.
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true", timeout=10000):
        pass
    page.wait_for_load_state("networkidle")
    assert page.locator("#sla-ack .target").text_content() == "15 min"

    page.fill("#id_time_minutes", "30")
    page.select_option("#id_time_kind", "corrective")
    page.fill("#id_time_note", "rolled back the payment service")
    page.get_by_role("button", name="Log time").click()
    page.wait_for_load_state()
    assert page.locator(".message.success").text_content() == "30 min of corrective time logged."
    assert page.locator("#time-corrective").text_content() == "30 min"
    assert page.locator("#time-total").text_content() == "30 min"
    assert "rolled back the payment service" in page.locator(".time-entries").text_content()
    assert page.locator(".timeline .entry.time_logged .body").first.text_content() == \
        "30 min of corrective work logged: rolled back the payment service"

    # Acknowledging stops the ack clock: it is met.
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_load_state()
    assert page.locator("#sla-ack .clock-state").text_content().startswith("Met")

    # The month report counts the 30 minutes and draws them against the approved 10 hours.
    page.get_by_role("link", name=re.compile("this month's hours")).click()
    page.wait_for_load_state()
    assert page.locator("#corrective").text_content().strip() == "30 min"
    assert page.locator("svg.chart rect.bar").count() == 6
    assert page.locator("svg.chart line.approved").count() == 1

    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.errors == []
