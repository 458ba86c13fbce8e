"""Alerts in, end to end through the HTTP endpoints, with the payloads real senders sent."""

import copy
import fcntl
import json
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from pathlib import Path

import pytest
import time_machine
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from vigil.accounts.models import AuditEntry
from vigil.alerts import ingest as ingest_module
from vigil.alerts.actions import do_create_integration, do_update_integration
from vigil.alerts.models import Alert, ChangeEvent, Integration, MaintenanceWindow, RateLimitWindow, Silence
from vigil.incidents import actions as incident_actions
from vigil.incidents.models import Incident, TimelineEntry

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def hook(personas):
    """hook(kind) -> (post(body) -> response, integration)"""
    def make(kind, **settings):
        integration, key = do_create_integration(personas.service, actor=personas.admin, kind=kind, **settings)
        client = Client()

        def post(body):
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            path = "/v2/enqueue" if kind == "pagerduty" else f"/hooks/{kind}/{key}"
            if kind == "pagerduty" and isinstance(body, dict):
                data = json.dumps({**body, "routing_key": key})
            return client.post(path, data, content_type="application/json")

        post.key = key
        return post, integration
    return make


def resolved(payload):
    body = copy.deepcopy(payload)
    body["status"] = "resolved"
    for alert in body["alerts"]:
        alert["status"] = "resolved"
        alert["endsAt"] = "2026-11-26T23:20:00Z"
    return body


def test_a_first_firing_alert_opens_an_incident(personas, hook):
    post, integration = hook("alertmanager")
    r = post(fixture("alertmanager/alertmanager-0.25-webhook-firing.json"))
    assert r.status_code == 200, r.content
    alert = Alert.objects.get()
    assert alert.dedup_key == "bca19f25a6783506"
    assert alert.status == "firing" and alert.count == 1
    assert alert.labels["alertname"] == "DiskFull"
    incident = alert.incident
    assert incident.service == personas.service and incident.severity == "sev1"
    assert incident.alert_count == 1
    assert incident.timeline.filter(kind="alert_fired").count() == 1
    assert r.json()["incidents_opened"] == [incident.pk]


def test_the_same_payload_again_changes_nothing_but_last_seen(personas, hook):
    post, _ = hook("alertmanager")
    body = fixture("alertmanager/alertmanager-0.25-webhook-firing.json")
    with time_machine.travel("2026-11-26 23:00:00Z", tick=False):
        post(body)
    before = Alert.objects.get()
    entries = TimelineEntry.objects.count()
    with time_machine.travel("2026-11-26 23:05:00Z", tick=False):
        assert post(body).status_code == 200
    after = Alert.objects.get()
    assert after.count == before.count == 1
    assert after.first_seen == before.first_seen
    assert after.last_seen - before.last_seen == timedelta(minutes=5)
    assert Incident.objects.count() == 1 and Incident.objects.get().alert_count == 1
    assert TimelineEntry.objects.count() == entries


def test_alerts_of_one_group_share_one_incident(personas, hook):
    post, _ = hook("alertmanager")
    body = fixture("alertmanager/alertmanager-0.25-webhook-group-of-three.json")
    first = copy.deepcopy(body)
    first["alerts"] = first["alerts"][:1]
    post(first)
    assert Incident.objects.count() == 1
    post(body)
    incident = Incident.objects.get()
    assert incident.alert_count == 3
    assert set(Alert.objects.values_list("incident_id", flat=True)) == {incident.pk}
    assert incident.timeline.filter(kind="alert_fired").count() == 2


def test_grouping_by_alert_opens_one_incident_per_alert(personas, hook):
    post, _ = hook("alertmanager", grouping="dedup_key")
    post(fixture("alertmanager/alertmanager-0.25-webhook-group-of-three.json"))
    assert Incident.objects.count() == 3


def test_grouping_by_service_keeps_one_open_incident(personas, hook):
    post, _ = hook("alertmanager", grouping="service")
    post(fixture("alertmanager/alertmanager-0.25-webhook-group-of-three.json"))
    post(fixture("alertmanager/alertmanager-0.25-webhook-firing.json"))
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    assert incident.alert_count == 4
    assert incident.title.endswith("(+2 more)")


