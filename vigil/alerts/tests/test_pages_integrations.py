"""The integration pages: add one and see its key once with the setup for its sender, rotate,
enable/disable, edit, delete; team boundaries and roles."""

import json
import re
from html import unescape
from pathlib import Path

import pytest
from django.test import Client

from vigil.alerts.actions import do_create_integration
from vigil.alerts.models import Integration, hash_key

FIRING = json.loads((Path(__file__).parent / "fixtures/alertmanager/alertmanager-0.25-webhook-firing.json").read_text())
BASE = "https://vigil.example.com"


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.BASE_URL = BASE


@pytest.fixture
def integration(personas):
    integration, key = do_create_integration(personas.service, actor=personas.admin, kind="alertmanager",
                                             name="Prometheus prod")
    integration.raw_key = key
    return integration


def shown_key(html):
    return re.search(r'<code id="integration-key" class="token">([0-9a-f]{32})</code>', html).group(1)


def add(client, kind, **fields):
    data = {"kind": kind, "name": "", "grouping": "alert_group", "window_minutes": "60", "rate_limit_per_minute": "6000",
            "max_body_kb": "512", **fields}
    return client.post("/services/acme-shop/integrations/new/", data)


def hook(kind, key, body=FIRING):
    return Client().post(f"/hooks/{kind}/{key}", json.dumps(body), content_type="application/json")


def test_an_admin_adds_an_integration_and_sees_its_key_once(personas, client):
    client.force_login(personas.admin)
    r = add(client, "alertmanager")
    assert r.status_code == 200
    html = r.content.decode()
    key = shown_key(html)
    assert "it will not be shown again" in html
    assert "no-store" in r["Cache-Control"]
    integration = Integration.objects.get()
    assert integration.name == "Prometheus Alertmanager"
    assert integration.key_hash == hash_key(key) and key not in integration.key_hash
    assert integration.key_hint == key[:6]
    for page in [integration.get_absolute_url(), "/services/acme-shop/integrations/", "/services/acme-shop/"]:
        assert key not in client.get(page).content.decode()
    assert hook("alertmanager", key).status_code == 200


def test_the_alertmanager_setup_holds_the_real_url(personas, client):
    client.force_login(personas.admin)
    html = add(client, "alertmanager").content.decode()
    key = shown_key(html)
    assert f'<code id="integration-url" class="token">{BASE}/hooks/alertmanager/{key}</code>' in html
    assert f"webhook_configs:\n      - url: {BASE}/hooks/alertmanager/{key}\n        send_resolved: true" in html


def test_the_grafana_setup_holds_the_real_url(personas, client):
    client.force_login(personas.admin)
    html = add(client, "grafana").content.decode()
    key = shown_key(html)
    assert f'<pre id="setup-grafana-url"><code>{BASE}/hooks/grafana/{key}</code></pre>' in html
    assert f"type: webhook\n        settings:\n          url: {BASE}/hooks/grafana/{key}" in html


def test_the_pagerduty_setup_gives_the_routing_key_and_base_url(personas, client):
    client.force_login(personas.admin)
    html = add(client, "pagerduty").content.decode()
    key = shown_key(html)
    assert f'<code id="integration-url" class="token">{BASE}</code>' in html
    assert f"pagerduty_configs:\n      - url: {BASE}/v2/enqueue\n        routing_key: {key}" in html
    assert f"curl -sS -X POST {BASE}/v2/enqueue" in html
    text = unescape(html)
    assert f'"routing_key": "{key}", "event_action": "trigger"' in text
    assert f'EventsAPISession("{key}")\nsession.url = "{BASE}"' in text


def test_the_generic_setup_gives_a_curl_example(personas, client):
    client.force_login(personas.admin)
    html = add(client, "generic").content.decode()
    key = shown_key(html)
    assert f"curl -sS -X POST {BASE}/hooks/generic/{key}" in html
    text = unescape(html)
    assert "-d '{\"summary\": \"Checkout returns 502\", \"severity\": \"critical\"" in text
    assert '"status": "resolved"' in text


