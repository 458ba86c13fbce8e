import hashlib
import json
import re
from datetime import datetime, timezone

import pytest

from vigil.alerts.formats import InvalidPayload, pagerduty
from vigil.alerts.tests import fixture

UTC = timezone.utc
AM_KEY = "12bddb76dee5684cf637a7b57f7c948572d90098106947003de641db6d0c873d"


def body(name="python-pagerduty-7.2-trigger"):
    return json.loads(fixture("pagerduty", name))


# --- one test per fixture ------------------------------------------------------------------------


def test_it_reads_a_trigger_from_alertmanagers_pagerduty_sender():
    [event] = pagerduty.parse(fixture("pagerduty", "alertmanager-0.25-pagerduty-v2-trigger"))
    assert event.dedup_key == AM_KEY
    assert (event.status, event.action) == ("firing", "trigger")
    assert event.summary == "[FIRING:1] PDProbe (db1 critical)"
    assert event.severity == "sev2"  # Alertmanager's default "error"
    assert event.source == "Alertmanager"
    assert event.labels == {"source": "Alertmanager", "severity": "error"}
    assert event.details["num_firing"] == "1"
    assert event.details["firing"].startswith("Labels:\n - alertname = PDProbe")
    assert event.links == [{"href": "http://vm:19093/#/alerts?receiver=pd", "text": "Alertmanager"}]
    assert event.started_at is None and event.ended_at is None
    assert event.group_key == ""


def test_it_reads_a_resolve_from_alertmanagers_pagerduty_sender_ignoring_its_payload():
    [event] = pagerduty.parse(fixture("pagerduty", "alertmanager-0.25-pagerduty-v2-resolve"))
    assert event.dedup_key == AM_KEY
    assert (event.status, event.action) == ("resolved", "resolve")
    assert (event.summary, event.severity, event.source) == ("", "", "")
    assert event.details == {}


def test_it_reads_a_trigger_from_the_python_pagerduty_client():
    [event] = pagerduty.parse(fixture("pagerduty", "python-pagerduty-7.2-trigger"))
    assert event.dedup_key == "db1-disk"
    assert (event.status, event.action) == ("firing", "trigger")
    assert event.summary == "Disk 95% full on db1"
    assert event.severity == "sev1"
    assert event.source == "db1.example"
    assert event.details == {"used_pct": 95}
    assert event.links == [{"href": "https://runbooks.example/disk", "text": "runbook"}]


def test_it_reads_an_acknowledge_as_an_action_on_a_firing_alert():
    [event] = pagerduty.parse(fixture("pagerduty", "python-pagerduty-7.2-acknowledge"))
    assert event.dedup_key == "db1-disk"
    assert (event.status, event.action) == ("firing", "acknowledge")
    assert event.severity == ""


def test_it_reads_a_resolve_from_the_python_pagerduty_client():
    [event] = pagerduty.parse(fixture("pagerduty", "python-pagerduty-7.2-resolve"))
    assert event.dedup_key == "db1-disk"
    assert (event.status, event.action) == ("resolved", "resolve")


def test_it_makes_a_dedup_key_for_a_trigger_without_one_as_pagerduty_does():
    raw = fixture("pagerduty", "python-pagerduty-7.2-trigger-without-dedup-key")
    [event] = pagerduty.parse(raw)
    assert re.fullmatch(r"[0-9a-f]{32}", event.dedup_key)
    assert event.summary == "no key"
    assert event.source == "web1"
    assert event.severity == "sev1"
    assert pagerduty.parse(raw)[0].dedup_key != event.dedup_key  # random, like PagerDuty's


def test_it_reads_a_change_event_from_the_python_pagerduty_client():
    change = pagerduty.parse_change(fixture("pagerduty", "python-pagerduty-7.2-change-event"))
    assert change.summary == "deploy v1.2.3"
    assert change.source == "ci"
    assert change.timestamp == datetime(2026, 1, 1, tzinfo=UTC)
    assert change.custom_details == {}
    assert change.links == [{"href": "https://ci.example/1", "text": "build"}]