def test_resolving_every_alert_resolves_the_incident_and_says_why(personas, hook):
    post, _ = hook("alertmanager")
    body = fixture("alertmanager/alertmanager-0.25-webhook-group-of-three.json")
    post(body)
    partly = resolved(body)
    partly["alerts"] = partly["alerts"][:2]
    post(partly)
    incident = Incident.objects.get()
    assert incident.status == "triggered"
    assert Alert.objects.filter(status="resolved").count() == 2
    post(resolved(body))
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.timeline.last().body == "Every alert of the incident resolved."
    assert Alert.objects.filter(status="firing").count() == 0
    assert Alert.objects.get(labels__instance="a").ended_at.isoformat().startswith("2026-11-26T23:20")


def test_a_service_can_keep_incidents_open_when_alerts_resolve(personas, hook):
    personas.service.auto_resolve = False
    personas.service.save()
    post, _ = hook("alertmanager")
    body = fixture("alertmanager/alertmanager-0.25-webhook-firing.json")
    post(body)
    post(resolved(body))
    assert Alert.objects.get().status == "resolved"
    assert Incident.objects.get().status == "triggered"


def test_an_alert_that_fires_again_within_the_window_reopens(personas, hook):
    post, _ = hook("alertmanager", group_window_seconds=600)
    body = fixture("alertmanager/alertmanager-0.25-webhook-firing.json")
    with time_machine.travel("2026-11-26 23:00:00Z", tick=False):
        post(body)
        post(resolved(body))
    with time_machine.travel("2026-11-26 23:05:00Z", tick=False):
        post(body)
    alert = Alert.objects.get()
    assert alert.status == "firing" and alert.count == 2
    incident = Incident.objects.get()
    assert incident.status == "triggered"
    assert incident.timeline.filter(kind="reopened").exists()
    with time_machine.travel("2026-11-26 23:06:00Z", tick=False):
        post(resolved(body))
    with time_machine.travel("2026-11-26 23:30:00Z", tick=False):
        post(body)
    assert Alert.objects.count() == 2
    assert Incident.objects.count() == 2


def test_a_silenced_alert_is_recorded_but_opens_nothing(personas, hook):
    silence = Silence.objects.create(service=personas.service, comment="known", ends_at=timezone.now() + timedelta(hours=1),
                                     matchers=[{"name": "alertname", "op": "=~", "value": "Disk.*"},
                                               {"name": "severity", "op": "!=", "value": "info"}])
    post, _ = hook("alertmanager")
    r = post(fixture("alertmanager/alertmanager-0.25-webhook-firing.json"))
    assert r.json()["suppressed"] == 1
    alert = Alert.objects.get()
    assert alert.suppressed_by == f"silence:{silence.pk}" and alert.incident is None
    assert Incident.objects.count() == 0
    post(fixture("alertmanager/alertmanager-0.25-webhook-group-of-three.json"))
    assert Incident.objects.count() == 1


def test_a_maintenance_window_silences_the_whole_service(personas, hook):
    now = timezone.now()
    MaintenanceWindow.objects.create(service=personas.service, starts_at=now - timedelta(minutes=1),
                                     ends_at=now + timedelta(hours=1), reason="db upgrade")
    post, _ = hook("generic")
    post(fixture("generic/generic-firing.json"))
    assert Alert.objects.get().suppressed_by.startswith("maintenance:")
    assert Incident.objects.count() == 0


