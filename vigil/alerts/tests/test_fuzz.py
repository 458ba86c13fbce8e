"""Whatever the body, a parser returns events that keep AlertEvent's promises or raises
InvalidPayload, and nothing else: the HTTP layer turns that into 400/422, never a 500.

Each parser gets arbitrary JSON values (as a dict/list and as bytes), arbitrary bytes, and
bodies shaped like its format with arbitrary values in each field, which reach the deep code
that arbitrary JSON rarely does."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.alerts.formats import SEVERITIES, AlertEvent, ChangeEvent, InvalidPayload, alertmanager, generic, grafana, pagerduty

PARSERS = {"alertmanager": alertmanager.parse, "grafana": grafana.parse, "pagerduty": pagerduty.parse, "generic": generic.parse}

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=25)


def maybe(valid):
    """Mostly the right kind of value, sometimes anything at all."""
    return st.one_of(valid, valid, json_values)


times = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-5)), timezone(timedelta(hours=14))])).map(datetime.isoformat),
    st.sampled_from(["0001-01-01T00:00:00Z", "2026-11-26T23:10:55.040159207Z", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+02:00", "2026-W01-1", ""]),
)
urls = st.one_of(st.sampled_from(["https://a.example/x", "http://b.example", "javascript:alert(1)", "", "HTTPS://C.EXAMPLE"]), st.text(max_size=30))


def shapes(noisy):
    """Strategies for bodies shaped like each format: with `noisy`, any field may hold any JSON
    value; without, fields hold the right kind of value (edge cases included), so that
    bodies get past validation and into the code that builds events."""

    def maybe(valid):
        return st.one_of(valid, valid, json_values) if noisy else valid

    def fields(required, optional):
        return st.fixed_dictionaries(required, optional=optional) if not noisy else st.fixed_dictionaries({}, optional={**required, **optional})

    label_values = st.text(max_size=20) | st.sampled_from(["critical", "page", "high", "none"]) | scalars
    labels = st.dictionaries(st.sampled_from(["alertname", "instance", "job", "severity", "priority", "x"]), label_values, min_size=0 if noisy else 1, max_size=5)
    annotations = st.dictionaries(st.sampled_from(["summary", "description", "message", "runbook_url"]), st.text(max_size=30) | urls | st.text(min_size=1020, max_size=1030), max_size=4)
    am_alert = fields(
        {"labels": maybe(labels)},
        {
            "status": maybe(st.sampled_from(["firing", "resolved"])),
            "annotations": maybe(annotations),
            "startsAt": maybe(times),
            "endsAt": maybe(times),
            "generatorURL": maybe(urls),
            "fingerprint": maybe(st.text(max_size=20) | st.text(min_size=250, max_size=255)),
            "dashboardURL": maybe(urls),
            "panelURL": maybe(urls),
            "silenceURL": maybe(urls),
            "imageURL": maybe(urls),
            "values": json_values,
            "valueString": json_values,
        },
    )
    am_body = fields(
        {"alerts": maybe(st.lists(maybe(am_alert), max_size=4))},
        {
            "version": st.sampled_from(["1", "4", 4]),
            "status": maybe(st.sampled_from(["firing", "resolved"])),
            "groupKey": maybe(st.text(max_size=40)),
            "groupLabels": maybe(labels),
            "truncatedAlerts": json_values,
            "title": json_values,
        },
    )
    links = st.lists(maybe(fields({"href": maybe(urls)}, {"text": json_values})), max_size=3)
    images = st.lists(maybe(fields({"src": maybe(urls)}, {"href": maybe(urls), "alt": json_values})), max_size=3)
    pd_payload = fields(
        {
            "summary": maybe(st.text(min_size=1, max_size=30) | st.text(min_size=1020, max_size=1024)),
            "source": maybe(st.text(min_size=1, max_size=20) | st.integers() | st.text(min_size=250, max_size=300)),
            "severity": maybe(st.sampled_from(["critical", "error", "warning", "info", "CRITICAL"])),
        },
        {
            "timestamp": maybe(times),
            "component": maybe(st.text(max_size=20)),
            "group": maybe(st.text(max_size=20)),
            "class": maybe(st.text(max_size=20)),
            "custom_details": json_values,
        },
    )
    pd_body = fields(
        {
            "routing_key": maybe(st.just("R0UTINGKEY0000000000000000000000")),
            "event_action": maybe(st.sampled_from(["trigger", "acknowledge", "resolve"])),
            "payload": maybe(pd_payload),
        },
        {
            "dedup_key": maybe(st.text(min_size=1, max_size=20) | st.text(min_size=250, max_size=255)),
            "links": maybe(links),
            "images": maybe(images),
            "client": json_values,
            "client_url": maybe(urls),
        },
    )
    generic_item = fields(
        {
            "summary": maybe(st.text(min_size=1, max_size=30).filter(str.strip)),
            "severity": maybe(st.sampled_from(["sev1", "critical", "high", "P3", "Warning"])),
        },
        {
            "dedup_key": maybe(st.text(max_size=20)),
            "status": maybe(st.sampled_from(["firing", "resolved"])),
            "source": maybe(st.text(max_size=20) | st.text(min_size=250, max_size=300)),
            "details": maybe(st.dictionaries(st.text(max_size=10), json_values, max_size=3)),
            "labels": maybe(labels),
        },
    )
    generic_body = st.one_of(generic_item, st.lists(maybe(generic_item), max_size=4))
    return am_body, pd_body, generic_body


am_bodies, pd_bodies, generic_bodies = (st.one_of(clean, noisy) for clean, noisy in zip(shapes(False), shapes(True)))


def check_events(parse, body, *, through_bytes):
    try:
        events = parse(body)
    except InvalidPayload as exc:
        assert exc.errors and all(isinstance(f, str) and isinstance(m, str) for f, m in exc.errors)
        assert all(isinstance(e, str) for e in exc.pagerduty_errors)
        return
    assert isinstance(events, list)
    for event in events:
        assert isinstance(event, AlertEvent)
        assert 1 <= len(event.dedup_key) <= 255
        assert event.status in ("firing", "resolved")
        assert event.action in ("trigger", "acknowledge", "resolve")
        assert event.severity in SEVERITIES or (event.action != "trigger" and event.severity == "")
        assert len(event.summary) <= 1024 and len(event.source) <= 255
        assert all(type(k) is str and type(v) is str for k, v in {**event.labels, **event.annotations}.items())
        assert all(item["href"].lower().startswith(("http://", "https://")) for item in event.links)
        assert all(item["src"].lower().startswith(("http://", "https://")) for item in event.images)
        for moment in (event.started_at, event.ended_at):
            assert moment is None or moment.utcoffset() == timedelta(0)
        assert event.group_key == "" or len(event.group_key) == 64
        assert isinstance(event.details, dict)
        if through_bytes:  # decoded by us: storable as JSON as it is
            json.dumps([event.details, event.labels, event.summary], allow_nan=False).encode()


def check_all(body, parsers):
    for parse in parsers:
        check_events(parse, body, through_bytes=False)
        check_events(parse, json.dumps(body).encode(), through_bytes=True)


each_parser = pytest.mark.parametrize("kind", sorted(PARSERS))


@each_parser
@settings(deadline=None)
@given(value=json_values)
def test_any_json_value_gives_events_or_invalid_payload(kind, value):
    check_all(value, [PARSERS[kind]])


@each_parser
@settings(deadline=None)
@given(raw=st.binary(max_size=200) | st.text(max_size=100).map(str.encode))
def test_any_bytes_give_events_or_invalid_payload(kind, raw):
    check_events(PARSERS[kind], raw, through_bytes=True)


@settings(max_examples=200, deadline=None)
@given(am_bodies)
def test_any_alertmanager_shaped_body_gives_events_or_invalid_payload(body):
    check_all(body, [alertmanager.parse])


@settings(max_examples=200, deadline=None)
@given(am_bodies.map(lambda body: {**body, "version": "1"} if isinstance(body, dict) else body))
def test_any_grafana_shaped_body_gives_events_or_invalid_payload(body):
    check_all(body, [grafana.parse])


@settings(max_examples=200, deadline=None)
@given(pd_bodies)
def test_any_pagerduty_shaped_body_gives_events_or_invalid_payload(body):
    check_all(body, [pagerduty.parse])


@settings(max_examples=200, deadline=None)
@given(pd_bodies | json_values | st.binary(max_size=100))
def test_any_change_event_body_gives_a_change_event_or_invalid_payload(body):
    for raw in (body, body if isinstance(body, bytes) else json.dumps(body).encode()):
        try:
            change = pagerduty.parse_change(raw)
        except InvalidPayload:
            continue
        assert isinstance(change, ChangeEvent)
        assert 1 <= len(change.summary) <= 1024 and len(change.source) <= 255
        assert change.timestamp is None or change.timestamp.utcoffset() == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(generic_bodies)
def test_any_generic_shaped_body_gives_events_or_invalid_payload(body):
    check_all(body, [generic.parse])
