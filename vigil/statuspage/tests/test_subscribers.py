"""Subscribers, for real: an SMTP server (aiosmtpd) and an HTTP receiver on loopback."""

import re


from vigil.paging.tests.conftest import Receiver
from vigil.statuspage import jobs, services
from vigil.statuspage.models import Subscriber, SubscriberMessage




def work():
    while jobs.deliver_subscriber_message() or jobs.advance_due_maintenance():
        pass


def link(body, label):
    return re.search(label + r":? +http://127\.0\.0\.1:8000(\S+)", body).group(1)


def test_an_email_subscriber_confirms_gets_the_update_and_unsubscribes_in_one_click(client, page, personas, open_incident, smtp):
    response = client.post("/status/acme/subscribe/", {"email": "Client@Example.com", "components": [page.website.pk]})
    assert response.status_code == 200 and b"Check your mail" in response.content
    incident = open_incident("sev1")
    services.post_public_update(incident, page=page, status="investigating", body="Before confirming: not sent")
    work()
    [(to, confirm_mail)] = smtp.messages
    assert to == ["client@example.com"] and confirm_mail["Subject"] == "Confirm your subscription to Acme"
    assert "not sent" not in confirm_mail.get_payload()

    assert client.get(link(confirm_mail.get_payload(), "Confirm the subscription")).status_code == 200
    assert Subscriber.objects.get().confirmed_at is not None

    services.post_public_update(incident, page=page, status="identified", body="The <db> failover is under way.")
    work()
    [(to, update_mail)] = smtp.messages[1:]
    body = update_mail.get_payload()
    assert to == ["client@example.com"]
    assert update_mail["Subject"] == "[Acme] Checkout returns 502: identified"
    assert "Identified: The <db> failover is under way." in body and "Affected: Website" in body
    unsubscribe = link(body, r"Unsubscribe \(one click\)")
    assert update_mail["List-Unsubscribe"].strip() == f"<http://127.0.0.1:8000{unsubscribe}>"
    assert update_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert update_mail["X-Vigil-Idempotency-Key"].startswith("update-")

    response = client.get(unsubscribe)
    assert response.status_code == 200 and b"Unsubscribed" in response.content
    assert not Subscriber.objects.exists()
    services.post_public_update(incident, page=page, status="monitoring", body="after unsubscribing")
    work()
    assert len(smtp.messages) == 2
    assert b"Already unsubscribed" in client.get(unsubscribe).content


def test_a_subscriber_of_other_components_hears_nothing(client, page, personas, open_incident, smtp):
    subscriber, _ = services.subscribe(page, kind="email", address="api@example.com", components=[page.api], confirmed=True)
    services.post_public_update(open_incident("sev2"), page=page, status="investigating")
    work()
    assert smtp.messages == []


def test_a_forged_or_stale_confirmation_link_does_nothing(client, page, smtp):
    services.subscribe(page, kind="email", address="x@example.com")
    work()
    url = link(smtp.messages[0][1].get_payload(), "Confirm the subscription")
    assert client.get(url[:-3] + "xyz/").status_code == 404
    assert Subscriber.objects.get().confirmed_at is None


def test_a_bad_address_is_refused_and_nothing_is_stored(client, page):
    response = client.post("/status/acme/subscribe/", {"email": "not an address"})
    assert response.status_code == 422 and b"valid email" in response.content
    assert not Subscriber.objects.exists()


def test_a_webhook_subscriber_gets_the_statuspage_payload_signed_and_is_retried(page, personas, open_incident):
    receiver = Receiver()
    try:
        subscriber, _ = services.subscribe(page, kind="webhook", address=receiver.url)
        receiver.status = 500
        services.post_public_update(open_incident("sev1"), page=page, status="investigating", body="<b>x</b>")
        work()
        message = SubscriberMessage.objects.get()
        assert message.state == "pending" and message.attempts == 1 and message.last_error == "HTTP 500"
        receiver.status = 200
        SubscriberMessage.objects.update(due_at=message.created_at)
        work()
        assert SubscriberMessage.objects.get().state == "sent"
        first, second = receiver.requests
        assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"] == message.idempotency_key
        data = second["json"]
        assert data["page"] == {"id": page.code, "status_indicator": "critical", "status_description": "Major Service Outage"}
        assert data["incident"]["incident_updates"][0]["body"] == "<b>x</b>"
        assert data["meta"]["unsubscribe"].startswith("http://127.0.0.1:8000/status/acme/unsubscribe/")
        assert second["headers"]["X-Vigil-Signature"].startswith("v1=")
    finally:
        receiver.close()


def test_the_public_form_cannot_change_a_confirmed_subscription(client, page):
    subscriber, _ = services.subscribe(page, kind="email", address="c@example.com", components=[page.api], confirmed=True)
    client.post("/status/acme/subscribe/", {"email": "c@example.com", "components": [page.website.pk]})
    assert list(subscriber.components.all()) == [page.api]
