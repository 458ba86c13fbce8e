"""Running an incident from its page, in a real browser (Debian's Chromium via Playwright) against
a real `vigil serve` whose mail goes to a real SMTP server (aiosmtpd) in this process: assign a
commander, log a rollback, post a stakeholder update, log 30 minutes of corrective time, resolve. Run with `pytest -m browser`."""

import re
import socket
import time
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from .conftest import PHONE, browser_page, vigil_server

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "cmdr@vigil.test", "commander-on-call"
EVIL = "<script>alert(1)</script>"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"

    def wait_for(self, address, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for to, m in self.messages if address in to]
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"nothing reached {address}; got mail for {[to for to, _ in self.messages]}")


@pytest.fixture
def smtp():
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}"
    yield inbox
    controller.stop()


@pytest.fixture
def server(tmp_path, smtp):
    with vigil_server(tmp_path, EMAIL, "Cora Commander", PASSWORD, VIGIL_SMTP_URL=smtp.url) as s:
        yield s


@pytest.fixture
def incident(server):
    def call(method, path, body=None):
        status, answer = server.request(method, path, server.api_token, body)
        assert status in (200, 201), answer
        return answer

    team = call("POST", "/api/v1/teams", {"name": "Night Ops"})
    service = call("POST", "/api/v1/services", {"name": "Acme Shop", "team_id": team["id"]})
    call("POST", f"/api/v1/services/{service['id']}/stakeholders",
         {"name": "Bea Business", "group": "business", "address": "bea@client.test"})
    return call("POST", "/api/v1/incidents", {"title": EVIL, "service_id": service["id"], "severity": "sev1"})


@pytest.fixture
def page(server):
    with browser_page(**PHONE) as page:
        yield page


def test_a_commander_runs_an_incident_from_its_page(server, smtp, incident, page):
    page.goto(server.base + f"/incidents/{incident['id']}/")
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/incidents/\d+/$"))
    assert page.locator("#incident-title").text_content() == EVIL

    # Assign a commander.
    page.locator("#roles summary").click()
    page.select_option("#id_role", "commander")
    page.select_option("#id_user", label="Cora Commander")
    page.get_by_role("button", name=re.compile("^Assign")).click()
    page.wait_for_load_state()
    assert page.locator(".message.success").text_content() == "Cora Commander is incident commander."
    assert page.locator("#incident-commander").text_content() == "Cora Commander"

    # Log a rollback with the quick action.
    page.locator("#fix-rollback summary").click()
    page.fill("#id_rollback-change", "deploy 4521")
    page.fill("#id_rollback-target", "checkout-api")
    page.fill("#id_rollback-from_", "v1.4.2")
    page.fill("#id_rollback-to", "v1.4.1")
    page.fill("#id_rollback-command", "kubectl rollout undo deploy/checkout-api")
    page.select_option("#id_rollback-outcome", "succeeded")
    page.get_by_role("button", name="Log: roll back a change").click()
    page.wait_for_load_state()
    assert page.locator(".message.success").text_content() == "Logged: roll back a change."
    fix = page.locator(".timeline .entry.fix")
    assert fix.locator(".body").text_content() == "Rolled back deploy 4521 on checkout-api from v1.4.2 to v1.4.1. Outcome: worked."
    assert fix.locator("pre.command").text_content() == "kubectl rollout undo deploy/checkout-api"

    # Post a stakeholder update: choosing the status brings its template (htmx), the text is ours to edit.
    page.locator("#updates summary").click()
    page.select_option("#id_update-status", "identified")
    body = page.locator("#id_update-body")
    # htmx swaps the text in after the answer arrives: wait for it.
    expect(body).to_have_value(re.compile(r"^We have identified the cause of the problem with Acme Shop"))
    body.fill("We rolled back the deploy that broke checkout. Payments work again; we are watching.")
    page.get_by_role("button", name="Post update").click()
    page.wait_for_load_state()
    assert page.locator(".message.success").text_content() == "Update posted; sending to 1 stakeholder."
    [mail] = smtp.wait_for("bea@client.test")
    assert mail["Subject"] == f"[Acme Shop] Identified: {EVIL}"
    assert mail.get_payload().startswith("We rolled back the deploy that broke checkout.")

    # Log 30 minutes of corrective time (the timelog app's section of the page).
    page.fill("#id_time_minutes", "30")
    page.select_option("#id_time_kind", "corrective")
    page.fill("#id_time_note", "rolled back deploy 4521")
    page.get_by_role("button", name="Log time").click()
    page.wait_for_load_state()
    assert page.locator(".message.success").text_content() == "30 min of corrective time logged."
    assert page.locator("#time-corrective").text_content() == "30 min"

    page.get_by_role("button", name="Resolve").click()
    page.wait_for_load_state()
    assert page.locator("#incident-status").text_content() == "Resolved"
    kinds = [k for k in page.locator(".timeline .kind").all_text_contents()
             if k in ("created", "role", "fix", "stakeholder_update", "time_logged", "resolved")]
    assert kinds == ["created", "role", "fix", "stakeholder_update", "time_logged", "resolved"]
    assert page.locator("#incident-title").text_content() == EVIL
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.errors == []
