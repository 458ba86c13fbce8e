"""Fuzzed bodies on every ingestion endpoint, through Django's full request path and the database.

test_fuzz.py holds the parsers to their promise; this holds the endpoints to theirs: whatever
the body, the answer is never a 500 and is one of the documented statuses, and a rejected
request (4xx) changes nothing in the database. An accepted one leaves it consistent: every
firing alert belongs to an open incident and no resolved incident still has a firing alert.

Each endpoint gets arbitrary bytes, arbitrary JSON values, and bodies shaped like its format
with fuzzed leaves (the strategies of test_fuzz.py). The PagerDuty shapes carry a placeholder
routing key that is swapped for the integration's real one, so that most of them get past the
key check into the parser and the ingest code.
"""

import json
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.alerts.actions import do_create_integration
from vigil.alerts.models import Alert, ChangeEvent, Integration
from vigil.incidents.models import OPEN_STATUSES, Incident, Status, TimelineEntry

from .test_fuzz import am_bodies, generic_bodies, json_values, pd_bodies

# The routing key test_fuzz.py's PagerDuty shapes use; replaced by the real key before sending.
PLACEHOLDER = "R0UTINGKEY0000000000000000000000"
DOCUMENTED = {200, 202, 400, 404, 413, 422, 429}
ENDPOINTS = ["alertmanager", "grafana", "generic", "pagerduty", "change"]

fuzz = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
fuzz_shaped = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

raw_bytes = st.binary(max_size=300) | st.text(max_size=150).map(lambda s: s.encode("utf-8", "surrogatepass"))
# Arbitrary JSON objects that carry the placeholder routing key: past the key check on /v2/*.
keyed_objects = st.dictionaries(st.sampled_from(["event_action", "dedup_key", "payload", "links", "images",
                                                 "client", "client_url", "x"]), json_values, max_size=5).map(
    lambda d: {**d, "routing_key": PLACEHOLDER})
grafana_bodies = am_bodies.map(lambda body: {**body, "version": "1"} if isinstance(body, dict) else body)


class Endpoints:
    """One enabled integration of each kind on the personas' service, without a rate limit (the
    fuzzing would otherwise hit it), and a client that answers a 500 instead of raising it."""

    def __init__(self, personas):
        self.client = Client(raise_request_exception=False)
        self.keys = {}
        for kind in ("alertmanager", "grafana", "generic", "pagerduty"):
            _, self.keys[kind] = do_create_integration(personas.service, actor=personas.admin, kind=kind,
                                                       rate_limit_per_minute=0)

    def path(self, endpoint):
        return {"pagerduty": "/v2/enqueue", "change": "/v2/change/enqueue"}.get(endpoint) or \
            f"/hooks/{endpoint}/{self.keys[endpoint]}"

    def post(self, path, body, content_type="application/json"):
        return self.client.post(path, body, content_type=content_type)

    def encode(self, endpoint, body):
        """Bytes for `body`: bytes as they are; JSON values with the placeholder key made real."""
        if isinstance(body, bytes):
            return body
        if endpoint in ("pagerduty", "change") and isinstance(body, dict) and body.get("routing_key") == PLACEHOLDER:
            body = {**body, "routing_key": self.keys["pagerduty"]}
        return json.dumps(body).encode()


@pytest.fixture
def endpoints(personas):
    return Endpoints(personas)


def state():
    """What a rejected request must leave as it was."""
    return (
        list(Alert.objects.order_by("id").values_list("id", "status", "count", "last_seen", "incident_id")),
        list(Incident.objects.order_by("id").values_list("id", "status", "alert_count")),
        ChangeEvent.objects.count(),
        TimelineEntry.objects.count(),
        list(Integration.objects.order_by("id").values_list("id", "last_received_at")),
    )


def check_consistent():
    """After an accepted request: no alert fires outside an open incident (nothing is silenced in
    these tests), and no resolved incident keeps a firing alert."""
    stray = Alert.objects.filter(status=Alert.Status.FIRING).exclude(incident__status__in=OPEN_STATUSES)
    assert not stray.exists(), list(stray.values("id", "dedup_key", "incident_id", "incident__status"))
    left = Incident.objects.filter(status=Status.RESOLVED, alerts__status=Alert.Status.FIRING)
    assert not left.exists(), list(left.values("id", "alerts__id"))


