"""Responders logging at once, on PostgreSQL: the overrun question is asked once."""

import threading

import pytest
from django.db import connection

from vigil.incidents.models import Incident
from vigil.paging.models import Notification
from vigil.timelog import actions
from vigil.timelog.models import Overrun, TimeEntry

from .conftest import open_incident


@pytest.mark.django_db(transaction=True)
def test_of_many_entries_crossing_the_allowance_at_once_one_question_is_asked(personas, manager):
    if connection.vendor == "sqlite":
        pytest.skip("row locks need PostgreSQL")
    incident = open_incident(personas)
    actions.do_log_time(incident, actor=personas.responder, minutes=470, kind="corrective")
    barrier, errors = threading.Barrier(6), []

    def log():
        from django.db import connection as thread_connection
        try:
            barrier.wait()
            actions.do_log_time(Incident.objects.get(pk=incident.pk), actor=personas.admin, minutes=20, kind="corrective")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=log) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert TimeEntry.objects.count() == 7
    assert Overrun.objects.count() == 1 and Overrun.objects.get().corrective_minutes == 490
    assert Notification.objects.filter(reason="time overrun").count() == 1
