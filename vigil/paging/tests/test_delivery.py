"""Real delivery: an SMTP server (aiosmtpd) and an HTTP receiver on loopback get the pages."""

import hashlib
import hmac
import re
from datetime import timedelta

import time_machine
from django.test import Client
from django.utils import timezone

from vigil.incidents import actions
from vigil.incidents.models import Incident
from vigil.paging import jobs
from vigil.paging.models import ContactMethod, DeliveryAttempt, Notification




def work():
    while jobs.step_due_escalation() or jobs.deliver_due_notification() or jobs.requeue_stuck_notification():
        pass


def open_incident(personas, title="Checkout returns 502"):
    return actions.do_create_incident(personas.service, actor=None, title=title, severity="sev1")


def test_the_email_page_names_the_incident_and_its_ack_link_acknowledges(personas, policy, smtp):
    incident = open_incident(personas)
    work()
    [(recipients, email)] = smtp.messages
    assert recipients == ["responder@ops.test"]
    assert email["Subject"] == "[Vigil] #1 SEV1 Checkout returns 502 (Acme Shop)"
    body = email.get_payload()
    ack = re.search(r"Acknowledge: +(\S+)", body).group(1)
    assert ack.startswith("http://127.0.0.1:8000/act/")
    r = Client().get(ack.removeprefix("http://127.0.0.1:8000"))
    assert r.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "acknowledged" and incident.commander == personas.responder
    assert incident.timeline.filter(kind="delivery", body="Delivered to Rita Responder by Email").exists()


def test_the_resolve_link_resolves_and_a_second_click_says_so(personas, policy, smtp):
    incident = open_incident(personas)
    work()
    link = re.search(r"Resolve: +(\S+)", smtp.messages[0][1].get_payload()).group(1).removeprefix("http://127.0.0.1:8000")
    assert Client().get(link).status_code == 200
    assert Incident.objects.get(pk=incident.pk).status == "resolved"
    again = Client().get(link)
    assert again.status_code == 200 and b"already resolved" in again.content


def test_links_expire_and_cannot_be_forged(personas, policy, smtp):
    open_incident(personas)
    work()
    link = re.search(r"Acknowledge: +(\S+)", smtp.messages[0][1].get_payload()).group(1).removeprefix("http://127.0.0.1:8000")
    assert Client().get(link[:-3] + "abc").status_code == 400
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert Client().get(link).status_code == 410
    assert Incident.objects.get().status == "triggered"


def test_a_signed_webhook_reaches_the_receiver_and_verifies(personas, policy, receiver):
    method = ContactMethod.objects.create(user=personas.responder, kind="webhook", address=receiver.url)
    incident = open_incident(personas)
    work()
    [request] = receiver.requests
    headers = request["headers"]
    expected = hmac.new(method.signing_secret.encode(), f"{headers['X-Vigil-Timestamp']}.".encode() + request["body"],
                        hashlib.sha256).hexdigest()
    assert headers["X-Vigil-Signature"] == f"v1={expected}"
    notification = Notification.objects.get(incident=incident)
    assert headers["Idempotency-Key"] == notification.idempotency_key == request["json"]["idempotency_key"]
    assert request["json"]["incident"]["title"] == "Checkout returns 502"
    assert notification.state == "sent"


def test_apprise_delivers_to_its_json_endpoint(personas, policy, receiver):
    ContactMethod.objects.create(user=personas.responder, kind="apprise",
                                 address=receiver.url.replace("http://", "json://"))
    open_incident(personas)
    work()
    [request] = receiver.requests
    assert "Checkout returns 502" in request["json"]["title"]
    assert "Acknowledge:  http://127.0.0.1:8000/act/" in request["json"]["message"]


