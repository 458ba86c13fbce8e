import json
import os
import select
import subprocess
import sys

import pytest
from django.conf import settings

from vigil import worker as worker_module
from vigil.worker import Worker

# The loop closes stale database connections between jobs.
pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs(monkeypatch):
    registered = []
    monkeypatch.setattr(worker_module, "JOBS", registered)
    return registered


def test_it_drains_a_job_until_it_has_nothing_due_then_the_next(jobs):
    queue, calls = [1, 2, 3], []

    def drain():
        calls.append("drain")
        return bool(queue and queue.pop())

    def other():
        calls.append("other")
        return False

    jobs += [drain, other]
    assert Worker().run_once() is True
    assert queue == [] and calls == ["drain"] * 4 + ["other"]
    assert Worker().run_once() is False


def test_a_failing_job_does_not_stop_the_others(jobs):
    ran = []

    def broken():
        raise RuntimeError("boom")

    def fine():
        ran.append(1)
        return False

    jobs += [broken, fine]
    Worker().run_once()
    assert ran == [1]


def test_a_busy_job_yields_after_its_burst(jobs):
    ran = []
    jobs += [lambda: True, lambda: ran.append(1)]
    Worker(burst=5).run_once()
    assert ran == [1]


def test_it_stops_between_units_when_told(jobs):
    w = Worker()
    count = []

    def unit():
        count.append(1)
        if len(count) == 3:
            w.stop.set()
        return True

    jobs.append(unit)
    w.run_forever()
    assert len(count) == 3


def test_work_committed_in_another_process_wakes_the_job_loop():
    """`vigil serve`'s web processes and `vigil web` beside `vigil worker` reach the loop through a
    Unix socket named after the database they share."""
    listener = worker_module._listen()
    assert listener is not None
    try:
        assert worker_module._listen() is None  # one job loop listens per database
        code = ("import json, os\nfrom django.conf import settings\n"
                "settings.configure(DATABASES={'default': json.loads(os.environ['VIGIL_TEST_DB'])})\n"
                "from vigil.worker import wake\nwake()\n")
        database = {k: settings.DATABASES["default"].get(k) for k in ("ENGINE", "HOST", "PORT", "NAME")}
        subprocess.run([sys.executable, "-c", code], env={**os.environ, "VIGIL_TEST_DB": json.dumps(database)},
                       check=True, timeout=60)
        assert select.select([listener], [], [], 30)[0]
        assert listener.recv(64) == b"!"
    finally:
        listener.close()


def test_every_job_has_a_name_of_its_own_in_the_log():
    names = [worker_module.job_name(fn) for fn in worker_module.JOBS]
    assert len(set(names)) == len(names) and "comms.deliver_due_message" in names