def test_it_reads_every_field_of_the_documented_trigger():
    [event] = pagerduty.parse(fixture("pagerduty", "events-v2-documented-trigger"))
    assert event.dedup_key == "db1-disk"
    assert event.severity == "sev1"
    assert event.started_at == datetime(2026, 11, 26, 23, 10, 55, 40000, tzinfo=UTC)
    assert event.labels == {
        "component": "postgres", "group": "prod-datapipe", "class": "disk",
        "source": "db1.example", "severity": "critical",
    }
    assert event.group_key == hashlib.sha256(b"prod-datapipe").hexdigest()
    assert event.details == {"used_pct": 95}
    assert event.images == [{"src": "https://graphs.example/disk.png", "href": "https://graphs.example/disk", "alt": "graph"}]
    assert event.links == [
        {"href": "https://runbooks.example/disk", "text": "runbook"},
        {"href": "http://am.example:9093/#/alerts?receiver=pd", "text": "Alertmanager"},
    ]


# --- rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize("word, severity", [("critical", "sev1"), ("error", "sev2"), ("warning", "sev3"), ("info", "sev4"), ("Warning", "sev3")])
def test_it_maps_pagerduty_severities(word, severity):
    data = body()
    data["payload"]["severity"] = word
    assert pagerduty.parse(data)[0].severity == severity


def test_a_summary_of_exactly_1024_characters_is_accepted():
    data = body()
    data["payload"]["summary"] = "s" * 1024
    assert len(pagerduty.parse(data)[0].summary) == 1024


def test_custom_details_that_are_not_an_object_are_kept():
    data = body()
    data["payload"]["custom_details"] = "free text from an old integration"
    assert pagerduty.parse(data)[0].details == {"details": "free text from an old integration"}


def test_numbers_sent_for_strings_are_written_out():
    data = body()
    data["payload"]["source"] = 1
    data["dedup_key"] = 42
    [event] = pagerduty.parse(data)
    assert (event.source, event.dedup_key) == ("1", "42")


def test_links_and_images_that_are_not_http_are_dropped():
    data = body()
    data["links"] = [{"href": "javascript:alert(1)", "text": "x"}]
    data["images"] = [{"src": "data:image/png;base64,AAAA"}]
    [event] = pagerduty.parse(data)
    assert event.links == [] and event.images == []


def test_a_blank_dedup_key_on_a_trigger_is_made_like_a_missing_one():
    data = body()
    data["dedup_key"] = "  "
    assert re.fullmatch(r"[0-9a-f]{32}", pagerduty.parse(data)[0].dedup_key)


# --- bad events, answered in PagerDuty's words -----------------------------------------------------

BAD_ACTION = "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"
BAD_SEVERITY = "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"


def _set(path, value):
    def change(data):
        target = data
        for step in path[:-1]:
            target = target[step]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value

    return change


DELETE = object()


