"""Uploading a log file in a real browser: htmx posts it with a progress bar (a static script, no
inline JS under the strict CSP), then the ranked error groups show. Run with `pytest -m browser`."""

import gzip
import os

import pytest

from vigil.testing import VigilServer

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
EMAIL, PASSWORD = "logs@vigil.test", "grep-the-night-away"


@pytest.fixture
def server(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's Chromium: apt-get install chromium")
    s = VigilServer(tmp_path)
    s.cli("migrate", "--verbosity", "0")
    s.cli("createuser", EMAIL, "--name", "Lou Logs", "--password", PASSWORD, "--admin")
    s.api_token = s.token(EMAIL)
    s.start()
    status, team = s.request("POST", "/api/v1/teams", s.api_token, {"name": "Shop Ops"})
    assert status == 201, team
    status, service = s.request("POST", "/api/v1/services", s.api_token, {"name": "Acme Shop", "team_id": team["id"]})
    assert status == 201, service
    yield s
    s.stop()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
        context = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True)
        pg = context.new_page()
        pg.set_default_timeout(30000)
        pg.errors = []
        pg.on("console", lambda msg: msg.type == "error" and pg.errors.append(msg.text))
        pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
        yield pg
        context.close()
        browser.close()


def test_a_log_file_is_uploaded_with_progress_and_its_groups_ranked(server, page, tmp_path):
    lines = []
    for i in range(3000):
        lines.append(f"2024-05-01 12:{i % 60:02d}:00 INFO [main] web.Server: GET /items/{i} answered in {i % 90} ms")
        if i % 10 == 0:
            lines.append(f"2024-05-01 12:{i % 60:02d}:01 ERROR [db] app.Pool: connection {i} refused <b>bold</b>")
    path = tmp_path / "shop.log.gz"
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))

    page.goto(server.base + "/login/")
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Logs").click()
    page.get_by_role("link", name="Upload a log file").click()
    page.select_option("#id_service", label="Acme Shop")
    page.set_input_files("#id_file", str(path))
    # remember what the progress bar showed, across the redirect that follows
    page.evaluate("""document.addEventListener('htmx:xhr:progress', () => {
        const bar = document.querySelector('.upload-progress');
        sessionStorage.setItem('bar', bar.hidden ? 'hidden' : String(bar.value));
    })""")
    page.get_by_role("button", name="Upload and import").click()
    # htmx's progress events drove the bar (upload.js), then HX-Redirect to the ranked list
    page.wait_for_url("**/logs/?service=acme-shop")
    assert page.locator(".message").first.inner_text().startswith("Imported 3,300 lines of shop.log.gz")
    rows = page.locator("table.log-groups tbody tr")
    assert rows.count() == 2
    assert "connection <*> refused <b>bold</b>" in rows.first.inner_text()  # ranked first, shown as text
    assert page.locator("table.log-groups svg.sparkline").count() == 2
    assert page.evaluate("sessionStorage.getItem('bar')") == "100"  # shown, and full at the end
    assert page.errors == []
