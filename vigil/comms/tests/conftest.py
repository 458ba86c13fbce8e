
import pytest

from vigil.comms import jobs
from vigil.incidents import actions
from vigil.paging.tests.conftest import Receiver




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
