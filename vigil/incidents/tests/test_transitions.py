import threading

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.incidents import actions
from vigil.incidents.models import TRANSITIONS, Incident, Status, TimelineEntry, TransitionNotAllowed


def new_incident(personas):
    return actions.do_create_incident(personas.service, actor=personas.responder, title="t", severity="sev3")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.sampled_from(sorted(TRANSITIONS)), max_size=8))
def test_any_sequence_of_moves_keeps_status_timestamps_and_timeline_consistent(personas, moves):
    incident = new_incident(personas)
    done = 0
    for move in moves:
        allowed = incident.can(move)
        try:
            getattr(incident, move)(actor=personas.responder)
        except TransitionNotAllowed:
            assert not allowed
        else:
            assert allowed
            done += 1
        stored = Incident.objects.get(pk=incident.pk)
        assert stored.status == incident.status
        assert (stored.resolved_at is not None) == (stored.status == Status.RESOLVED)
        if stored.status == Status.ACKNOWLEDGED:
            assert stored.acknowledged_at is not None
        if stored.status == Status.MITIGATED:
            assert stored.mitigated_at is not None
    assert incident.timeline.exclude(kind="role").count() == 1 + done


def test_acknowledging_makes_the_first_acknowledger_commander_unless_one_is_set(personas):
    incident = new_incident(personas)
    incident.acknowledge(actor=personas.admin)
    assert Incident.objects.get(pk=incident.pk).commander == personas.admin
    other = new_incident(personas)
    other = actions.do_update_incident(other, actor=personas.admin, commander=personas.responder)
    other.acknowledge(actor=personas.admin)
    assert Incident.objects.get(pk=other.pk).commander == personas.responder


def test_a_step_may_be_skipped(personas):
    incident = new_incident(personas)
    incident.resolve(actor=personas.responder)
    assert incident.status == Status.RESOLVED
    assert incident.acknowledged_at is None


def test_timeline_entries_cannot_be_changed_or_deleted(personas):
    entry = new_incident(personas).timeline.get()
    entry.body = "rewritten"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        TimelineEntry.objects.filter(pk=entry.pk).update(body="x")
    with pytest.raises(TypeError):
        TimelineEntry.objects.filter(pk=entry.pk).delete()
    assert TimelineEntry.objects.get(pk=entry.pk).body == "Incident opened on Acme Shop"


@pytest.mark.django_db(transaction=True)
def test_of_two_concurrent_resolves_exactly_one_wins(personas):
    if connection.vendor == "sqlite":
        pytest.skip("row locks need PostgreSQL; SQLite serialises writers with BEGIN IMMEDIATE")
    incident = new_incident(personas)
    barrier, results = threading.Barrier(4), []

    def resolve():
        from django.db import connection as thread_connection
        try:
            barrier.wait()
            actions.do_resolve_incident(Incident.objects.get(pk=incident.pk), actor=personas.responder)
            results.append("ok")
        except TransitionNotAllowed:
            results.append("conflict")
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=resolve) for _ in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == ["conflict", "conflict", "conflict", "ok"]
    assert incident.timeline.filter(kind="resolved").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_incidents_get_distinct_numbers(personas):
    if connection.vendor == "sqlite":
        pytest.skip("concurrency on row locks needs PostgreSQL")
    barrier, errors = threading.Barrier(6), []

    def create():
        from django.db import connection as thread_connection
        try:
            barrier.wait()
            new_incident(personas)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=create) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    assert sorted(Incident.objects.values_list("number", flat=True)) == [1, 2, 3, 4, 5, 6]
