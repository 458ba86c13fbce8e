import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vigil.oncall.models import EscalationPolicy
from vigil.paging.models import ContactMethod


@pytest.fixture
def policy(personas):
    """Level 1: the responder, then 5 minutes later level 2: the admin."""
    policy = EscalationPolicy.objects.create(team=personas.team, name="Default", levels=[
        {"delay_seconds": 300, "targets": [{"type": "user", "id": personas.responder.pk}]},
        {"delay_seconds": 300, "targets": [{"type": "user", "id": personas.admin.pk}]},
    ])
    personas.service.escalation_policy = policy
    personas.service.save()
    return policy


class Receiver:
    """A real HTTP server on loopback that records what it is sent and answers `status`."""

    def __init__(self):
        self.requests, self.status = [], 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "json": json.loads(body or b"null")})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def webhooks(personas, receiver):
    """Every persona of the team is reached by a signed webhook to the receiver."""
    for user in (personas.responder, personas.admin, personas.viewer):
        ContactMethod.objects.create(user=user, kind="webhook", address=receiver.url)
    return receiver
