import hashlib
import json
from datetime import datetime, timezone

import pytest

from vigil.alerts.formats import InvalidPayload, alertmanager
from vigil.alerts.tests import fixture

UTC = timezone.utc


def body(name="alertmanager-0.25-webhook-firing"):
    return json.loads(fixture("alertmanager", name))


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


# --- one test per fixture ------------------------------------------------------------------------


def test_it_reads_a_firing_alert_from_alertmanager_0_25():
    [event] = alertmanager.parse(fixture("alertmanager", "alertmanager-0.25-webhook-firing"))
    assert event.dedup_key == "bca19f25a6783506"
    assert event.fingerprint == "bca19f25a6783506"
    assert (event.status, event.action) == ("firing", "trigger")
    assert event.severity == "sev1"
    assert event.summary == "Disk 95% full on db1"
    assert event.source == "db1:9100"
    assert event.labels == {"alertname": "DiskFull", "instance": "db1:9100", "service": "postgres", "severity": "critical"}
    assert event.annotations == {"runbook_url": "https://runbooks.example/disk", "summary": "Disk 95% full on db1"}
    assert event.started_at == datetime(2026, 11, 26, 23, 10, 55, 40159, tzinfo=UTC)
    assert event.ended_at is None
    assert event.group_key == sha256('{}:{alertname="DiskFull"}')
    assert event.links == [
        {"href": "http://prom.example:9090/graph?g0.expr=disk", "text": "Source"},
        {"href": "https://runbooks.example/disk", "text": "Runbook"},
    ]
    assert event.details == {
        "receiver": "vigil",
        "externalURL": "http://vm:19093",
        "groupKey": '{}:{alertname="DiskFull"}',
        "truncatedAlerts": 0,
    }


def test_it_reads_the_resolution_with_the_same_key_and_start_and_a_real_end():
    [event] = alertmanager.parse(fixture("alertmanager", "alertmanager-0.25-webhook-resolved"))
    assert event.dedup_key == "bca19f25a6783506"
    assert (event.status, event.action) == ("resolved", "resolve")
    assert event.severity == "sev1"
    assert event.started_at == datetime(2026, 11, 26, 23, 10, 55, 40159, tzinfo=UTC)
    assert event.ended_at == datetime(2026, 11, 26, 23, 11, 2, 120000, tzinfo=UTC)
    assert event.group_key == sha256('{}:{alertname="DiskFull"}')


def test_it_reads_a_prometheus_rule_sent_through_alertmanager():
    [event] = alertmanager.parse(fixture("alertmanager", "prometheus-2.42-via-alertmanager-webhook"))
    assert event.dedup_key == "15a37193dce72bab"
    assert event.status == "firing"
    assert event.severity == "sev3"  # severity="warning"
    assert event.summary == "demo rule that always fires"
    assert event.source == "alertmanager"  # no instance or job label
    assert event.labels == {"alertname": "AlwaysFiring", "severity": "warning"}
    assert event.started_at == datetime(2026, 11, 26, 23, 13, 18, 412000, tzinfo=UTC)
    assert event.ended_at is None
    assert event.links == [{"href": "http://vm:19090/graph?g0.expr=vector%281%29+%3E+0&g0.tab=1", "text": "Source"}]


def test_it_reads_each_alert_of_a_group_as_its_own_event_sharing_the_group_key():
    events = alertmanager.parse(fixture("alertmanager", "alertmanager-0.25-webhook-group-of-three"))
    assert [e.labels["instance"] for e in events] == ["a", "b", "c"]
    assert [e.dedup_key for e in events] == ["9b7322e2c5850fca", "b7a241eb7bbba475", "1c401ba1af7d66a4"]
    assert {e.group_key for e in events} == {sha256('{}:{alertname="CPUHigh"}')}
    assert [e.source for e in events] == ["a", "b", "c"]
    assert [e.severity for e in events] == ["sev3"] * 3
    assert events[0].summary == "CPU above 90% on a"
    assert events[2].started_at == datetime(2026, 11, 26, 23, 20, 3, 610000, tzinfo=UTC)


# --- rules --------------------------------------------------------------------------------------


