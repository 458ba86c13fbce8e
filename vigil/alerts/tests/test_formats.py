"""What every parser shares: decoding, severity words, times, links, the error type, the event type."""

import dataclasses
from datetime import datetime, timezone

import pytest

from vigil.alerts.formats import AlertEvent, InvalidPayload, decode, generic, link, map_severity, parse_time

UTC = timezone.utc


def test_decode_forgives_a_utf8_byte_order_mark():
    assert decode(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_decode_takes_a_str_body():
    assert decode('{"a": "é"}') == {"a": "é"}


@pytest.mark.parametrize(
    "raw, why",
    [
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"a": 1e999}', "number out of range"),
        ('{"a": 1}'.encode("utf-16"), "is not UTF-8"),
        (b'{"a": "\xed\xa0\x80"}', "is not UTF-8"),  # an encoded surrogate
        (b"[" * 100_000, "is nested too deeply"),
        (b"1" * 5000, "is not valid JSON"),
    ],
)
def test_decode_refuses_what_a_database_or_encoder_could_not_take_back(raw, why):
    with pytest.raises(InvalidPayload) as caught:
        decode(raw)
    field, message = caught.value.errors[0]
    assert field == "body" and why in message


def test_decode_replaces_lone_surrogates_and_drops_nul_characters():
    value = decode(b'{"k\\u0000ey": ["a\\ud800b", "c\\u0000d", "\\ud83d\\ude00"]}')
    assert value == {"key": ["a?b", "cd", "\U0001F600"]}


@pytest.mark.parametrize(
    "word, severity",
    [("critical", "sev1"), ("page", "sev1"), ("P1", "sev1"), ("error", "sev2"), ("high", "sev2"),
     ("major", "sev2"), ("warning", "sev3"), ("average", "sev3"), ("info", "sev4"), ("low", "sev4"),
     ("none", "sev4"), (" Critical ", "sev1"), ("unheard-of", "sev3"), (None, "sev3"), (1, "sev3")],
)
def test_severity_words_map_to_vigils(word, severity):
    assert map_severity(word) == severity


def test_alertmanagers_zero_time_is_none_and_a_time_without_offset_is_utc():
    errors = []
    assert parse_time("0001-01-01T00:00:00Z", "t", errors) is None
    assert parse_time("2026-11-26T23:10:55", "t", errors) == datetime(2026, 11, 26, 23, 10, 55, tzinfo=UTC)
    assert parse_time("2026-11-26T23:10:55.040159207Z", "t", errors) == datetime(2026, 11, 26, 23, 10, 55, 40159, tzinfo=UTC)
    assert errors == []


def test_links_are_http_only():
    assert link("https://a.example/x", "x") == {"href": "https://a.example/x", "text": "x"}
    assert link("HTTP://a.example/", None) == {"href": "HTTP://a.example/", "text": ""}
    for href in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "//a.example", "ftp://a.example", "", None, 7):
        assert link(href, "x") is None


def test_invalid_payload_reads_as_a_sentence_and_gives_the_api_detail():
    exc = InvalidPayload([("alerts.0.labels", "must be an object"), ("alerts.1", "must be an object")])
    assert str(exc) == "alerts.0.labels must be an object (and 1 more)"
    assert exc.detail()[0] == {"field": "alerts.0.labels", "msg": "must be an object", "loc": ["body", "alerts", "0", "labels"]}
    assert exc.pagerduty_errors == ["'alerts.0.labels' must be an object", "'alerts.1' must be an object"]


def test_alert_events_are_frozen():
    [event] = generic.parse({"summary": "s", "severity": "sev1"})
    assert isinstance(event, AlertEvent)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.status = "resolved"
