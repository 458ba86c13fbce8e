"""The PyPI PagerDuty Events API v2 clients, pointed at a running `vigil serve` instead of
events.pagerduty.com: trigger, acknowledge, resolve and change events, as their users call them.

- `pdpyras` 5.4.1 takes a plain http base URL (`session.url = ...`).
- `pagerduty` 7.2.0 accepts only an https base URL, so it talks to Vigil through a local TLS
  reverse proxy with a self-signed certificate made by openssl for this run; its `verify=`
  goes to its httpx2 client. (Its `submit()` without a timestamp has a bug of its own:
  AttributeError on `datetime.timezone`; `send_change_event()` is used instead.)

Ingestion is synchronous, so what the client was told is already in Vigil when the call returns.
"""

import http.client
import json
import ssl
import subprocess
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .conftest import missing, need_binary, need_module

pytestmark = [pytest.mark.clients, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::FutureWarning")]


def pdpyras_module():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "pdpyras is deprecated, use pagerduty"
        return need_module("pdpyras", "pdpyras==5.4.1")


def check_trigger_acknowledge_resolve(vigil, sid, trigger, acknowledge, resolve):
    """The same story for each client: `trigger(**kw)` etc. are the client's calls."""
    key = trigger(summary="Disk 95% full on db1", source="db1.example", dedup_key="db1-disk", severity="critical",
                  custom_details={"used_pct": 95}, links=[{"href": "https://runbooks.example/disk", "text": "runbook"}])
    assert key == "db1-disk"
    [incident] = vigil.incidents(sid)
    [alert] = vigil.alerts(sid)
    assert incident["status"] == "triggered" and incident["severity"] == "sev1" and incident["alert_count"] == 1
    assert incident["title"] == "Disk 95% full on db1"
    assert alert["dedup_key"] == "db1-disk" and alert["status"] == "firing" and alert["source"] == "db1.example"
    assert alert["links"][0]["href"] == "https://runbooks.example/disk"

    # The same trigger again (a client retry) changes nothing but the alert's last_seen.
    assert trigger(summary="Disk 95% full on db1", source="db1.example", dedup_key="db1-disk",
                   severity="critical") == "db1-disk"
    assert len(vigil.incidents(sid)) == 1 and vigil.alerts(sid)[0]["count"] == 1

    assert acknowledge("db1-disk") == "db1-disk"
    [incident] = vigil.incidents(sid)
    assert incident["status"] == "acknowledged" and incident["acknowledged_at"]

    assert resolve("db1-disk") == "db1-disk"
    [incident] = vigil.incidents(sid)
    assert incident["status"] == "resolved" and incident["resolved_at"]
    assert [a["status"] for a in vigil.alerts(sid)] == ["resolved"]

    # Without a dedup_key, Vigil makes one, as PagerDuty does, and the client hands it back.
    made = trigger(summary="Checkout latency over SLO", source="web1", severity="warning")
    assert isinstance(made, str) and len(made) >= 16 and made != "db1-disk"
    fresh = [i for i in vigil.incidents(sid) if i["status"] == "triggered"]
    assert len(fresh) == 1 and fresh[0]["severity"] == "sev3"
    assert made in {a["dedup_key"] for a in vigil.alerts(sid) if a["status"] == "firing"}
    assert resolve(made) == made
    assert {i["status"] for i in vigil.incidents(sid)} == {"resolved"}


def changes(vigil, sid):
    """The change events Vigil recorded for the service (not in the API yet: read from its database)."""
    return vigil.query("SELECT summary, source, links FROM alerts_changeevent WHERE service_id = ? ORDER BY id", sid)


def test_pdpyras_triggers_acknowledges_and_resolves_and_sends_a_change_event(vigil):
    pdpyras = pdpyras_module()
    service = vigil.service("Checkout (pdpyras)")
    sid = service["id"]
    pd = vigil.integration(sid, "pagerduty", "pdpyras")
    events = pdpyras.EventsAPISession(pd["key"])
    events.url = vigil.base  # plain http is fine for pdpyras
    check_trigger_acknowledge_resolve(vigil, sid, events.trigger, events.acknowledge, events.resolve)

    # A key Vigil does not know is refused the way PagerDuty refuses it: 400, not retried.
    stranger = pdpyras.EventsAPISession("0" * 32)
    stranger.url = vigil.base
    with pytest.raises(pdpyras.PDClientError) as refused:
        stranger.trigger("nobody's alert", "nowhere")
    assert refused.value.response.status_code == 400
    assert "Invalid routing key" in refused.value.response.json()["errors"]

    change = pdpyras.ChangeEventsAPISession(pd["key"])
    change.url = vigil.base
    change.submit("Deploy checkout v1.2.3", source="ci", custom_details={"build": 42},
                  links=[{"href": "https://ci.example/builds/42", "text": "build 42"}])
    [(summary, source, links)] = changes(vigil, sid)
    assert summary == "Deploy checkout v1.2.3" and source == "ci"
    assert json.loads(links) == [{"href": "https://ci.example/builds/42", "text": "build 42"}]
    # A change never pages: no incident came of it.
    assert {i["status"] for i in vigil.incidents(sid)} == {"resolved"}


class TlsProxy:
    """A local https endpoint that hands each request to Vigil over http (a TLS-terminating
    reverse proxy, as Vigil runs behind in production)."""

    def __init__(self, work_dir, upstream_port):
        openssl = need_binary("/usr/bin/openssl")
        self.cert, key = work_dir / "proxy.crt", work_dir / "proxy.key"
        subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                        "-out", str(self.cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=60)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                    headers["X-Forwarded-Proto"] = "https"
                    upstream.request(self.command, self.path, body, headers)
                    reply = upstream.getresponse()
                    data = reply.read()
                    self.send_response(reply.status)
                    for name, value in reply.getheaders():
                        if name.lower() not in ("connection", "transfer-encoding", "content-length", "date", "server"):
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    upstream.close()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="tls-proxy", daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def tls_proxy(vigil, tmp_path):
    proxy = TlsProxy(tmp_path, vigil.port)
    yield proxy
    proxy.close()


def test_pagerduty_client_over_https_triggers_acknowledges_and_resolves_and_sends_a_change_event(vigil, tls_proxy):
    pagerduty = need_module("pagerduty", "pagerduty==7.2.0")
    service = vigil.service("Search (pagerduty client)")
    sid = service["id"]
    pd = vigil.integration(sid, "pagerduty", "python-pagerduty")
    with pytest.raises(Exception, match="https"):
        pagerduty.EventsApiV2Client(pd["key"], base_url=vigil.base)  # the client's own rule, not Vigil's
    client = pagerduty.EventsApiV2Client(pd["key"], base_url=tls_proxy.base,
                                         verify=ssl.create_default_context(cafile=str(tls_proxy.cert)))
    check_trigger_acknowledge_resolve(vigil, sid, client.trigger, client.acknowledge, client.resolve)

    client.send_change_event(payload={"summary": "Reindex search v7", "source": "ops", "timestamp": "2026-01-01T00:00:00Z"},
                             links=[{"href": "https://ci.example/builds/7", "text": "build 7"}])
    [(summary, source, links)] = changes(vigil, sid)
    assert summary == "Reindex search v7" and source == "ops"
    assert json.loads(links) == [{"href": "https://ci.example/builds/7", "text": "build 7"}]
    assert {i["status"] for i in vigil.incidents(sid)} == {"resolved"}