def test_pagerduty_events_trigger_acknowledge_and_resolve(personas, hook):
    post, _ = hook("pagerduty")
    r = post(fixture("pagerduty/python-pagerduty-7.2-trigger.json"))
    assert r.status_code == 202
    assert r.json() == {"status": "success", "message": "Event processed", "dedup_key": "db1-disk"}
    incident = Incident.objects.get()
    assert incident.severity == "sev1" and incident.title == "Disk 95% full on db1"
    assert post(fixture("pagerduty/python-pagerduty-7.2-acknowledge.json")).status_code == 202
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert post(fixture("pagerduty/python-pagerduty-7.2-resolve.json")).status_code == 202
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_pagerduty_makes_a_dedup_key_when_none_is_sent(personas, hook):
    post, _ = hook("pagerduty")
    r = post(fixture("pagerduty/python-pagerduty-7.2-trigger-without-dedup-key.json"))
    assert r.status_code == 202
    key = r.json()["dedup_key"]
    assert len(key) >= 32 and Alert.objects.get().dedup_key == key


def test_pagerduty_answers_an_invalid_event_in_its_own_words(personas, hook):
    post, _ = hook("pagerduty")
    event = fixture("pagerduty/python-pagerduty-7.2-trigger.json")
    del event["payload"]["severity"]
    r = post(event)
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == "invalid event" and body["message"] == "Event object is invalid"
    assert any("payload.severity" in e for e in body["errors"])
    assert Alert.objects.count() == 0


def test_pagerduty_rejects_unknown_and_malformed_routing_keys(personas, hook):
    hook("pagerduty")
    client = Client()
    event = fixture("pagerduty/python-pagerduty-7.2-trigger.json")
    for key, error in [("0" * 32, "Invalid routing key"), ("short", "Length of 'routing_key' is incorrect")]:
        r = client.post("/v2/enqueue", json.dumps({**event, "routing_key": key}), content_type="application/json")
        assert r.status_code == 400
        assert r.json()["errors"][0].startswith(error)
    assert Alert.objects.count() == 0


def test_pagerduty_change_events_are_recorded_for_the_service(personas, hook):
    post, _ = hook("pagerduty")
    change = fixture("pagerduty/python-pagerduty-7.2-change-event.json")
    change["routing_key"] = post.key
    r = Client().post("/v2/change/enqueue", json.dumps(change), content_type="application/json")
    assert r.status_code == 202
    recorded = ChangeEvent.objects.get()
    assert recorded.service == personas.service and recorded.summary == change["payload"]["summary"]
    assert Incident.objects.count() == 0


def test_a_disabled_or_rotated_key_is_refused(personas, hook):
    from vigil.alerts.actions import do_rotate_integration_key
    post, integration = hook("generic")
    do_update_integration(integration, actor=personas.admin, enabled=False)
    assert post(fixture("generic/generic-firing.json")).status_code == 404
    do_update_integration(integration, actor=personas.admin, enabled=True)
    do_rotate_integration_key(integration, actor=personas.admin)
    assert post(fixture("generic/generic-firing.json")).status_code == 404
    assert Client().post("/hooks/alertmanager/" + post.key, "{}", content_type="application/json").status_code == 404
    assert Alert.objects.count() == 0


def test_bad_bodies_answer_422_naming_the_field_and_change_nothing(personas, hook):
    post, _ = hook("generic")
    for body, field in [(b"{nope", "body"), ({"severity": "critical"}, "summary"),
                        ({"summary": "x", "severity": "apocalyptic"}, "severity")]:
        r = post(body)
        assert r.status_code == 422, body
        assert field in [d["field"] for d in r.json()["detail"]]
    assert Alert.objects.count() == 0 and Incident.objects.count() == 0


def test_an_oversized_body_is_413(personas, hook):
    post, _ = hook("generic")
    r = post({"summary": "x", "severity": "info", "details": {"blob": "x" * 600_000}})
    assert r.status_code == 413
    assert Alert.objects.count() == 0


