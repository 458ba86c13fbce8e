"""Several workers share the outbox and the reminders: each message goes out once, each reminder fires once."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from vigil.comms import jobs
from vigil.comms.actions import do_post_update
from vigil.comms.models import Message, Stakeholder
from vigil.incidents import actions


def run_workers(job, count=4):
    barrier = threading.Barrier(count)

    def worker():
        from django.db import connection as thread_connection
        try:
            barrier.wait()
            while job():
                pass
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(count)]
    [t.start() for t in threads]
    [t.join() for t in threads]


@pytest.mark.django_db(transaction=True)
def test_four_workers_deliver_each_message_once(personas, receiver):
    if connection.vendor == "sqlite":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers")
    for n in range(12):
        Stakeholder.objects.create(service=personas.service, name=f"Team {n}", kind="apprise",
                                   address=receiver.url.replace("http://", "json://") + f"?n={n}")
    incident = actions.do_create_incident(personas.service, actor=personas.responder, title="Down", severity="sev2")
    do_post_update(incident, actor=personas.responder, status="investigating", body="Looking.")
    run_workers(jobs.deliver_due_message)
    assert len(receiver.requests) == 12
    assert set(Message.objects.values_list("state", "attempts")) == {("sent", 1)}


@pytest.mark.django_db(transaction=True)
def test_four_workers_fire_a_due_reminder_once(personas):
    if connection.vendor == "sqlite":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers")
    incident = actions.do_create_incident(personas.service, actor=personas.responder, title="Down", severity="sev1")
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        run_workers(jobs.remind_quiet_incident)
    assert incident.timeline.filter(kind="update_reminder").count() == 1