@pytest.mark.parametrize(
    "name, change, field, pagerduty_error",
    [
        ("python-pagerduty-7.2-trigger", _set(["event_action"], DELETE), "event_action", "'event_action' is missing or blank"),
        ("python-pagerduty-7.2-trigger", _set(["event_action"], "escalate"), "event_action", BAD_ACTION),
        ("python-pagerduty-7.2-trigger", _set(["event_action"], "Trigger"), "event_action", BAD_ACTION),
        ("python-pagerduty-7.2-trigger", _set(["routing_key"], DELETE), "routing_key", "'routing_key' is missing or blank"),
        ("python-pagerduty-7.2-trigger", _set(["routing_key"], " "), "routing_key", "'routing_key' is missing or blank"),
        ("python-pagerduty-7.2-trigger", _set(["routing_key"], 7), "routing_key", "'routing_key' is invalid (must be a string)"),
        ("python-pagerduty-7.2-acknowledge", _set(["dedup_key"], DELETE), "dedup_key", "'dedup_key' is missing or blank"),
        ("python-pagerduty-7.2-resolve", _set(["dedup_key"], ""), "dedup_key", "'dedup_key' is missing or blank"),
        ("python-pagerduty-7.2-trigger", _set(["dedup_key"], "k" * 256), "dedup_key", "'dedup_key' is too long (must be at most 255 characters)"),
        ("python-pagerduty-7.2-trigger", _set(["dedup_key"], {"k": 1}), "dedup_key", "'dedup_key' is invalid (must be a string)"),
        ("python-pagerduty-7.2-trigger", _set(["payload"], DELETE), "payload", "'payload' is missing or blank"),
        ("python-pagerduty-7.2-trigger", _set(["payload"], "Disk full"), "payload", "'payload' is invalid (must be an object)"),
        ("python-pagerduty-7.2-trigger", _set(["payload", "summary"], DELETE), "payload.summary", "'payload.summary' is missing or blank"),
        ("python-pagerduty-7.2-trigger", _set(["payload", "summary"], ""), "payload.summary", "'payload.summary' is missing or blank"),
        ("python-pagerduty-7.2-trigger", _set(["payload", "summary"], "s" * 1025), "payload.summary", "'payload.summary' is too long (must be at most 1024 characters)"),
        ("python-pagerduty-7.2-trigger", _set(["payload", "summary"], ["a"]), "payload.summary", "'payload.summary' is invalid (must be a string)"),
        ("python-pagerduty-7.2-trigger", _set(["payload", "source"], DELETE), "payload.source", "'payload.source' is missing or blank"),
        ("python-pagerduty-7.2-trigger", _set(["payload", "severity"], DELETE), "payload.severity", "'payload.severity' is missing or blank"),
        ("python-pagerduty-7.2-trigger", _set(["payload", "severity"], "fatal"), "payload.severity", BAD_SEVERITY),
        ("python-pagerduty-7.2-trigger", _set(["payload", "severity"], 1), "payload.severity", BAD_SEVERITY),
        ("python-pagerduty-7.2-trigger", _set(["payload", "timestamp"], "yesterday"), "payload.timestamp", "'payload.timestamp' is invalid (must be an ISO 8601 date and time)"),
        ("python-pagerduty-7.2-trigger", _set(["payload", "component"], {"a": 1}), "payload.component", "'payload.component' is invalid (must be a string)"),
        ("python-pagerduty-7.2-trigger", _set(["links"], "https://runbooks.example"), "links", "'links' is invalid (must be an array)"),
        ("python-pagerduty-7.2-trigger", _set(["links"], ["https://runbooks.example"]), "links.0", "'links.0' is invalid (must be an object)"),
        ("python-pagerduty-7.2-trigger", _set(["links"], [{"text": "runbook"}]), "links.0.href", "'links.0.href' is missing or blank"),
        ("python-pagerduty-7.2-trigger", _set(["images"], [{"alt": "graph"}]), "images.0.src", "'images.0.src' is missing or blank"),
        ("python-pagerduty-7.2-change-event", _set(["payload", "summary"], DELETE), "payload.summary", "'payload.summary' is missing or blank"),
        ("python-pagerduty-7.2-change-event", _set(["payload", "summary"], "s" * 1025), "payload.summary", "'payload.summary' is too long (must be at most 1024 characters)"),
        ("python-pagerduty-7.2-change-event", _set(["payload"], DELETE), "payload", "'payload' is missing or blank"),
        ("python-pagerduty-7.2-change-event", _set(["routing_key"], DELETE), "routing_key", "'routing_key' is missing or blank"),
    ],
)
def test_it_refuses_a_bad_event_naming_the_field_in_pagerdutys_words(name, change, field, pagerduty_error):
    data = body(name)
    change(data)
    parse = pagerduty.parse_change if "change" in name else pagerduty.parse
    with pytest.raises(InvalidPayload) as caught:
        parse(data)
    assert [f for f, _ in caught.value.errors] == [field]
    assert caught.value.pagerduty_errors == [pagerduty_error]


def test_it_lists_every_error_at_once_like_pagerduty():
    with pytest.raises(InvalidPayload) as caught:
        pagerduty.parse({"event_action": "trigger", "payload": {"summary": "x"}})
    assert caught.value.pagerduty_errors == [
        "'routing_key' is missing or blank",
        "'payload.source' is missing or blank",
        "'payload.severity' is missing or blank",
    ]


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"trigger"', b"\xc3\x28"])
def test_it_refuses_a_body_that_is_not_a_json_object(raw):
    with pytest.raises(InvalidPayload) as caught:
        pagerduty.parse(raw)
    assert caught.value.errors[0][0] == "body"
    assert caught.value.pagerduty_errors[0].startswith("'body' ")