def test_it_keeps_the_chosen_name_grouping_window_and_limits(personas, client):
    client.force_login(personas.admin)
    add(client, "generic", name="Uptime checks", grouping="service", window_minutes="15", rate_limit_per_minute="0",
        max_body_kb="64")
    integration = Integration.objects.get()
    assert (integration.name, integration.grouping, integration.group_window_seconds, integration.rate_limit_per_minute,
            integration.max_body_kb) == ("Uptime checks", "service", 900, 0, 64)


def test_it_refuses_a_window_over_a_week(personas, client):
    client.force_login(personas.admin)
    r = add(client, "generic", window_minutes=str(7 * 24 * 60 + 1))
    assert r.status_code == 200
    assert "window_minutes" in r.context["form"].errors
    assert not Integration.objects.exists()


def test_the_integration_page_shows_setup_with_a_placeholder_not_the_key(personas, client, integration):
    client.force_login(personas.admin)
    html = client.get(integration.get_absolute_url()).content.decode()
    assert integration.raw_key not in html
    assert f"<code>{integration.key_hint}…</code>" in html
    assert f"url: {BASE}/hooks/alertmanager/&lt;key&gt;" in html
    assert "never" in html  # nothing received yet


def test_it_shows_when_the_integration_last_received_an_alert(personas, client, integration):
    hook("alertmanager", integration.raw_key)
    client.force_login(personas.viewer)
    html = client.get(integration.get_absolute_url()).content.decode()
    integration.refresh_from_db()
    assert integration.last_received_at is not None
    assert "nothing received yet" not in client.get("/services/acme-shop/integrations/").content.decode()
    assert "Last received</dt><dd><time" in html


def test_rotating_shows_a_new_key_and_the_old_one_stops_working(personas, client, integration):
    client.force_login(personas.admin)
    confirm = client.get(f"/integrations/{integration.pk}/rotate-key/")
    assert confirm.status_code == 200 and "stops working at once" in confirm.content.decode()
    assert Integration.objects.get().key_hash == hash_key(integration.raw_key)
    r = client.post(f"/integrations/{integration.pk}/rotate-key/")
    assert r.status_code == 200 and "no-store" in r["Cache-Control"]
    html = r.content.decode()
    new_key = shown_key(html)
    assert new_key != integration.raw_key
    assert f"url: {BASE}/hooks/alertmanager/{new_key}" in html
    assert hook("alertmanager", integration.raw_key).status_code == 404
    assert hook("alertmanager", new_key).status_code == 200
    assert new_key not in client.get(integration.get_absolute_url()).content.decode()


def test_a_rotated_pagerduty_key_stops_working_too(personas, client):
    integration, old = do_create_integration(personas.service, actor=personas.admin, kind="pagerduty")
    client.force_login(personas.admin)
    new = shown_key(client.post(f"/integrations/{integration.pk}/rotate-key/").content.decode())
    event = {"event_action": "trigger", "payload": {"summary": "Disk full", "source": "db1", "severity": "critical"}}

    def enqueue(key):
        return Client().post("/v2/enqueue", json.dumps({**event, "routing_key": key}), content_type="application/json")

    assert enqueue(old).json()["errors"] == ["Invalid routing key"]
    assert enqueue(new).status_code == 202


def test_a_viewer_sees_the_integration_without_key_or_buttons(personas, client, integration):
    client.force_login(personas.viewer)
    r = client.get(integration.get_absolute_url())
    assert r.status_code == 200
    html = r.content.decode()
    assert "Prometheus prod" in html and integration.raw_key not in html
    for path in ["rotate-key", "delete", "enabled"]:
        assert f"/integrations/{integration.pk}/{path}/" not in html
    assert "/services/acme-shop/integrations/new/" not in client.get("/services/acme-shop/integrations/").content.decode()