def test_its_group_key_is_the_dedup_key_alertmanagers_own_pagerduty_sender_uses():
    data = body()
    data["groupKey"] = '{}:{alertname="PDProbe"}'
    pagerduty_body = json.loads(fixture("pagerduty", "alertmanager-0.25-pagerduty-v2-trigger"))
    [event] = alertmanager.parse(data)
    assert event.group_key == pagerduty_body["dedup_key"]


def test_it_uses_a_hash_of_the_sorted_labels_when_there_is_no_fingerprint():
    data = body()
    del data["alerts"][0]["fingerprint"]
    [event] = alertmanager.parse(data)
    assert len(event.dedup_key) == 32 and int(event.dedup_key, 16) >= 0
    assert event.fingerprint is None

    reordered = body()
    del reordered["alerts"][0]["fingerprint"]
    reordered["alerts"][0]["labels"] = dict(reversed(list(reordered["alerts"][0]["labels"].items())))
    assert alertmanager.parse(reordered)[0].dedup_key == event.dedup_key

    other = body()
    del other["alerts"][0]["fingerprint"]
    other["alerts"][0]["labels"]["instance"] = "db2:9100"
    assert alertmanager.parse(other)[0].dedup_key != event.dedup_key


def test_it_groups_by_the_group_labels_when_there_is_no_group_key():
    data = body()
    del data["groupKey"]
    [event] = alertmanager.parse(data)
    assert len(event.group_key) == 64
    data["groupLabels"] = {}
    assert alertmanager.parse(data)[0].group_key == ""


def test_it_passes_on_truncated_alerts_so_missing_ones_are_not_taken_as_resolved():
    data = body()
    data["truncatedAlerts"] = 7
    assert alertmanager.parse(data)[0].details["truncatedAlerts"] == 7


def test_an_alert_without_a_status_takes_the_groups():
    data = body("alertmanager-0.25-webhook-resolved")
    del data["alerts"][0]["status"]
    assert alertmanager.parse(data)[0].status == "resolved"


def test_the_summary_falls_back_to_the_description_then_the_alertname():
    data = body()
    data["alerts"][0]["annotations"] = {"description": "Disk is nearly full"}
    assert alertmanager.parse(data)[0].summary == "Disk is nearly full"
    data["alerts"][0]["annotations"] = {}
    assert alertmanager.parse(data)[0].summary == "DiskFull"


def test_it_cuts_a_long_summary_instead_of_refusing_it():
    data = body()
    data["alerts"][0]["annotations"]["summary"] = "x" * 5000
    summary = alertmanager.parse(data)[0].summary
    assert len(summary) == 1024 and summary.endswith("…")


@pytest.mark.parametrize(
    "word, severity",
    [("critical", "sev1"), ("page", "sev1"), ("error", "sev2"), ("high", "sev2"), ("major", "sev2"),
     ("warning", "sev3"), ("info", "sev4"), ("none", "sev4"), ("CRITICAL", "sev1"), ("whatever", "sev3")],
)
def test_it_maps_the_severity_label(word, severity):
    data = body()
    data["alerts"][0]["labels"]["severity"] = word
    assert alertmanager.parse(data)[0].severity == severity


def test_an_alert_without_a_severity_label_is_sev3():
    data = body()
    del data["alerts"][0]["labels"]["severity"]
    assert alertmanager.parse(data)[0].severity == "sev3"


def test_it_writes_out_label_values_that_are_not_strings():
    data = body()
    data["alerts"][0]["labels"] = {"alertname": "X", "port": 9100, "up": True, "gone": None, "ratio": 0.5, "tags": ["a"]}
    labels = alertmanager.parse(data)[0].labels
    assert labels == {"alertname": "X", "port": "9100", "up": "true", "gone": "", "ratio": "0.5", "tags": '["a"]'}


def test_it_reads_times_with_an_offset_as_utc():
    data = body()
    data["alerts"][0]["startsAt"] = "2026-11-27T01:10:55+02:00"
    assert alertmanager.parse(data)[0].started_at == datetime(2026, 11, 26, 23, 10, 55, tzinfo=UTC)


