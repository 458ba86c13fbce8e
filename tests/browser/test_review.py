"""A post-incident review written in a real browser (Debian's Chromium via Playwright) against a
real `vigil serve`: a 5 Whys chain three levels deep, two action items, the lead's approval,
publication, and the Markdown and PDF exports (page 1 of the PDF turned into an image by pdftoppm).
Run with `pytest -m browser`."""

import os
import re
import shutil
import struct
import subprocess

import pytest

from .conftest import browser_page, vigil_server

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "lead@vigil.test", "lead-reviews-everything"
EVIL = "<img src=x onerror=alert(1)>"
WHYS = [("", "Why did checkout return 502?", "The payment pods were OOM-killed."),
        ("1", "Why were they OOM-killed?", "Release 412 cached every card BIN in memory."),
        ("2", "Why did that ship?", "The load test runs without the BIN table.")]
SECTIONS = ["Summary", "Impact", "Detection", "Root cause analysis", "Resolution", "What went well",
            "What went badly", "Where we were lucky", "Lessons learned", "Timeline", "Action items"]


@pytest.fixture
def server(tmp_path):
    if not shutil.which("pdftoppm"):
        pytest.skip("needs pdftoppm: apt-get install poppler-utils")
    with vigil_server(tmp_path, EMAIL, "Lee Lead", PASSWORD) as s:
        yield s


@pytest.fixture
def resolved_incident(server):
    """A resolved incident of a team whose lead is the user who logs in."""
    def call(method, path, body=None, expect=200):
        status, data = server.request(method, path, server.api_token, body)
        assert status == expect, data
        return data

    me = call("GET", "/api/v1/users/me")
    team = call("POST", "/api/v1/teams", {"name": "Shop Ops"}, 201)
    call("POST", f"/api/v1/teams/{team['id']}/members", {"user_id": me["id"], "role": "admin"}, 201)
    call("PATCH", f"/api/v1/review-settings/{team['id']}", {"lead_id": me["id"]})
    service = call("POST", "/api/v1/services", {"name": "Acme Shop", "team_id": team["id"]}, 201)
    incident = call("POST", "/api/v1/incidents", {"title": "Checkout returns 502", "service_id": service["id"],
                                                  "severity": "sev1"}, 201)
    call("POST", f"/api/v1/incidents/{incident['id']}/timeline", {"body": "Rolled back release 412"}, 201)
    call("POST", f"/api/v1/incidents/{incident['id']}/resolve", {"reason": "Rollback done"})
    return incident


@pytest.fixture
def page(server):
    with browser_page(viewport={"width": 390, "height": 844}, accept_downloads=True) as page:
        yield page


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def pgm_pixels(path):
    """The grey levels of a binary PGM (P5), as pdftoppm -gray writes it."""
    magic, width, height, maxval, pixels = path.read_bytes().split(maxsplit=4)
    assert magic == b"P5" and maxval == b"255"
    return pixels[:int(width) * int(height)]


def test_write_approve_publish_and_export_a_review(server, resolved_incident, page, tmp_path):
    page.goto(server.base + "/login/")
    page.fill("#id_username", EMAIL)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.base + "/")

    page.goto(resolved_incident["url"])
    page.get_by_role("button", name="Start a review").click()
    page.wait_for_url(re.compile(r".*/reviews/\d+/edit/$"))
    review_url = page.url.removesuffix("edit/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # usable on a phone

    page.fill("#id_title", f"Checkout 502 {EVIL}")
    page.select_option("#id_root_cause_category", "code_change")
    page.fill("#id_root_cause", "An unbounded in-memory cache")
    page.select_option("#id_fix_type", "both")
    page.fill("#id_section_summary", f"Checkout failed for **40 minutes**.\n\n{EVIL}")
    page.fill("#id_section_lessons", "- Load test with real data\n- Alert on OOM kills")
    for n, (parent, why, answer) in enumerate(WHYS):
        page.fill(f"#id_whys-{n}-parent", parent)
        page.fill(f"#id_whys-{n}-why", why)
        page.fill(f"#id_whys-{n}-answer", answer)
    page.fill("#id_whys-0-evidence", "https://grafana.example/d/pods")
    page.get_by_role("button", name="Save review").click()
    page.wait_for_url(review_url)
    assert page.locator(".message.success").text_content() == "Review saved."

    # The chain is three levels deep, each why nested in the one it answers.
    assert page.locator("#why-1 #why-2 #why-3 .question").text_content().strip() == "Why? Why did that ship?"
    assert page.locator("#section-summary strong").text_content() == "40 minutes"
    # What a user typed is text: no image, no handler, no dialog.
    assert page.locator(".review-document img").count() == 0
    assert EVIL in page.locator("#section-summary").text_content()
    assert EVIL in page.locator("#review-title").text_content()

    # Publishing needs an action item (or a reviewer's "no action needed").
    for title, kind in [("Bound the BIN cache", "corrective"), ("Alert on pod OOM kills", "monitoring")]:
        page.fill("#id_item-title", title)
        page.select_option("#id_item-kind", kind)
        page.select_option("#id_item-owner", label="Lee Lead")
        page.fill("#id_item-due_date", "2031-01-15")
        page.get_by_role("button", name="Add action item").click()
        page.wait_for_load_state()
        assert page.locator(".message.success").text_content() == "Action item added."
    assert page.locator("table.action-items tbody tr").count() == 2

    page.get_by_role("button", name="Send for review").click()
    page.wait_for_load_state()
    assert page.locator("#review-status").text_content() == "In review"
    page.get_by_role("button", name="Approve").click()  # the team lead is the reviewer
    page.wait_for_load_state()
    assert page.locator("#review-status").text_content() == "Approved"
    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state()
    assert page.locator("#review-status").text_content() == "Published"
    assert page.locator(".reviewer .badge").text_content().startswith("approved")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    with page.expect_download() as md_download:
        page.get_by_role("link", name="Export Markdown").click()
    markdown = (tmp_path / "review.md")
    md_download.value.save_as(markdown)
    text = markdown.read_text()
    for section in SECTIONS:
        assert f"\n## {section}\n" in text, section
    for _parent, why, answer in WHYS:
        assert why in text and answer in text
    assert "Rolled back release 412" in text and "resolved: Rollback done" in text  # the incident's timeline
    assert "Bound the BIN cache" in text and "Alert on pod OOM kills" in text

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Export PDF").click()
    pdf = tmp_path / "review.pdf"
    pdf_download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(tmp_path / "page1")],
                   check=True, timeout=60)
    width, height = png_size(tmp_path / "page1.png")
    assert width > 400 and abs(height / width - 297 / 210) < 0.01  # A4, portrait
    # And page 1 is not blank: in a grey rendering of it, some of the pixels are ink.
    subprocess.run(["pdftoppm", "-gray", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(tmp_path / "grey")],
                   check=True, timeout=60)
    pixels = pgm_pixels(tmp_path / "grey.pgm")
    assert sum(1 for p in pixels if p < 128) > len(pixels) // 100
    pdf_text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert EVIL in pdf_text and "Why did that ship?" in pdf_text
    if os.environ.get("VIGIL_SCREENSHOT_DIR"):
        shots = os.environ["VIGIL_SCREENSHOT_DIR"]
        os.makedirs(shots, exist_ok=True)
        shutil.copy(tmp_path / "page1.png", os.path.join(shots, "review-pdf-page1.png"))
        page.screenshot(path=os.path.join(shots, "review-390.png"), full_page=True)

    assert page.dialogs == []
    assert page.errors == []