def test_each_key_has_a_body_limit_of_its_own(personas, hook):
    small, _ = hook("generic", max_body_kb=1)
    r = small({"summary": "x", "severity": "info", "details": {"blob": "x" * 2000}})
    assert r.status_code == 413 and r.json() == {"detail": "body is over 1 kB, this key's limit"}
    big, _ = hook("generic", max_body_kb=2048)
    assert big({"summary": "x", "severity": "info", "details": {"blob": "x" * 1_000_000}}).status_code == 200
    assert Alert.objects.count() == 1

    pd, _ = hook("pagerduty", max_body_kb=1)
    event = fixture("pagerduty/python-pagerduty-7.2-trigger.json")
    r = pd({**event, "payload": {**event["payload"], "custom_details": {"blob": "x" * 2000}}})
    assert r.status_code == 413 and r.json() == {"status": "invalid request", "message": "Request too large"}
    assert pd(event).status_code == 202
    assert Alert.objects.count() == 2


def test_a_key_over_its_rate_limit_gets_429_until_the_next_minute(personas, hook):
    post, integration = hook("generic", rate_limit_per_minute=2, grouping="dedup_key")
    with time_machine.travel("2026-11-26 23:00:15Z", tick=False):
        assert [post({"summary": s, "severity": "info", "dedup_key": s}).status_code for s in "abc"] == [200, 200, 429]
        refused = post({"summary": "d", "severity": "info", "dedup_key": "d"})
    assert refused.status_code == 429 and refused["Retry-After"] == "45"  # seconds left in the minute
    assert sorted(Alert.objects.values_list("dedup_key", flat=True)) == ["a", "b"]
    # Counted in the database, so every web process draws on one budget; refused requests do not count.
    assert RateLimitWindow.objects.get(integration=integration).requests == 2
    with time_machine.travel("2026-11-26 23:01:00Z", tick=False):
        assert post({"summary": "e", "severity": "info", "dedup_key": "e"}).status_code == 200


def test_vigils_own_alerts_do_not_count_against_a_key_limit(personas):
    from vigil.alerts import internal

    internal.integration_for(personas.service, "Heartbeats")
    Integration.objects.filter(name="Heartbeats").update(rate_limit_per_minute=1)
    for key in "abc":
        internal.fire(personas.service, "Heartbeats", dedup_key=key, summary=f"{key} is late")
    assert Alert.objects.filter(status="firing").count() == 3
    assert not RateLimitWindow.objects.exists()


def test_pagerduty_throttles_like_pagerduty(personas, hook):
    post, _ = hook("pagerduty", rate_limit_per_minute=1)
    event = fixture("pagerduty/python-pagerduty-7.2-trigger.json")
    assert post(event).status_code == 202
    r = post({**event, "dedup_key": "another"})
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    assert r.json() == {"status": "throttle event",
                        "message": "Requests for this service are arriving too quickly. Please retry later."}
    assert Alert.objects.count() == 1


def test_a_failure_midway_writes_nothing_and_answers_503(personas, hook, monkeypatch):
    post, _ = hook("alertmanager")

    def broken(*args):
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(ingest_module, "_attach", broken)
    r = post(fixture("alertmanager/alertmanager-0.25-webhook-group-of-three.json"))
    assert r.status_code == 503 and r["Retry-After"]
    assert Alert.objects.count() == 0 and Incident.objects.count() == 0
    assert not AuditEntry.objects.filter(action="incident.create").exists()


