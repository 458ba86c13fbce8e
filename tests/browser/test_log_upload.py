"""Uploading a log file in a real browser: htmx posts it with a progress bar (a static script, no
inline JS under the strict CSP), then the ranked error groups show. Run with `pytest -m browser`."""

import gzip

import pytest

from .conftest import PHONE, browser_page, vigil_server

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "logs@vigil.test", "grep-the-night-away"


@pytest.fixture
def server(tmp_path):
    with vigil_server(tmp_path, EMAIL, "Lou Logs", PASSWORD) as s:
        status, team = s.request("POST", "/api/v1/teams", s.api_token, {"name": "Shop Ops"})
        assert status == 201, team
        status, service = s.request("POST", "/api/v1/services", s.api_token, {"name": "Acme Shop", "team_id": team["id"]})
        assert status == 201, service
        yield s


@pytest.fixture
def page(server):
    with browser_page(timeout_ms=30000, **PHONE) as page:
        yield page


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
