"""Personas shared by every test: a team with its admin, responder and viewer, an outsider who
belongs to another team, and a site admin. Passwords are unusable (tests log in with
force_login) except where a test sets one: Argon2 is slow on purpose."""

import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.test import Client

from vigil.accounts.models import ApiToken, Membership, Role, Team, User
from vigil.catalog.models import Service


class Personas:
    pass


@pytest.fixture
def personas(db):
    p = Personas()
    p.team = Team.objects.create(name="Ops", slug="ops")
    p.other_team = Team.objects.create(name="Other", slug="other")
    p.admin = User.objects.create_user("admin@ops.test", name="Ada Admin")
    p.responder = User.objects.create_user("responder@ops.test", name="Rita Responder")
    p.viewer = User.objects.create_user("viewer@ops.test", name="Victor Viewer")
    p.outsider = User.objects.create_user("outsider@other.test", name="Oscar Outsider")
    p.site_admin = User.objects.create_superuser("root@vigil.test", name="Sam Site")
    Membership.objects.create(user=p.admin, team=p.team, role=Role.ADMIN)
    Membership.objects.create(user=p.responder, team=p.team, role=Role.RESPONDER)
    Membership.objects.create(user=p.viewer, team=p.team, role=Role.VIEWER)
    Membership.objects.create(user=p.outsider, team=p.other_team, role=Role.ADMIN)
    p.service = Service.objects.create(team=p.team, name="Acme Shop", slug="acme-shop")
    p.other_service = Service.objects.create(team=p.other_team, name="Globex API", slug="globex-api")
    return p


class ApiClient:
    """A Django test client that sends a real bearer token and JSON bodies."""

    def __init__(self, user=None):
        self.client = Client()
        self.headers = {}
        if user is not None:
            _, raw = ApiToken.generate(user, "test")
            self.headers["Authorization"] = f"Bearer {raw}"

    def _call(self, method, path, json=None, data=None, **extra):
        import json as _json

        body = data if data is not None else (_json.dumps(json) if json is not None else "")
        return getattr(self.client, method)(path, body, content_type="application/json", headers=self.headers, **extra)

    def get(self, path, **params):
        return self.client.get(path, params, headers=self.headers)

    def post(self, path, json=None, data=None):
        return self._call("post", path, json, data)

    def patch(self, path, json=None, data=None):
        return self._call("patch", path, json, data)

    def put(self, path, json=None, data=None):
        return self._call("put", path, json, data)

    def delete(self, path):
        return self.client.delete(path, headers=self.headers)


@pytest.fixture
def api():
    """api(user) -> a client authenticated as that user; api() -> an anonymous one."""
    return ApiClient


class Inbox:
    """What a real SMTP server received: [(recipients, email.message.Message)]."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) on loopback; Vigil's email goes to it."""
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.SMTP_URL = f"smtp://127.0.0.1:{port}"
    yield inbox
    controller.stop()