def test_a_failing_receiver_is_retried_with_backoff_then_the_next_level_is_paged(personas, policy, receiver):
    receiver.status = 500
    ContactMethod.objects.create(user=personas.responder, kind="webhook", address=receiver.url)
    ContactMethod.objects.create(user=personas.admin, kind="webhook", address=receiver.url + "/admin")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        incident = open_incident(personas)
        work()
        for attempt, wait in enumerate((10, 20, 40, 80), start=2):
            clock.shift(timedelta(seconds=wait - 1))
            work()
            assert len(receiver.requests) == attempt - 1  # not yet: the backoff holds it
            clock.shift(timedelta(seconds=1))
            work()
            assert len(receiver.requests) >= attempt
    first = Notification.objects.filter(incident=incident).order_by("id").first()
    assert first.state == "failed" and first.attempts == 5
    assert DeliveryAttempt.objects.filter(notification=first, ok=False).count() == 5
    assert incident.timeline.filter(body__startswith="Could not reach Rita Responder by Signed JSON webhook after 5").exists()
    assert incident.timeline.filter(body__startswith="Escalating now").exists()
    assert Notification.objects.filter(incident=incident, user=personas.admin, reason="level 2").exists()


def test_a_notification_left_sending_by_a_dead_worker_is_sent_again(personas, policy, receiver):
    ContactMethod.objects.create(user=personas.responder, kind="webhook", address=receiver.url)
    incident = open_incident(personas)
    jobs.step_due_escalation()
    # A worker claimed it and died before recording anything.
    Notification.objects.filter(incident=incident).update(
        state="sending", attempts=1, sending_deadline=timezone.now() + timedelta(seconds=60))
    work()
    assert receiver.requests == []
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        work()
    assert len(receiver.requests) == 1
    assert Notification.objects.get(incident=incident).state == "sent"


def test_the_test_button_sends_through_the_method_now(personas, api, receiver):
    method = ContactMethod.objects.create(user=personas.responder, kind="webhook", address=receiver.url)
    r = api(personas.responder).post(f"/api/v1/contact-methods/{method.pk}/test")
    assert r.json() == {"ok": True, "detail": "HTTP 200"}
    assert receiver.requests[0]["json"]["event"] == "test"
    receiver.status = 404
    assert api(personas.responder).post(f"/api/v1/contact-methods/{method.pk}/test").json() == {"ok": False, "detail": "HTTP 404"}
    assert api(personas.admin).post(f"/api/v1/contact-methods/{method.pk}/test").status_code == 403


def test_the_ask_for_help_link_pages_the_next_level_now(personas, policy, smtp):
    incident = open_incident(personas)
    work()
    link = re.search(r"Ask for help: +(\S+)", smtp.messages[0][1].get_payload()).group(1).removeprefix("http://127.0.0.1:8000")
    assert Client().get(link).status_code == 200
    work()
    assert [to for to, _ in smtp.messages] == [["responder@ops.test"], ["admin@ops.test"]]
    assert incident.timeline.filter(kind="escalated", actor=personas.responder).exists()


def test_a_page_left_mid_send_is_not_sent_again_once_acknowledged(personas, policy, receiver):
    ContactMethod.objects.create(user=personas.responder, kind="webhook", address=receiver.url)
    incident = open_incident(personas)
    jobs.step_due_escalation()
    Notification.objects.filter(incident=incident).update(
        state="sending", attempts=1, sending_deadline=timezone.now() + timedelta(seconds=60))
    actions.do_acknowledge_incident(incident, actor=personas.responder)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        work()
    assert receiver.requests == []
    assert Notification.objects.get(incident=incident).state == "cancelled"


def test_a_worker_whose_claim_ran_out_does_not_undo_the_page_another_worker_sent(personas, policy, receiver, monkeypatch):
    from vigil.paging import channels

    ContactMethod.objects.create(user=personas.responder, kind="webhook", address=receiver.url)
    incident = open_incident(personas)
    jobs.step_due_escalation()
    real_send, calls = channels.send, []

    def slow_then_failing(notification):
        calls.append(1)
        if len(calls) == 1:
            # While this worker hangs, its claim runs out and another worker delivers the page.
            with time_machine.travel(timezone.now() + timedelta(seconds=61)):
                jobs.requeue_stuck_notification()
                jobs.deliver_due_notification()
            return False, "ReadTimeout"
        return real_send(notification)

    monkeypatch.setattr(channels, "send", slow_then_failing)
    jobs.deliver_due_notification()
    notification = Notification.objects.get(incident=incident)
    assert notification.state == "sent"
    assert len(receiver.requests) == 1