def test_the_api_manages_integrations_and_shows_the_key_once(personas, api):
    client = api(personas.admin)
    r = client.post(f"/api/v1/services/{personas.service.pk}/integrations", {"kind": "alertmanager", "name": "prod AM"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert len(body["key"]) == 32
    assert body["url"] == f"http://127.0.0.1:8000/hooks/alertmanager/{body['key']}"
    listed = client.get(f"/api/v1/services/{personas.service.pk}/integrations").json()["items"]
    assert "key" not in listed[0] and listed[0]["key_hint"] == body["key"][:6]
    rotated = client.post(f"/api/v1/integrations/{body['id']}/rotate-key").json()
    assert rotated["key"] != body["key"]
    assert api(personas.responder).post(f"/api/v1/services/{personas.service.pk}/integrations",
                                        {"kind": "grafana"}).status_code == 403
    assert api(personas.outsider).get(f"/api/v1/services/{personas.service.pk}/integrations").status_code == 404
    r = client.post(f"/api/v1/services/{personas.service.pk}/integrations", {"kind": "nagios"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "kind"
    assert body["rate_limit_per_minute"] == 6000 and body["max_body_kb"] == 512
    r = client.patch(f"/api/v1/integrations/{body['id']}", {"max_body_kb": 1024, "rate_limit_per_minute": 60})
    assert (r.json()["max_body_kb"], r.json()["rate_limit_per_minute"]) == (1024, 60)
    r = client.patch(f"/api/v1/integrations/{body['id']}", {"max_body_kb": 4096})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "max_body_kb"
    assert Integration.objects.get(pk=body["id"]).max_body_kb == 1024


def test_the_api_lists_alerts_by_incident_and_status(personas, api, hook):
    post, _ = hook("alertmanager")
    post(fixture("alertmanager/alertmanager-0.25-webhook-group-of-three.json"))
    incident = Incident.objects.get()
    client = api(personas.viewer)
    assert client.get("/api/v1/alerts", incident_id=incident.pk).json()["count"] == 3
    assert client.get("/api/v1/alerts", status="resolved").json()["count"] == 0
    assert api(personas.outsider).get("/api/v1/alerts").json()["count"] == 0
    assert client.get(f"/api/v1/incidents/{incident.pk}").json()["alert_count"] == 3


def test_the_api_creates_and_expires_silences(personas, api):
    client = api(personas.responder)
    ends = (timezone.now() + timedelta(hours=2)).isoformat()
    r = client.post("/api/v1/silences", {"service_id": personas.service.pk, "ends_at": ends, "comment": "deploy",
                                         "matchers": [{"name": "job", "op": "=~", "value": "node|db"}]})
    assert r.status_code == 201, r.content
    assert client.get("/api/v1/silences", active=True).json()["count"] == 1
    assert client.post(f"/api/v1/silences/{r.json()['id']}/expire").status_code == 200
    assert client.get("/api/v1/silences", active=True).json()["count"] == 0
    bad = client.post("/api/v1/silences", {"service_id": personas.service.pk, "ends_at": ends, "comment": "x",
                                           "matchers": [{"name": "job", "op": "=~", "value": "(unclosed"}]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "matchers.0.value"
    assert api(personas.viewer).post("/api/v1/silences", {"service_id": personas.service.pk, "ends_at": ends,
                                     "comment": "x", "matchers": [{"name": "a", "value": "b"}]}).status_code == 403


def test_a_grafana_notification_opens_an_incident_with_both_alerts(personas, hook):
    post, _ = hook("grafana")
    r = post(fixture("grafana/grafana-11-firing-two-alerts.json"))
    assert r.status_code == 200, r.content
    assert r.json()["firing"] == 2
    incident = Incident.objects.get()
    assert incident.alert_count == 2
    assert set(Alert.objects.values_list("incident_id", flat=True)) == {incident.pk}


def test_a_generic_batch_and_its_resolution(personas, hook):
    post, _ = hook("generic")
    post(fixture("generic/generic-firing.json"))
    assert Incident.objects.get().title == "Backup of db1 failed"
    post(fixture("generic/generic-resolved.json"))
    assert Alert.objects.get().status == "resolved"


def test_a_still_firing_alert_pages_once_its_silence_has_ended(personas, hook):
    post, _ = hook("alertmanager")
    body = fixture("alertmanager/alertmanager-0.25-webhook-firing.json")
    with time_machine.travel("2026-11-26 23:00:00Z", tick=False):
        Silence.objects.create(service=personas.service, comment="deploy", ends_at=timezone.now() + timedelta(minutes=10),
                               matchers=[{"name": "alertname", "op": "=", "value": "DiskFull"}])
        post(body)
    assert Incident.objects.count() == 0
    with time_machine.travel("2026-11-26 23:15:00Z", tick=False):
        post(body)
    alert = Alert.objects.get()
    assert alert.suppressed_by == "" and alert.incident is not None


def test_an_alert_that_fires_again_is_silenced_by_a_silence_made_meanwhile(personas, hook):
    post, _ = hook("alertmanager", grouping="dedup_key")
    body = fixture("alertmanager/alertmanager-0.25-webhook-firing.json")
    with time_machine.travel("2026-11-26 23:00:00Z", tick=False):
        post(body)
        post(resolved(body))
    with time_machine.travel("2026-11-26 23:05:00Z", tick=False):
        Silence.objects.create(service=personas.service, comment="known", ends_at=timezone.now() + timedelta(hours=1),
                               matchers=[{"name": "alertname", "op": "=", "value": "DiskFull"}])
        post(body)
    assert Alert.objects.get().suppressed_by.startswith("silence:")
    assert Incident.objects.get().status == "resolved"


def test_a_firing_alert_whose_incident_was_resolved_by_hand_reopens_it_or_opens_another(personas, hook):
    post, _ = hook("alertmanager", group_window_seconds=600)
    body = fixture("alertmanager/alertmanager-0.25-webhook-firing.json")
    with time_machine.travel("2026-11-26 23:00:00Z", tick=False):
        post(body)
        first = Incident.objects.get()
        incident_actions.do_resolve_incident(first, actor=personas.responder, reason="fixed, I think")
    with time_machine.travel("2026-11-26 23:05:00Z", tick=False):
        post(body)  # still firing, soon after: the same incident again
    first.refresh_from_db()
    assert first.status == "triggered" and first.timeline.filter(kind="reopened").exists()
    assert Incident.objects.count() == 1 and Alert.objects.get().incident == first
    with time_machine.travel("2026-11-26 23:06:00Z", tick=False):
        incident_actions.do_resolve_incident(first, actor=personas.responder, reason="fixed now")
    with time_machine.travel("2026-11-26 23:40:00Z", tick=False):
        post(body)  # still firing, long after: a new incident, and the alert moves to it
    second = Incident.objects.exclude(pk=first.pk).get()
    alert = Alert.objects.get()
    assert alert.incident == second and alert.count == 1
    assert second.alert_count == 1 and second.timeline.filter(kind="alert_fired").count() == 1
    first.refresh_from_db()
    assert first.status == "resolved"


def test_an_alert_firing_again_after_the_window_joins_its_groups_open_incident(personas, hook):
    post, _ = hook("alertmanager", group_window_seconds=3600)
    group = fixture("alertmanager/alertmanager-0.25-webhook-group-of-three.json")
    one = copy.deepcopy(group)
    one["alerts"] = one["alerts"][:1]
    with time_machine.travel("2026-11-26 20:00:00Z", tick=False):
        post(one)
        post(resolved(one))
    assert Incident.objects.get().status == "resolved"
    with time_machine.travel("2026-11-26 22:00:00Z", tick=False):
        others = copy.deepcopy(group)
        others["alerts"] = others["alerts"][1:]
        post(others)  # opens the group's second incident
        post(group)  # the first alert again, 2 h after it resolved: a new row in the open incident
    second = Incident.objects.get(status="triggered")
    assert Alert.objects.count() == 4
    assert Alert.objects.filter(incident=second, status="firing").count() == 3
    assert second.alert_count == 3


def test_a_silence_decides_by_the_time_each_alert_comes(personas, hook):
    post, _ = hook("generic", grouping="dedup_key")
    with time_machine.travel("2026-11-26 23:00:00Z", tick=False):
        Silence.objects.create(service=personas.service, comment="deploy at 23:10",
                               starts_at=timezone.now() + timedelta(minutes=10), ends_at=timezone.now() + timedelta(minutes=20),
                               matchers=[{"name": "app", "op": "=", "value": "shop"}])
        alert = {"severity": "warning", "labels": {"app": "shop"}}
        assert post({**alert, "summary": "before", "dedup_key": "a"}).status_code == 200
    with time_machine.travel("2026-11-26 23:12:00Z", tick=False):
        post({**alert, "summary": "during", "dedup_key": "b"})
    with time_machine.travel("2026-11-26 23:25:00Z", tick=False):
        post({**alert, "summary": "after", "dedup_key": "c"})
    assert dict(Alert.objects.values_list("dedup_key", "suppressed_by")) == {
        "a": "", "b": f"silence:{Silence.objects.get().pk}", "c": ""}


def test_changes_made_by_another_process_are_seen_once_the_cache_is_stale(personas, hook, monkeypatch):
    """The UI and API empty the caches of their own process; other processes' read again after a moment."""
    from vigil.alerts import caches

    post, integration = hook("generic", grouping="dedup_key")
    assert post({"summary": "cached now", "severity": "warning", "dedup_key": "a"}).status_code == 200
    # As another process would: no signal reaches this one.
    Integration.objects.filter(pk=integration.pk).update(enabled=False)
    MaintenanceWindow.objects.bulk_create([MaintenanceWindow(
        service=personas.service, starts_at=timezone.now() - timedelta(minutes=1), ends_at=timezone.now() + timedelta(hours=1))])
    assert post({"summary": "still taken from the cache", "severity": "warning", "dedup_key": "b"}).status_code == 200
    assert Alert.objects.get(dedup_key="b").suppressed_by == ""
    monkeypatch.setattr(caches, "TTL_SECONDS", 0)
    assert post({"summary": "refused", "severity": "warning", "dedup_key": "c"}).status_code == 404
    Integration.objects.filter(pk=integration.pk).update(enabled=True)
    assert post({"summary": "in the window", "severity": "warning", "dedup_key": "d"}).status_code == 200
    assert Alert.objects.get(dedup_key="d").suppressed_by.startswith("maintenance:")


def test_last_received_is_written_once_per_ten_seconds_not_per_request(personas, hook):
    post, integration = hook("generic", grouping="dedup_key")
    with time_machine.travel("2026-11-26 23:00:00Z", tick=False):
        post({"summary": "first", "severity": "warning", "dedup_key": "a"})
    with time_machine.travel("2026-11-26 23:00:01Z", tick=False):  # the key's row is still cached
        with CaptureQueriesContext(connection) as queries:
            assert post({"summary": "second", "severity": "warning", "dedup_key": "b"}).status_code == 200
    assert not [q for q in queries if "alerts_integration" in q["sql"]]
    integration.refresh_from_db()
    assert integration.last_received_at == datetime(2026, 11, 26, 23, 0, tzinfo=dt_timezone.utc)
    with time_machine.travel("2026-11-26 23:00:11Z", tick=False):
        post({"summary": "third", "severity": "warning", "dedup_key": "c"})
    integration.refresh_from_db()
    assert integration.last_received_at == datetime(2026, 11, 26, 23, 0, 11, tzinfo=dt_timezone.utc)


def test_ingestion_skips_the_browser_middleware_but_keeps_its_checks(personas, hook):
    post, _ = hook("pagerduty")
    r = post(fixture("pagerduty/python-pagerduty-7.2-trigger.json"))
    assert r.status_code == 202
    assert r["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in r and "Content-Security-Policy" not in r
    # Made by no person through no page: the new incident's audit entry says so.
    assert AuditEntry.objects.get(action="incident.create").channel == "system"
    assert Client().get("/v2/enqueue").status_code == 405
    assert Client().post("/v2/enqueue", "{}", content_type="application/json", HTTP_HOST="evil.test").status_code == 400
    assert Client().post("/hooks/nothing/abc", "{}", content_type="application/json").status_code == 404


@pytest.mark.django_db
def test_sqlite_ingest_transactions_of_all_processes_queue_on_one_file_lock():
    """`vigil serve` runs two web processes: their ingest transactions wait on a file lock beside the
    database, not on SQLite's busy handler. A second open of the file stands for the other process."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL queues writers itself")
    with open(f"{connection.settings_dict['NAME']}.ingest-lock", "a") as other_process:
        with ingest_module._one_writer():
            with pytest.raises(BlockingIOError):
                fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again once the writer is done
        fcntl.flock(other_process, fcntl.LOCK_UN)
