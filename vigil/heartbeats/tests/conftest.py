from datetime import timedelta

import pytest

from vigil.heartbeats.actions import do_create_heartbeat
from vigil.heartbeats.jobs import check_due_heartbeat


@pytest.fixture
def heartbeat(personas):
    """A daily job of the personas' service with an hour of grace."""
    return do_create_heartbeat(personas.service, actor=personas.admin, name="Nightly backup",
                               period=timedelta(days=1), grace=timedelta(hours=1))


def work():
    """Run the heartbeat job until nothing is due (what the worker loop does); how many units it did."""
    done = 0
    while check_due_heartbeat():
        done += 1
    return done