@pytest.mark.parametrize("who", ["viewer", "responder"])
def test_only_team_admins_change_integrations(personas, client, integration, who):
    client.force_login(getattr(personas, who))
    assert client.get("/services/acme-shop/integrations/new/").status_code == 403
    assert add(client, "generic").status_code == 403
    assert client.post(f"/integrations/{integration.pk}/rotate-key/").status_code == 403
    assert client.post(f"/integrations/{integration.pk}/enabled/", {"enabled": "off"}).status_code == 403
    assert client.post(integration.get_absolute_url(), {"name": "x", "grouping": "service",
                                                         "window_minutes": "1"}).status_code == 403
    assert client.post(f"/integrations/{integration.pk}/delete/").status_code == 403
    after = Integration.objects.get()
    assert (after.key_hash, after.name, after.enabled) == (hash_key(integration.raw_key), "Prometheus prod", True)


def test_another_team_gets_404(personas, client, integration):
    client.force_login(personas.outsider)
    assert client.get("/services/acme-shop/integrations/").status_code == 404
    assert add(client, "generic").status_code == 404
    for path in ["", "rotate-key/", "delete/"]:
        assert client.get(f"/integrations/{integration.pk}/{path}").status_code == 404
        assert client.post(f"/integrations/{integration.pk}/{path}").status_code == 404
    assert Integration.objects.get().key_hash == hash_key(integration.raw_key)


def test_an_admin_changes_name_grouping_window_and_limits(personas, client, integration):
    client.force_login(personas.admin)
    page = client.get(integration.get_absolute_url()).content.decode()
    assert 'name="rate_limit_per_minute" value="6000"' in page and 'name="max_body_kb" value="512"' in page
    r = client.post(integration.get_absolute_url(), {"name": "Prometheus eu", "grouping": "dedup_key",
                                                     "window_minutes": "5", "rate_limit_per_minute": "120",
                                                     "max_body_kb": "1024"})
    assert r.status_code == 302
    integration.refresh_from_db()
    assert (integration.name, integration.grouping, integration.group_window_seconds, integration.rate_limit_per_minute,
            integration.max_body_kb) == ("Prometheus eu", "dedup_key", 300, 120, 1024)
    r = client.post(integration.get_absolute_url(), {"name": "Prometheus eu", "grouping": "dedup_key",
                                                     "window_minutes": "5", "rate_limit_per_minute": "120",
                                                     "max_body_kb": "4096"})
    assert r.status_code == 200 and "max_body_kb" in r.context["form"].errors
    assert Integration.objects.get().max_body_kb == 1024


def test_a_disabled_integration_refuses_alerts_until_enabled_again(personas, client, integration):
    client.force_login(personas.admin)
    client.post(f"/integrations/{integration.pk}/enabled/", {"enabled": "off"})
    assert Integration.objects.get().enabled is False
    assert hook("alertmanager", integration.raw_key).status_code == 404
    assert "Enable</button>" in client.get(integration.get_absolute_url()).content.decode()
    client.post(f"/integrations/{integration.pk}/enabled/", {"enabled": "on"})
    assert hook("alertmanager", integration.raw_key).status_code == 200


def test_an_admin_deletes_an_integration_after_confirming(personas, client, integration):
    client.force_login(personas.admin)
    assert "Delete Prometheus prod?" in client.get(f"/integrations/{integration.pk}/delete/").content.decode()
    assert Integration.objects.exists()
    r = client.post(f"/integrations/{integration.pk}/delete/")
    assert r.status_code == 302 and r["Location"] == "/services/acme-shop/integrations/"
    assert not Integration.objects.exists()
    assert hook("alertmanager", integration.raw_key).status_code == 404


def test_the_service_page_lists_its_integrations(personas, client, integration):
    client.force_login(personas.admin)
    html = client.get("/services/acme-shop/").content.decode()
    assert "Prometheus prod" in html and integration.get_absolute_url() in html
    assert "/services/acme-shop/integrations/new/" in html
    client.force_login(personas.viewer)
    html = client.get("/services/acme-shop/").content.decode()
    assert "Prometheus prod" in html and "/services/acme-shop/integrations/new/" not in html
