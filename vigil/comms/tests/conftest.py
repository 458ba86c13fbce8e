import socket

import pytest
from aiosmtpd.controller import Controller

from vigil.comms import jobs
from vigil.incidents import actions
from vigil.paging.tests.conftest import Receiver
from vigil.paging.tests.test_delivery import Inbox


@pytest.fixture
def smtp(settings):
    """A real SMTP server (aiosmtpd) on loopback; VIGIL_SMTP_URL points to it."""
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
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def incident(personas):
    return actions.do_create_incident(personas.service, actor=personas.responder, title="Checkout returns 502", severity="sev1")


def work():
    """Run the comms jobs until nothing is due (what the worker loop does)."""
    while jobs.remind_quiet_incident() or jobs.deliver_due_message() or jobs.requeue_stuck_message():
        pass
