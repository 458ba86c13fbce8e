"""Silences in the web UI: matchers typed as lines and parsed with clear errors, times in the
user's zone, expire; roles and the team boundary."""

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from vigil.alerts.actions import do_create_integration, do_create_silence
from vigil.alerts.forms import parse_matchers
from vigil.alerts.formats import AlertEvent
from vigil.alerts.ingest import ingest
from vigil.alerts.models import Alert, Silence
from vigil.incidents.models import Incident

URL = "/services/acme-shop/silences/"


def later(hours=2):
    return (timezone.now() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def create(client, matchers, **fields):
    return client.post(URL, {"matchers": matchers, "starts_at": "", "ends_at": later(), "comment": "disk swap",
                             **fields})


@pytest.fixture
def silence(personas):
    return do_create_silence(personas.service, actor=personas.responder, comment="noisy staging",
                             matchers=[{"name": "env", "op": "=", "value": "staging"}],
                             ends_at=timezone.now() + timedelta(hours=1))


def test_a_responder_silences_alerts_with_matcher_lines(personas, client):
    client.force_login(personas.responder)
    r = create(client, 'alertname="DiskFull"\ninstance =~ db[0-9]+:9100\n\nseverity!=info\nteam!~"ops|sre"\n')
    assert r.status_code == 302 and r["Location"] == URL
    silence = Silence.objects.get()
    assert silence.matchers == [
        {"name": "alertname", "op": "=", "value": "DiskFull"},
        {"name": "instance", "op": "=~", "value": "db[0-9]+:9100"},
        {"name": "severity", "op": "!=", "value": "info"},
        {"name": "team", "op": "!~", "value": "ops|sre"},
    ]
    assert silence.comment == "disk swap" and silence.created_by == personas.responder
    assert silence.is_active()
    html = client.get(URL).content.decode()
    assert f'id="silence-{silence.pk}"' in html and "disk swap" in html


def test_matching_alerts_are_recorded_but_open_no_incident(personas, client):
    client.force_login(personas.responder)
    create(client, "instance=~db[0-9]+:9100")
    integration, _ = do_create_integration(personas.service, actor=personas.admin, kind="generic")
    ingest(integration, [AlertEvent(dedup_key="d", status="firing", action="trigger", summary="Disk full",
                                    severity="sev1", source="db1", labels={"instance": "db12:9100"})])
    assert Alert.objects.get().suppressed_by == f"silence:{Silence.objects.get().pk}"
    assert not Incident.objects.exists()


def test_a_bad_regex_is_an_error_on_the_matchers_field(personas, client):
    client.force_login(personas.responder)
    r = create(client, "alertname=DiskFull\ninstance=~db[")
    assert r.status_code == 200
    errors = r.context["form"].errors["matchers"]
    assert len(errors) == 1 and errors[0].startswith("Line 2: “db[” is not a valid regular expression (")
    assert "Line 2: “db[” is not a valid regular expression" in r.content.decode()
    assert not Silence.objects.exists()


def test_a_line_that_is_not_a_matcher_is_named(personas, client):
    client.force_login(personas.responder)
    r = create(client, "alertname=DiskFull\njust some words")
    assert r.context["form"].errors["matchers"] == [
        "Line 2: “just some words” is not a matcher. One a line: name=value, name!=value, name=~regex or "
        "name!~regex (regexes match the whole value)."]
    assert not Silence.objects.exists()


def test_matchers_that_match_every_alert_are_refused(personas, client):
    client.force_login(personas.responder)
    for matchers in ["alertname=~.*", "env!=production", ""]:
        r = create(client, matchers)
        assert r.status_code == 200 and "matchers" in r.context["form"].errors, matchers
    assert not Silence.objects.exists()


def test_an_end_in_the_past_or_before_the_start_is_refused(personas, client):
    client.force_login(personas.responder)
    past = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert create(client, "a=b", ends_at=past).context["form"].errors["ends_at"] == ["The end is in the past."]
    r = create(client, "a=b", starts_at=later(5), ends_at=later(3))
    assert r.context["form"].errors["ends_at"] == ["The end must come after the start."]
    assert not Silence.objects.exists()


def test_times_are_read_in_the_users_time_zone(personas, client):
    personas.responder.time_zone = "Europe/Paris"
    personas.responder.save()
    client.force_login(personas.responder)
    create(client, "a=b", starts_at="2099-07-01T12:00", ends_at="2099-07-01T14:00")
    silence = Silence.objects.get()
    assert silence.starts_at == datetime(2099, 7, 1, 10, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
    assert silence.ends_at == datetime(2099, 7, 1, 12, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
    html = client.get(URL).content.decode()
    assert "Starting later" in html and "Jul 1, 12:00 – Jul 1, 14:00 CEST" in html


def test_a_responder_expires_a_silence(personas, client, silence):
    client.force_login(personas.responder)
    r = client.post(f"/silences/{silence.pk}/expire/")
    assert r.status_code == 302 and r["Location"] == URL
    silence.refresh_from_db()
    assert not silence.is_active()
    expired = client.get(URL).content.decode().split("<h2>Expired</h2>")[1]
    assert "noisy staging" in expired


def test_a_viewer_sees_silences_but_cannot_create_or_expire(personas, client, silence):
    client.force_login(personas.viewer)
    html = client.get(URL).content.decode()
    assert "noisy staging" in html
    assert "New silence" not in html and f"/silences/{silence.pk}/expire/" not in html
    assert create(client, "a=b").status_code == 403
    assert client.post(f"/silences/{silence.pk}/expire/").status_code == 403
    silence.refresh_from_db()
    assert silence.is_active() and Silence.objects.count() == 1


def test_another_team_gets_404(personas, client, silence):
    client.force_login(personas.outsider)
    assert client.get(URL).status_code == 404
    assert create(client, "a=b").status_code == 404
    assert client.post(f"/silences/{silence.pk}/expire/").status_code == 404
    silence.refresh_from_db()
    assert silence.is_active()


def test_a_matcher_value_with_markup_stays_text(personas, client):
    client.force_login(personas.responder)
    create(client, 'alertname="<script>alert(1)</script>"')
    html = client.get(URL).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("line, matcher", [
    ("alertname=DiskFull", ("alertname", "=", "DiskFull")),
    ('alertname="Disk \\"full\\""', ("alertname", "=", 'Disk "full"')),
    ("  job != node  ", ("job", "!=", "node")),
    ("path=a=b", ("path", "=", "a=b")),
    ("code=~5..", ("code", "=~", "5..")),
    ("code!~2..", ("code", "!~", "2..")),
    ("grafana_folder=Prod alerts", ("grafana_folder", "=", "Prod alerts")),
])
def test_it_parses_each_kind_of_matcher(line, matcher):
    # After a matcher that needs a label value: alone, a negative one would match every alert.
    assert parse_matchers("service=db\n" + line)[1] == dict(zip(["name", "op", "value"], matcher))
