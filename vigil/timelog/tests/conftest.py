import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from vigil.accounts.models import User
from vigil.incidents import actions


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback; Vigil's email goes to it."""
    inbox = Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.SMTP_URL = f"smtp://127.0.0.1:{port}"
    yield inbox
    controller.stop()


@pytest.fixture
def manager(personas):
    """Paula, the project manager of the personas' service."""
    paula = User.objects.create_user("pm@client.test", name="Paula Manager")
    personas.service.project_manager = paula
    personas.service.save(update_fields=["project_manager"])
    return paula


def open_incident(personas, title="Checkout down", severity="sev2"):
    return actions.do_create_incident(personas.service, actor=personas.responder, title=title, severity=severity)
