"""The update reminder: after the severity's quiet period without a stakeholder update, the
commander and communications lead are reminded (timeline and notification), again every period."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from vigil.comms.actions import do_post_update, do_save_comms_settings
from vigil.comms.models import Message, UpdateReminder
from vigil.incidents import actions

from .conftest import work


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False) as traveller:
        yield traveller


def open_incident(personas, severity="sev1"):
    incident = actions.do_create_incident(personas.service, actor=personas.responder, title="Checkout returns 502",
                                          severity=severity)
    actions.do_assign_role(incident, personas.responder, "commander", actor=personas.responder)
    actions.do_assign_role(incident, personas.admin, "communications", actor=personas.responder)
    return incident


def reminders(incident):
    return list(incident.timeline.filter(kind="update_reminder").values_list("body", flat=True))


def test_a_reminder_fires_after_the_quiet_period_and_repeats(personas, clock, smtp, api):
    incident = open_incident(personas)
    clock.shift(timedelta(minutes=29, seconds=59))
    work()
    assert reminders(incident) == [] and smtp.messages == []
    clock.shift(timedelta(seconds=1))
    work()
    assert reminders(incident) == ["No stakeholder update for 30 minutes: post one. "
                                   "Reminded Rita Responder (incident commander); Ada Admin (communications lead)."]
    assert sorted(to[0] for to, _ in smtp.messages) == ["admin@ops.test", "responder@ops.test"]
    subject = smtp.messages[0][1]["Subject"]
    assert subject == "Post an update: #1 Checkout returns 502 (Acme Shop)"
    assert f"http://127.0.0.1:8000/incidents/{incident.pk}/#updates" in smtp.messages[0][1].get_payload()
    reminder = api(personas.viewer).get(f"/api/v1/incidents/{incident.pk}/update-reminder").json()
    assert reminder["reminders_sent"] == 1 and reminder["quiet_minutes"] == 30
    clock.shift(timedelta(minutes=29))
    work()
    assert len(reminders(incident)) == 1
    clock.shift(timedelta(minutes=1))
    work()
    assert reminders(incident)[-1].startswith("No stakeholder update for an hour: post one.")
    assert len(smtp.messages) == 4


def test_posting_an_update_starts_the_quiet_period_again(personas, clock, smtp):
    incident = open_incident(personas)
    clock.shift(timedelta(minutes=20))
    do_post_update(incident, actor=personas.admin, status="investigating", body="Looking into it.")
    clock.shift(timedelta(minutes=29))
    work()
    assert reminders(incident) == []
    clock.shift(timedelta(minutes=1))
    work()
    assert len(reminders(incident)) == 1


def test_a_resolved_incident_is_not_reminded(personas, clock, smtp):
    incident = open_incident(personas)
    clock.shift(timedelta(minutes=10))
    actions.do_resolve_incident(incident, actor=personas.responder)
    clock.shift(timedelta(hours=3))
    work()
    assert reminders(incident) == []
    assert UpdateReminder.objects.get(incident=incident).due_at is None
    actions.do_reopen_incident(incident, actor=personas.responder)
    assert UpdateReminder.objects.get(incident=incident).due_at == timezone.now() + timedelta(minutes=30)


def test_the_period_follows_the_severity_and_the_services_settings(personas, clock, smtp):
    incident = open_incident(personas, severity="sev4")
    clock.shift(timedelta(hours=5))
    work()
    assert reminders(incident) == []  # sev4: never, by default
    actions.do_update_incident(incident, actor=personas.responder, severity="sev2")
    work()
    # Five hours quiet is past sev2's hour: due at once.
    assert reminders(incident) == ["No stakeholder update for 5 hours: post one. "
                                   "Reminded Rita Responder (incident commander); Ada Admin (communications lead)."]
    do_save_comms_settings(personas.service, actor=personas.admin, reminder_minutes={"sev2": 10})
    assert UpdateReminder.objects.get(incident=incident).quiet_minutes == 10
    clock.shift(timedelta(minutes=10))
    work()
    assert len(reminders(incident)) == 2


def test_with_nobody_in_a_role_the_timeline_still_says_so(personas, clock, smtp):
    incident = actions.do_create_incident(personas.service, actor=None, title="Disk full", severity="sev1")
    clock.shift(timedelta(minutes=30))
    work()
    assert reminders(incident) == ["No stakeholder update for 30 minutes: post one. "
                                   "Nobody is commander or communications lead to remind."]
    assert not Message.objects.exists()


def test_two_workers_remind_once(personas, clock, smtp):
    from vigil.comms import jobs

    incident = open_incident(personas)
    clock.shift(timedelta(minutes=30))
    assert jobs.remind_quiet_incident() is True
    assert jobs.remind_quiet_incident() is False
    assert len(reminders(incident)) == 1
