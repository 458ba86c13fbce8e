from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from vigil.incidents import actions
from vigil.paging import jobs
from vigil.paging.models import ContactMethod, Escalation, Notification, NotificationRule

T0 = "2026-11-26 10:00:00Z"


def at(seconds):
    return time_machine.travel(timezone.datetime.fromisoformat(T0.replace("Z", "+00:00")) + timedelta(seconds=seconds), tick=False)


def steps():
    """Run the due escalation steps, as the worker does; how many ran."""
    n = 0
    while jobs.step_due_escalation():
        n += 1
    return n


def paged(incident):
    return [(n.user.email, n.reason) for n in Notification.objects.filter(incident=incident).order_by("id")]


@pytest.fixture
def incident(personas, policy, webhooks):
    with at(0):
        return actions.do_create_incident(personas.service, actor=personas.viewer, title="Checkout down", severity="sev1")


def test_level_one_is_paged_at_once(personas, incident):
    with at(0):
        assert steps() == 1
    assert paged(incident) == [("responder@ops.test", "level 1")]
    assert incident.timeline.filter(kind="paged", body__startswith="Paged level 1: Rita Responder").exists()


def test_level_two_is_paged_exactly_when_level_ones_delay_passes(personas, incident):
    with at(0):
        steps()
    with at(299):
        assert steps() == 0
    with at(300):
        assert steps() == 1
    assert paged(incident)[-1] == ("admin@ops.test", "level 2")


def test_acknowledging_stops_the_escalation_and_cancels_pending_pages(personas, incident):
    NotificationRule.objects.create(user=personas.responder, delay_seconds=120,
                                    contact_method=ContactMethod.objects.get(user=personas.responder))
    with at(0):
        steps()
        delayed = Notification.objects.get(incident=incident)
        assert delayed.due_at == timezone.now() + timedelta(seconds=120)
    with at(60):
        actions.do_acknowledge_incident(incident, actor=personas.responder)
    with at(400):
        assert steps() == 0
    assert paged(incident) == [("responder@ops.test", "level 1")]
    delayed.refresh_from_db()
    assert delayed.state == "cancelled"
    assert not Escalation.objects.filter(incident=incident, active=True).exists()


def test_resolving_cancels_everything_pending(personas, incident):
    with at(0):
        steps()
        actions.do_resolve_incident(incident, actor=personas.responder)
    assert set(Notification.objects.filter(incident=incident).values_list("state", flat=True)) == {"cancelled"}
    with at(1000):
        assert steps() == 0


def test_the_policy_repeats_as_many_times_as_it_says(personas, policy, incident):
    Escalation.objects.filter(incident=incident).update(repeat=1)
    for t in (0, 300, 600, 900, 1200):
        with at(t):
            steps()
    assert [r for _, r in paged(incident)] == ["level 1", "level 2", "level 1, round 2", "level 2, round 2"]
    assert Escalation.objects.get(incident=incident).next_step_at is None


def test_editing_the_policy_does_not_change_a_page_under_way(personas, policy, incident):
    with at(0):
        steps()
    policy.levels = [{"delay_seconds": 60, "targets": [{"type": "user", "id": personas.viewer.pk}]}]
    policy.save()
    with at(300):
        steps()
    assert paged(incident)[-1] == ("admin@ops.test", "level 2")


def test_asking_for_help_pages_the_next_level_at_once(personas, incident):
    with at(0):
        steps()
    with at(10):
        actions.do_escalate_incident(incident, actor=personas.responder, reason="need the DBA")
        assert steps() == 1
    assert paged(incident)[-1] == ("admin@ops.test", "level 2")


def test_asking_for_help_on_an_acknowledged_incident_pages_once(personas, incident):
    with at(0):
        steps()
        actions.do_acknowledge_incident(incident, actor=personas.responder)
    with at(10):
        actions.do_escalate_incident(incident, actor=personas.responder)
        steps()
    with at(2000):
        assert steps() == 0
    assert [r for _, r in paged(incident)] == ["level 1", "level 2"]


def test_asking_a_specific_person_pages_them_now(personas, incident):
    with at(5):
        actions.do_escalate_incident(incident, actor=personas.responder, users=[personas.viewer])
    assert paged(incident) == [("viewer@ops.test", "asked for help by Rita Responder")]


def test_a_level_with_nobody_falls_through_and_says_so(personas, policy, webhooks):
    policy.levels = [{"delay_seconds": 300, "targets": [{"type": "team", "id": personas.other_team.pk + 1000}]},
                     {"delay_seconds": 300, "targets": [{"type": "user", "id": personas.admin.pk}]}]
    policy.save()
    with at(0):
        incident = actions.do_create_incident(personas.service, actor=None, title="x", severity="sev2")
        steps()
    assert paged(incident) == [("admin@ops.test", "level 2")]
    assert incident.timeline.filter(body__contains="Level 1: nobody to page").exists()


def test_a_service_without_policy_pages_the_team_admins(personas, webhooks):
    with at(0):
        incident = actions.do_create_incident(personas.service, actor=None, title="x", severity="sev2")
        steps()
    assert paged(incident) == [("admin@ops.test", "level 1")]
    assert Escalation.objects.get(incident=incident).policy_name.startswith("team admins")


def test_reopening_restarts_paging_from_level_one(personas, incident):
    with at(0):
        steps()
        actions.do_resolve_incident(incident, actor=personas.responder)
    with at(100):
        actions.do_reopen_incident(incident, actor=personas.responder)
        steps()
    assert [r for _, r in paged(incident)] == ["level 1", "level 1"]
    assert Escalation.objects.filter(incident=incident).count() == 2


def test_running_a_step_again_puts_nothing_twice_in_the_outbox(personas, incident):
    with at(0):
        steps()
        escalation = Escalation.objects.get(incident=incident)
        Escalation.objects.filter(pk=escalation.pk).update(level=0, next_step_at=timezone.now())
        steps()
    assert Notification.objects.filter(incident=incident).count() == 1


def test_someone_on_call_with_no_way_to_reach_them_falls_through_at_once(personas, policy, webhooks):
    ContactMethod.objects.filter(user=personas.responder).delete()
    with at(0):
        incident = actions.do_create_incident(personas.service, actor=None, title="x", severity="sev2")
        steps()
    assert paged(incident) == [("admin@ops.test", "level 2")]
    assert incident.timeline.filter(body__contains="no way to reach Rita Responder").exists()


def test_an_idle_worker_pass_only_reads(personas, incident):
    """With nothing due, no job opens a transaction: on SQLite that would take the write lock, which
    alert ingestion waits for."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    while any(job() for job in (jobs.step_due_escalation, jobs.deliver_due_notification, jobs.requeue_stuck_notification)):
        pass  # the incident's first page is stepped and sent: now nothing is due
    with CaptureQueriesContext(connection) as queries:
        assert not jobs.step_due_escalation()
        assert not jobs.deliver_due_notification()
        assert not jobs.requeue_stuck_notification()
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["SELECT"] * 3
