"""Debian's prometheus-alertmanager (0.25) delivering to a running `vigil serve`, configured as a
user would: the integration's URL pasted into `webhook_configs`, or Vigil's `/v2/enqueue` and
the integration key pasted into `pagerduty_configs`.

Alerts are posted to Alertmanager's own `/api/v2/alerts` (as Prometheus does), firing with an
`endsAt` well in the future, and resolved by posting them again with `endsAt` in the past.
With group_wait 1 s and group_interval 2 s, a delivery comes within about 3 s of a change.
"""

from datetime import datetime, timedelta, timezone

import pytest

from .conftest import am_fingerprint, sha256_hex, wait_for

pytestmark = pytest.mark.clients

DEADLINE = 30  # seconds for Vigil to show what Alertmanager was told


def rfc3339(moment):
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def am_alert(labels, starts, ends):
    return {
        "labels": labels,
        "annotations": {"summary": f"Disk 95% full on {labels['instance']}", "runbook_url": "https://runbooks.example/disk"},
        "startsAt": rfc3339(starts), "endsAt": rfc3339(ends),
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=disk",
    }


def route(receiver):
    return {
        "global": {"resolve_timeout": "5m"},  # the tests resolve alerts themselves, never by timeout
        "route": {"receiver": receiver["name"], "group_by": ["alertname"], "group_wait": "1s",
                  "group_interval": "2s", "repeat_interval": "1h"},
        "receivers": [receiver],
    }


def test_alertmanager_webhook_opens_an_incident_and_its_resolution_resolves_it(alertmanager, vigil):
    service = vigil.service("Orders DB (Alertmanager webhook)")
    sid = service["id"]
    hook = vigil.integration(sid, "alertmanager", "Alertmanager")
    assert hook["url"] == f"{vigil.base}/hooks/alertmanager/{hook['key']}"
    am = alertmanager(route({"name": "vigil", "webhook_configs": [
        {"url": hook["url"], "send_resolved": True, "max_alerts": 0}]}))

    now = datetime.now(timezone.utc)
    started, later = now - timedelta(seconds=30), now + timedelta(minutes=10)
    labels = [{"alertname": "DiskFull", "severity": "critical", "job": "node", "instance": f"db{i}:9100"}
              for i in (1, 2)]
    am.post_alerts([am_alert(each, started, later) for each in labels])

    def opened():
        incidents, alerts = vigil.incidents(sid), vigil.alerts(sid)
        firing = [a for a in alerts if a["status"] == "firing"]
        if len(incidents) == 1 and len(firing) == 2 and incidents[0]["alert_count"] == 2:
            return incidents[0], alerts
        return None

    incident, alerts = wait_for("one incident with both alerts", opened, DEADLINE, processes=[am.process, vigil.server])
    assert incident["status"] == "triggered"
    assert incident["severity"] == "sev1"  # severity="critical"
    assert "Disk 95% full" in incident["title"]
    # One alert per Alertmanager alert, known by Alertmanager's own fingerprint of its labels.
    assert {a["dedup_key"] for a in alerts} == {am_fingerprint(each) for each in labels}
    assert all(a["incident_id"] == incident["id"] for a in alerts)
    by_instance = {a["labels"]["instance"]: a for a in alerts}
    assert by_instance["db1:9100"]["labels"] == labels[0]
    assert by_instance["db1:9100"]["summary"] == "Disk 95% full on db1:9100"
    assert by_instance["db1:9100"]["started_at"].startswith(rfc3339(started)[:19])
    assert any(link["href"].startswith("http://prometheus.example:9090/") for link in by_instance["db1:9100"]["links"])
    assert any(e["kind"] == "alert_fired" for e in vigil.timeline(incident["id"]))

    # One of the two resolves: the alert closes, the incident stays open for the other.
    am.post_alerts([am_alert(labels[0], started, datetime.now(timezone.utc) - timedelta(seconds=1))])

    def first_resolved():
        alerts = {a["labels"]["instance"]: a for a in vigil.alerts(sid)}
        return alerts if alerts["db1:9100"]["status"] == "resolved" else None

    alerts = wait_for("db1 resolved in Vigil", first_resolved, DEADLINE, processes=[am.process, vigil.server])
    assert alerts["db2:9100"]["status"] == "firing"
    assert vigil.incidents(sid)[0]["status"] == "triggered"

    # The last one resolves: Vigil resolves the incident itself and says why.
    am.post_alerts([am_alert(labels[1], started, datetime.now(timezone.utc) - timedelta(seconds=1))])
    incident = wait_for("the incident resolved by Vigil", lambda: next(
        (i for i in vigil.incidents(sid) if i["status"] == "resolved"), None), DEADLINE,
        processes=[am.process, vigil.server])
    assert incident["resolved_at"]
    assert {a["status"] for a in vigil.alerts(sid)} == {"resolved"}
    assert any("Every alert of the incident resolved" in e["body"] for e in vigil.timeline(incident["id"]))
    assert len(vigil.incidents(sid)) == 1


def test_alertmanager_pagerduty_receiver_pointed_at_vigil_opens_and_resolves_an_incident(alertmanager, vigil):
    service = vigil.service("Payments API (Alertmanager as a PagerDuty client)")
    sid = service["id"]
    pd = vigil.integration(sid, "pagerduty", "Alertmanager via Events API v2")
    assert pd["url"] == f"{vigil.base}/v2/enqueue"
    am = alertmanager(route({"name": "vigil-pd", "pagerduty_configs": [
        {"routing_key": pd["key"], "url": pd["url"], "send_resolved": True}]}))

    now = datetime.now(timezone.utc)
    started = now - timedelta(seconds=30)
    labels = {"alertname": "PaymentsErrors", "severity": "critical", "instance": "pay1:8080"}
    am.post_alerts([am_alert(labels, started, now + timedelta(minutes=10))])

    def opened():
        incidents, alerts = vigil.incidents(sid), vigil.alerts(sid)
        return (incidents[0], alerts[0]) if len(incidents) == 1 and len(alerts) == 1 else None

    incident, alert = wait_for("an incident from Alertmanager's PagerDuty event", opened, DEADLINE,
                               processes=[am.process, vigil.server])
    assert incident["status"] == "triggered" and alert["status"] == "firing"
    # Alertmanager's PagerDuty sender keys the event by the sha256 of its group key.
    assert alert["dedup_key"] == sha256_hex('{}:{alertname="PaymentsErrors"}')
    assert alert["source"] == "Alertmanager"
    assert "PaymentsErrors" in alert["summary"]

    am.post_alerts([am_alert(labels, started, datetime.now(timezone.utc) - timedelta(seconds=1))])
    incident = wait_for("the incident resolved by Alertmanager's resolve event", lambda: next(
        (i for i in vigil.incidents(sid) if i["status"] == "resolved"), None), DEADLINE,
        processes=[am.process, vigil.server])
    assert [a["status"] for a in vigil.alerts(sid)] == ["resolved"]
    assert len(vigil.incidents(sid)) == 1
