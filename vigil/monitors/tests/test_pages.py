"""The monitor pages: lists, the monitor with its SVG chart and history, the form, the buttons."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from vigil.monitors import actions
from vigil.monitors.models import CheckResult, Monitor


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def monitor(personas):
    return actions.do_create_monitor(personas.service, actor=personas.admin, name="Shop <home>", kind="http",
                                     target="https://shop.example.com/?a=1&b=<2>", interval_seconds=60)


FORM = {"name": "Checkout", "kind": "http", "target": "https://shop.example.com/checkout", "interval_seconds": "60",
        "timeout_seconds": "10", "retries": "1", "retry_interval_seconds": "20", "recovery_checks": "1",
        "severity": "sev2", "method": "GET", "headers": "X-Probe: vigil\nAccept: text/html", "body": "",
        "expected_status": "200-299", "keyword": "Pay now", "keyword_mode": "present", "max_latency_ms": "1500",
        "follow_redirects": "on", "verify_tls": "on", "tls_expiry_days": "14", "record_type": "A",
        "expected_answer": "", "nameserver": ""}


def test_the_service_page_lists_its_monitors(personas, monitor):
    page = client_for(personas.viewer).get(f"/services/{personas.service.slug}/").content.decode()
    assert "Shop &lt;home&gt;" in page and "Shop <home>" not in page
    page = client_for(personas.viewer).get(f"/services/{personas.service.slug}/monitors/").content.decode()
    assert monitor.get_absolute_url() in page and "not checked yet" in page
    assert "New monitor" not in page  # a viewer changes nothing
    assert "New monitor" in client_for(personas.responder).get(f"/services/{personas.service.slug}/monitors/").content.decode()


def test_the_monitors_page_shows_only_the_users_teams(personas, monitor):
    page = client_for(personas.viewer).get("/monitors/").content.decode()
    assert "Shop &lt;home&gt;" in page and personas.service.name in page
    assert "Shop &lt;home&gt;" not in client_for(personas.outsider).get("/monitors/").content.decode()
    Monitor.objects.update(status="down")
    assert "Shop &lt;home&gt;" in client_for(personas.viewer).get("/monitors/?state=down").content.decode()
    assert "Shop &lt;home&gt;" not in client_for(personas.viewer).get("/monitors/?state=paused").content.decode()


def test_a_responder_creates_a_monitor_with_the_form(personas):
    client = client_for(personas.responder)
    assert client.get(f"/services/{personas.service.slug}/monitors/new/").status_code == 200
    r = client.post(f"/services/{personas.service.slug}/monitors/new/", FORM)
    monitor = Monitor.objects.get()
    assert r.status_code == 302 and r["Location"] == monitor.get_absolute_url()
    assert monitor.headers == {"X-Probe": "vigil", "Accept": "text/html"}
    assert (monitor.keyword, monitor.max_latency_ms, monitor.service) == ("Pay now", 1500, personas.service)


def test_the_form_names_what_is_wrong_and_creates_nothing(personas, monitor):
    client = client_for(personas.responder)
    r = client.post(f"/services/{personas.service.slug}/monitors/new/",
                    {**FORM, "name": "Shop <home>", "kind": "tcp", "timeout_seconds": "90", "headers": "no colon"})
    page = r.content.decode()
    assert r.status_code == 200
    assert "The service already has a monitor of this name." in page
    assert "must be host:port" in page
    assert "line 1: write it as Name: value" in page
    assert Monitor.objects.count() == 1


def test_a_viewer_cannot_open_the_form_and_an_outsider_finds_nothing(personas, monitor):
    assert client_for(personas.viewer).get(f"/services/{personas.service.slug}/monitors/new/").status_code == 403
    assert client_for(personas.viewer).post(f"/monitors/{monitor.pk}/pause/").status_code == 403
    assert client_for(personas.outsider).get(monitor.get_absolute_url()).status_code == 404
    assert client_for(personas.outsider).get(f"/monitors/{monitor.pk}/edit/").status_code == 404


def test_the_monitor_page_draws_latency_and_uptime(personas, monitor):
    now = timezone.now()
    CheckResult.objects.bulk_create(
        [CheckResult(monitor=monitor, at=now - timedelta(minutes=30 * i), ok=i != 3, latency_ms=50 + i,
                     error="" if i != 3 else "status 503, expected 200-299") for i in range(1, 20)])
    r = client_for(personas.viewer).get(monitor.get_absolute_url())
    page = r.content.decode()
    assert r.status_code == 200
    assert '<svg class="chart"' in page and "<polyline" in page
    assert "1 of 1 checks failed" not in page  # one check per half hour: a bucket is all or nothing
    assert "1 checks, all failed" in page and "1 checks, all passed" in page
    assert "status 503, expected 200-299" in page
    assert "94.74 %" in page  # 18 of 19
    assert "https://shop.example.com/?a=1&amp;b=&lt;2&gt;" in page
    assert "<script" not in page.split("</head>")[1]
    for span in ("7d", "30d"):
        assert '<svg class="chart"' in client_for(personas.viewer).get(f"{monitor.get_absolute_url()}?span={span}").content.decode()


def test_edit_pause_resume_check_and_delete_from_the_page(personas, monitor):
    client = client_for(personas.responder)
    r = client.post(f"/monitors/{monitor.pk}/edit/", {**FORM, "name": "Shop home", "target": monitor.target})
    assert r.status_code == 302
    monitor.refresh_from_db()
    assert monitor.name == "Shop home" and monitor.keyword == "Pay now"
    client.post(f"/monitors/{monitor.pk}/pause/")
    monitor.refresh_from_db()
    assert monitor.paused
    assert "Resume" in client.get(monitor.get_absolute_url()).content.decode()
    client.post(f"/monitors/{monitor.pk}/resume/")
    Monitor.objects.update(next_due_at=timezone.now() + timedelta(seconds=40))
    client.post(f"/monitors/{monitor.pk}/check/")
    monitor.refresh_from_db()
    assert not monitor.paused and monitor.next_due_at <= timezone.now()
    assert client.get(f"/monitors/{monitor.pk}/delete/").status_code == 200
    r = client.post(f"/monitors/{monitor.pk}/delete/")
    assert r.status_code == 302 and not Monitor.objects.exists()