def test_it_drops_links_that_are_not_http():
    data = body()
    data["alerts"][0]["generatorURL"] = "javascript:alert(1)"
    data["alerts"][0]["annotations"]["runbook_url"] = "data:text/html,hi"
    assert alertmanager.parse(data)[0].links == []


def test_it_hands_a_grafana_body_to_the_grafana_parser():
    events = alertmanager.parse(fixture("grafana", "grafana-11-firing-two-alerts"))
    assert len(events) == 2
    assert {"href": "https://grafana.example/d/db-overview?orgId=1", "text": "Dashboard"} in events[0].links


def test_an_empty_group_gives_no_events():
    data = body()
    data["alerts"] = []
    assert alertmanager.parse(data) == []


# --- bad bodies ---------------------------------------------------------------------------------


def _without(key):
    def change(data):
        del data[key]

    return change


def _set(path, value):
    def change(data):
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    "change, field",
    [
        pytest.param(_without("alerts"), "alerts", id="no alerts"),
        pytest.param(_set(["alerts"], {"0": {}}), "alerts", id="alerts not a list"),
        pytest.param(_set(["alerts", 0], "DiskFull"), "alerts.0", id="alert not an object"),
        pytest.param(_set(["alerts", 0, "labels"], ["severity"]), "alerts.0.labels", id="labels not an object"),
        pytest.param(_set(["alerts", 0, "annotations"], "x"), "alerts.0.annotations", id="annotations not an object"),
        pytest.param(_set(["alerts", 0, "status"], "pending"), "alerts.0.status", id="unknown status"),
        pytest.param(_set(["alerts", 0, "fingerprint"], 42), "alerts.0.fingerprint", id="fingerprint not a string"),
        pytest.param(_set(["alerts", 0, "fingerprint"], "f" * 256), "alerts.0.fingerprint", id="fingerprint too long"),
        pytest.param(_set(["alerts", 0, "startsAt"], "yesterday"), "alerts.0.startsAt", id="startsAt not a time"),
        pytest.param(_set(["alerts", 0, "endsAt"], 1764198662), "alerts.0.endsAt", id="endsAt a number"),
        pytest.param(_set(["alerts", 0, "endsAt"], "9999-12-31T23:00:00-05:00"), "alerts.0.endsAt", id="endsAt out of range"),
        pytest.param(_set(["groupKey"], ["x"]), "groupKey", id="groupKey not a string"),
        pytest.param(_set(["groupLabels"], "alertname"), "groupLabels", id="groupLabels not an object"),
    ],
)
def test_it_refuses_a_bad_body_naming_the_field(change, field):
    data = body()
    if field == "groupLabels":
        del data["groupKey"]
    change(data)
    with pytest.raises(InvalidPayload) as caught:
        alertmanager.parse(data)
    assert [f for f, _ in caught.value.errors] == [field]


def test_it_refuses_an_alert_with_neither_fingerprint_nor_labels():
    data = body()
    data["alerts"][0] = {"status": "firing", "labels": {}}
    with pytest.raises(InvalidPayload) as caught:
        alertmanager.parse(data)
    assert caught.value.errors == [("alerts.0.labels", "needs at least one label pair when there is no fingerprint")]


@pytest.mark.parametrize("raw", [b"", b"{", b"not json", b"\xff\xfe{}", b"[]", b"42", b'"alerts"', b"null"])
def test_it_refuses_a_body_that_is_not_a_json_object(raw):
    with pytest.raises(InvalidPayload) as caught:
        alertmanager.parse(raw)
    assert caught.value.errors[0][0] == "body"


def test_it_names_every_bad_alert_not_just_the_first():
    data = body()
    data["alerts"] = [data["alerts"][0], {"labels": "x"}, data["alerts"][0], {"status": "nope", "labels": {"a": "b"}}]
    with pytest.raises(InvalidPayload) as caught:
        alertmanager.parse(data)
    assert [f for f, _ in caught.value.errors] == ["alerts.1.labels", "alerts.3.status"]


def test_it_stops_counting_errors_at_twenty():
    data = body()
    data["alerts"] = ["bad"] * 500
    with pytest.raises(InvalidPayload) as caught:
        alertmanager.parse(data)
    assert len(caught.value.errors) == 20
    assert str(caught.value) == "alerts.0 must be an object (and 19 more)"
