from datetime import timedelta

from django.test import Client
from django.utils import timezone

from vigil.anomaly.metrics import record
from vigil.anomaly.models import Rule


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_rule_page_draws_the_series_and_its_baseline_band(personas):
    now = timezone.now()
    # Three weeks of history at this hour: a baseline for the chart's last hours.
    for week in range(1, 4):
        for minute in range(0, 60, 5):
            for hour in range(0, 3):
                record("latency_ms", 100 + minute % 7, at=now - timedelta(weeks=week, hours=hour, minutes=minute),
                       service=personas.service)
    series = record("latency_ms", 250, at=now - timedelta(minutes=1), service=personas.service)
    client = logged_in(personas.responder)
    response = client.post(series.get_absolute_url(), {
        "name": "Latency <unusual>", "service": personas.service.pk, "kind": "deviation", "direction": "above",
        "deviations": 3, "window_minutes": 10, "baseline_weeks": 4, "severity": "sev3", "enabled": "on"})
    rule = Rule.objects.get()
    assert response.status_code == 302 and response["Location"] == rule.get_absolute_url()
    page = client.get(rule.get_absolute_url()).content.decode()
    assert '<svg viewBox="0 0 800 240"' in page
    assert 'class="band" d="M' in page and 'class="series" d="M' in page
    assert "Latency &lt;unusual&gt;" in page
    assert "latency_ms" in logged_in(personas.viewer).get("/anomaly/").content.decode()
    assert logged_in(personas.outsider).get(rule.get_absolute_url()).status_code == 404
    assert logged_in(personas.viewer).post(series.get_absolute_url(), {}).status_code == 403


def test_a_rule_follows_the_clock_chosen_on_its_page(personas):
    series = record("latency_ms", 120, service=personas.service)
    client = logged_in(personas.responder)
    fields = {"name": "Latency", "service": personas.service.pk, "kind": "deviation", "direction": "above",
              "deviations": 3, "window_minutes": 10, "baseline_weeks": 4, "severity": "sev3", "enabled": "on"}
    client.post(series.get_absolute_url(), fields)  # no zone given: UTC
    rule = Rule.objects.get()
    assert rule.time_zone == "UTC"
    response = client.post(rule.get_absolute_url(), {**fields, "time_zone": "Asia/Kolkata"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.time_zone == "Asia/Kolkata"
    # A zone half an hour off UTC: the chart is still drawn.
    assert '<svg viewBox="0 0 800 240"' in client.get(rule.get_absolute_url()).content.decode()
    response = client.post(rule.get_absolute_url(), {**fields, "time_zone": "Mars/Olympus"})
    assert response.status_code == 200 and "time_zone" in response.context["form"].errors