def send(endpoints, endpoint, body, *, path=None, content_type="application/json"):
    """Post `body`, check the endpoint's promises, and return the response."""
    data = endpoints.encode(endpoint, body)
    before = state()
    r = endpoints.post(path or endpoints.path(endpoint), data, content_type=content_type)
    shown = f"{endpoint} {data[:300]!r} -> {r.status_code} {r.content[:500]!r}"
    assert r.status_code != 500, shown
    assert r.status_code in DOCUMENTED, shown
    if 400 <= r.status_code < 500:
        assert state() == before, "a rejected request wrote: " + shown
        if r.status_code != 404 or endpoint in ("pagerduty", "change"):
            assert r["Content-Type"] == "application/json", shown
    else:
        reply = r.json()
        if endpoint == "pagerduty":
            assert r.status_code == 202, shown
            assert reply["status"] == "success" and isinstance(reply["dedup_key"], str), shown
            assert 1 <= len(reply["dedup_key"]) <= 255, shown
        elif endpoint == "change":
            assert r.status_code == 202 and reply["status"] == "success", shown
            assert ChangeEvent.objects.count() == before[2] + 1, shown
        else:
            assert r.status_code == 200 and reply["status"] == "ok", shown
        check_consistent()
    if r.status_code == 400 and endpoint in ("pagerduty", "change"):
        reply = r.json()
        assert reply["status"] == "invalid event" and reply["errors"], shown
        assert all(isinstance(e, str) for e in reply["errors"]), shown
    if r.status_code == 422:
        assert r.json()["detail"], shown
    return r


each_endpoint = pytest.mark.parametrize("endpoint", ENDPOINTS)


@each_endpoint
@fuzz
@given(raw=raw_bytes)
def test_any_bytes_get_a_documented_answer_and_a_refusal_writes_nothing(endpoints, endpoint, raw):
    r = send(endpoints, endpoint, raw)
    if endpoint in ("pagerduty", "change"):
        # Without a routing key there is nothing to accept, whatever the rest.
        assert r.status_code == 400


@each_endpoint
@fuzz
@given(value=json_values | keyed_objects)
def test_any_json_value_gets_a_documented_answer_and_a_refusal_writes_nothing(endpoints, endpoint, value):
    send(endpoints, endpoint, value)


@pytest.mark.parametrize("endpoint", ["alertmanager", "grafana"])
@fuzz_shaped
@given(data=st.data())
def test_alertmanager_and_grafana_shaped_bodies(endpoints, endpoint, data):
    body = data.draw(am_bodies if endpoint == "alertmanager" else grafana_bodies)
    send(endpoints, endpoint, body)


@fuzz_shaped
@given(body=generic_bodies)
def test_generic_shaped_bodies(endpoints, body):
    send(endpoints, "generic", body)


@fuzz_shaped
@given(body=pd_bodies)
def test_pagerduty_shaped_events(endpoints, body):
    send(endpoints, "pagerduty", body)


@fuzz_shaped
@given(body=pd_bodies)
def test_pagerduty_shaped_change_events(endpoints, body):
    send(endpoints, "change", body)


@fuzz
@given(body=st.lists(pd_bodies, min_size=2, max_size=6))
def test_a_run_of_pagerduty_events_keeps_incidents_and_alerts_consistent(endpoints, body):
    """Triggers, acknowledges and resolves in sequence: the state after each stays consistent."""
    for event in body:
        send(endpoints, "pagerduty", event)


@pytest.mark.parametrize("endpoint", ["alertmanager", "grafana", "generic"])
@fuzz
@given(key=st.text(max_size=40), body=st.sampled_from([b"{}", b'{"alerts": []}', b"[]", b"\xff"]))
def test_an_unknown_hook_key_is_404_and_writes_nothing(endpoints, endpoint, key, body):
    r = send(endpoints, endpoint, body, path=f"/hooks/{endpoint}/{quote(key, safe='')}")
    assert r.status_code == 404


@pytest.mark.parametrize("endpoint", ["pagerduty", "change"])
@fuzz
@given(key=json_values | st.text(min_size=32, max_size=32), body=pd_bodies)
def test_an_unknown_routing_key_is_400_and_writes_nothing(endpoints, endpoint, key, body):
    body = {**body, "routing_key": key} if isinstance(body, dict) else {"routing_key": key}
    r = send(endpoints, endpoint, body)
    assert r.status_code == 400


@each_endpoint
@fuzz
@given(content_type=st.sampled_from(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                     "application/json; charset=latin-1", ""]),
       body=pd_bodies | am_bodies | generic_bodies)
def test_any_content_type_gets_a_documented_answer(endpoints, endpoint, content_type, body):
    send(endpoints, endpoint, body, content_type=content_type)


@pytest.mark.parametrize("length", [250, 255])
def test_a_dedup_key_of_250_characters_is_accepted_on_every_database(endpoints, length):
    """PagerDuty takes dedup keys of up to 255 characters; so does Vigil's parser."""
    r = endpoints.post("/v2/enqueue", json.dumps({
        "routing_key": endpoints.keys["pagerduty"], "event_action": "trigger", "dedup_key": "k" * length,
        "payload": {"summary": "Disk full", "source": "db1", "severity": "critical"}}))
    assert r.status_code == 202, r.content
    alert = Alert.objects.get()
    assert alert.dedup_key == "k" * length
    assert len(alert.grouping_key) <= Alert._meta.get_field("grouping_key").max_length
    assert len(alert.incident.group_key) <= Incident._meta.get_field("group_key").max_length
