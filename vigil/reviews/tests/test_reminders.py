"""Action-item reminders through the worker and a real SMTP server, with time-machine moving the clock."""

from datetime import date, datetime, timezone

import pytest
import time_machine

from vigil.paging.models import ContactMethod
from vigil.reviews import actions, jobs
from vigil.reviews.models import Message, Reminder

START = datetime(2030, 3, 4, 8, 0, tzinfo=timezone.utc)  # Monday
DUE = date(2030, 3, 11)


def work():
    while jobs.send_due_reminder() or jobs.deliver_due_message():
        pass


@pytest.fixture
def item(personas, resolved):
    with time_machine.travel(START, tick=False):
        review = actions.do_start_review(resolved, actor=personas.responder)
        return actions.do_create_action_item(personas.team, actor=personas.responder, review=review,
                                             title="Bound the BIN cache", owner=personas.responder, due_date=DUE)


def subjects(inbox):
    return [(rcpt, m["Subject"]) for rcpt, m in inbox.messages]


def test_the_owner_is_reminded_before_and_after_the_due_date_and_the_lead_hears_when_overdue(personas, item, smtp):
    # Two days before the due date, at 09:00 in the owner's zone (UTC here).
    with time_machine.travel(datetime(2030, 3, 9, 8, 59, tzinfo=timezone.utc), tick=False):
        work()
        assert smtp.messages == []
    with time_machine.travel(datetime(2030, 3, 9, 9, 1, tzinfo=timezone.utc), tick=False):
        work()
    assert subjects(smtp) == [(["responder@ops.test"], "[Vigil] Action item due 2030-03-11: Bound the BIN cache")]
    body = smtp.messages[0][1].get_payload()
    assert f"/action-items/{item.pk}/" in body and "due on Monday 11 March 2030" in body

    with time_machine.travel(datetime(2030, 3, 12, 9, 1, tzinfo=timezone.utc), tick=False):
        work()
    assert subjects(smtp)[1] == (["responder@ops.test"], "[Vigil] Action item overdue since 2030-03-11: Bound the BIN cache")

    # Three days overdue: the team lead (the admin) is told.
    with time_machine.travel(datetime(2030, 3, 14, 9, 1, tzinfo=timezone.utc), tick=False):
        work()
    assert subjects(smtp)[2] == (["admin@ops.test"], "[Vigil] Overdue action item of Rita Responder: Bound the BIN cache")
    assert "as the team lead" in smtp.messages[2][1].get_payload()
    assert len(smtp.messages) == 3
    assert Message.objects.filter(state="sent").count() == 3


def test_an_item_done_in_time_is_not_chased(personas, item, smtp):
    with time_machine.travel(datetime(2030, 3, 10, 12, 0, tzinfo=timezone.utc), tick=False):
        work()
        actions.do_update_action_item(item, actor=personas.responder, status="done")
    with time_machine.travel(datetime(2030, 3, 20, tzinfo=timezone.utc), tick=False):
        work()
    assert [s for _, s in subjects(smtp)] == ["[Vigil] Action item due 2030-03-11: Bound the BIN cache"]
    assert not Reminder.objects.filter(done_at=None).exists()


def test_a_new_due_date_moves_the_reminders_and_a_team_without_lead_says_so(personas, item, smtp):
    with time_machine.travel(START, tick=False):
        actions.do_update_action_item(item, actor=personas.responder, due_date=date(2030, 4, 1))
    personas.team.lead = None
    personas.team.save()
    with time_machine.travel(datetime(2030, 3, 20, tzinfo=timezone.utc), tick=False):
        work()
        assert smtp.messages == []
    with time_machine.travel(datetime(2030, 4, 10, tzinfo=timezone.utc), tick=False):
        work()
    assert len(smtp.messages) == 2  # due soon and overdue, to the owner
    assert Reminder.objects.get(kind="escalation").outcome == "not sent: the team has no lead"


def test_reminders_use_the_owners_contact_methods_and_retry(personas, item, settings):
    """A webhook that cannot be reached is retried with backoff; the reminder is not lost."""
    settings.SMTP_URL = ""
    ContactMethod.objects.create(user=personas.responder, kind="webhook", address="http://127.0.0.1:9/hook")
    with time_machine.travel(datetime(2030, 3, 9, 9, 1, tzinfo=timezone.utc), tick=False):
        work()
        message = Message.objects.get()
        assert message.state == "pending" and message.attempts == 1 and message.last_error
        assert message.due_at > datetime(2030, 3, 9, 9, 1, tzinfo=timezone.utc)
