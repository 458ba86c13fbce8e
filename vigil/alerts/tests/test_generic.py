import json
import re

import pytest

from vigil.alerts.formats import InvalidPayload, generic
from vigil.alerts.tests import fixture


def body(name="generic-firing"):
    return json.loads(fixture("generic", name))


# --- one test per fixture ------------------------------------------------------------------------


def test_it_reads_a_firing_event_with_every_field():
    [event] = generic.parse(fixture("generic", "generic-firing"))
    assert event.dedup_key == "backup-db1"
    assert (event.status, event.action) == ("firing", "trigger")
    assert event.summary == "Backup of db1 failed"
    assert event.severity == "sev1"
    assert event.source == "cron@db1"
    assert event.details == {"exit_code": 2, "log_tail": "pg_dump: error: connection refused"}
    assert event.labels == {} and event.links == []
    assert event.started_at is None and event.group_key == ""


def test_it_reads_a_resolved_event_with_the_same_key():
    [event] = generic.parse(fixture("generic", "generic-resolved"))
    assert event.dedup_key == "backup-db1"
    assert (event.status, event.action) == ("resolved", "resolve")


def test_it_uses_a_hash_of_summary_and_source_when_there_is_no_dedup_key():
    [event] = generic.parse(fixture("generic", "generic-minimal"))
    assert re.fullmatch(r"[0-9a-f]{32}", event.dedup_key)
    assert event.status == "firing"
    assert event.severity == "sev3"  # "warning"
    assert event.summary == "Certificate for shop.example expires in 7 days"
    assert event.source == ""
    assert generic.parse(fixture("generic", "generic-minimal"))[0].dedup_key == event.dedup_key


def test_it_reads_an_array_as_a_batch():
    first, second = generic.parse(fixture("generic", "generic-batch"))
    assert first.severity == second.severity == "sev2"
    assert first.labels == {"queue": "emails", "depth": "10412"}
    assert first.links == [{"href": "https://grafana.example/d/queues", "text": "Queues"}]
    assert (first.status, second.status) == ("firing", "resolved")
    assert first.dedup_key != second.dedup_key


# --- rules --------------------------------------------------------------------------------------


def test_the_same_summary_from_another_source_is_another_alert():
    one = generic.parse({"summary": "Disk full", "severity": "sev2", "source": "db1"})[0]
    two = generic.parse({"summary": "Disk full", "severity": "sev2", "source": "db2"})[0]
    assert one.dedup_key != two.dedup_key


@pytest.mark.parametrize(
    "word, severity",
    [("sev1", "sev1"), ("SEV2", "sev2"), ("sev4", "sev4"), ("critical", "sev1"), ("page", "sev1"),
     ("error", "sev2"), ("high", "sev2"), ("major", "sev2"), ("warning", "sev3"), ("info", "sev4"), ("P5", "sev4")],
)
def test_it_takes_vigils_severities_and_the_senders_words(word, severity):
    assert generic.parse({"summary": "s", "severity": word})[0].severity == severity


def test_numbers_sent_for_strings_are_written_out():
    [event] = generic.parse({"summary": 500, "severity": "sev2", "dedup_key": 17, "source": 3})
    assert (event.summary, event.dedup_key, event.source) == ("500", "17", "3")


def test_an_empty_array_gives_no_events():
    assert generic.parse(b"[]") == []


# --- bad bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"severity": "sev1"}, "summary", "is required"),
        ({"summary": "   ", "severity": "sev1"}, "summary", "must not be blank"),
        ({"summary": "s" * 1025, "severity": "sev1"}, "summary", "must be at most 1024 characters"),
        ({"summary": {"text": "x"}, "severity": "sev1"}, "summary", "must be a string"),
        ({"summary": "s"}, "severity", "is required"),
        ({"summary": "s", "severity": "urgent"}, "severity", "must be one of sev1, sev2, sev3, sev4, critical, error, warning, info"),
        ({"summary": "s", "severity": ["sev1"]}, "severity", "must be one of sev1, sev2, sev3, sev4, critical, error, warning, info"),
        ({"summary": "s", "severity": "sev1", "status": "down"}, "status", "must be firing or resolved"),
        ({"summary": "s", "severity": "sev1", "dedup_key": "k" * 256}, "dedup_key", "must be at most 255 characters"),
        ({"summary": "s", "severity": "sev1", "dedup_key": ["k"]}, "dedup_key", "must be a string"),
        ({"summary": "s", "severity": "sev1", "source": {"host": "db1"}}, "source", "must be a string"),
        ({"summary": "s", "severity": "sev1", "details": ["a"]}, "details", "must be an object"),
        ({"summary": "s", "severity": "sev1", "labels": ["a"]}, "labels", "must be an object"),
        ({"summary": "s", "severity": "sev1", "links": [{"href": "javascript:x"}]}, "links", "must be a list of {href, text} with http(s) URLs"),
        ({"summary": "s", "severity": "sev1", "links": "https://x.example"}, "links", "must be a list of {href, text} with http(s) URLs"),
        ([{"summary": "s", "severity": "sev1"}, {"severity": "sev1"}], "1.summary", "is required"),
        ([{"summary": "s", "severity": "sev1"}, "s"], "1", "must be an object"),
        (42, "body", "must be a JSON object or an array of objects"),
    ],
)
def test_it_refuses_a_bad_body_naming_the_field(data, field, message):
    with pytest.raises(InvalidPayload) as caught:
        generic.parse(json.dumps(data).encode())
    assert caught.value.errors == [(field, message)]


def test_it_names_every_missing_field_at_once():
    with pytest.raises(InvalidPayload) as caught:
        generic.parse(b"{}")
    assert caught.value.errors == [("summary", "is required"), ("severity", "is required")]
    assert str(caught.value) == "summary is required (and 1 more)"
