"""The heartbeat pages."""

from django.test import Client

from vigil.heartbeats.models import Heartbeat


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_responder_adds_a_heartbeat_from_the_service_page(personas):
    client = logged_in(personas.responder)
    page = client.get(f"/services/{personas.service.slug}/")
    assert b"Heartbeats" in page.content
    response = client.post(f"/services/{personas.service.slug}/heartbeats/", {
        "name": "Nightly <backup>", "kind": "cron", "cron": "30 2 * * *", "time_zone": "Europe/Berlin",
        "grace_minutes": 60, "severity": "sev2", "period_minutes": ""})
    heartbeat = Heartbeat.objects.get()
    assert response.status_code == 302 and response["Location"] == heartbeat.get_absolute_url()
    detail = client.get(heartbeat.get_absolute_url()).content.decode()
    assert heartbeat.ping_url in detail
    assert f"vigil run --url {heartbeat.ping_url} -- " in detail
    assert "Nightly &lt;backup&gt;" in detail and "Nightly <backup>" not in detail


def test_a_bad_cron_expression_is_refused_with_its_reason(personas):
    response = logged_in(personas.admin).post(f"/services/{personas.service.slug}/heartbeats/", {
        "name": "x", "kind": "cron", "cron": "* * *", "time_zone": "UTC", "grace_minutes": 5, "severity": "sev3"})
    assert response.status_code == 200 and b"errorlist" in response.content
    assert not Heartbeat.objects.exists()


def test_the_ping_log_shows_the_bodies_escaped(personas, heartbeat):
    Client().post(f"/ping/{heartbeat.uuid}/1", "<script>alert(1)</script> failed", content_type="text/plain")
    page = logged_in(personas.viewer).get(f"/heartbeats/{heartbeat.pk}/pings/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; failed" in page and "(exit 1)" in page


def test_viewers_cannot_change_and_outsiders_cannot_see(personas, heartbeat):
    assert logged_in(personas.viewer).post(f"/heartbeats/{heartbeat.pk}/pause/").status_code == 403
    assert logged_in(personas.outsider).get(f"/heartbeats/{heartbeat.pk}/").status_code == 404
    assert b"Nightly backup" not in logged_in(personas.outsider).get("/heartbeats/").content
    assert b"Nightly backup" in logged_in(personas.viewer).get("/heartbeats/").content
    response = logged_in(personas.responder).post(f"/heartbeats/{heartbeat.pk}/pause/")
    assert response.status_code == 302
    heartbeat.refresh_from_db()
    assert heartbeat.status == "paused"
