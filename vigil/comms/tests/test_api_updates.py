"""Stakeholder updates: written from templates per status, delivered once each by email (a real
SMTP server) and Apprise (a real HTTP receiver), through the outbox."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from vigil.catalog.models import Service
from vigil.comms.models import Message, Stakeholder, StakeholderUpdate
from vigil.incidents import actions

from .conftest import work

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def stakeholders(personas, receiver):
    return [
        Stakeholder.objects.create(service=personas.service, name="Bea Business", group="business", address="bea@client.test"),
        Stakeholder.objects.create(service=personas.service, name="Client chat", kind="apprise",
                                   address=receiver.url.replace("http://", "json://")),
    ]


def updates_url(incident):
    return f"/api/v1/incidents/{incident.pk}/updates"


def test_an_update_reaches_every_stakeholder_once_by_email_and_apprise(personas, api, incident, stakeholders, smtp, receiver):
    r = api(personas.responder).post(updates_url(incident), {"status": "identified", "body": "A bad deploy; rolling back."})
    assert r.status_code == 201, r.content
    update = r.json()
    assert update["status"] == "identified" and update["posted_by_id"] == personas.responder.pk
    assert [(m["recipient"], m["state"]) for m in update["messages"]] == [("Bea Business", "pending"), ("Client chat", "pending")]
    work()
    work()
    [(to, email)] = smtp.messages
    assert to == ["bea@client.test"]
    assert email["Subject"] == "[Acme Shop] Identified: Checkout returns 502"
    assert email.get_payload().replace("\r\n", "\n") == (
        "A bad deploy; rolling back.\n\n-- \nIncident #1 on Acme Shop, SEV1. Sent by Vigil for Ops by Rita Responder.\n")
    [request] = receiver.requests
    assert request["json"]["title"] == "[Acme Shop] Identified: Checkout returns 502"
    assert request["json"]["message"].startswith("A bad deploy; rolling back.")
    listed = api(personas.viewer).get(updates_url(incident)).json()["items"]
    assert [m["state"] for m in listed[0]["messages"]] == ["sent", "sent"]
    entry = incident.timeline.get(kind="stakeholder_update")
    assert entry.body == "Identified: A bad deploy; rolling back." and entry.actor == personas.responder
    assert entry.data["sent_to"] == "Bea Business, Client chat"


def test_without_a_body_the_status_template_is_filled_in(personas, api, incident, stakeholders):
    actions.do_update_incident(incident, actor=personas.responder, impact="Customers cannot pay.")
    draft = api(personas.viewer).get(f"{updates_url(incident)}/draft", status="investigating").json()
    assert draft["subject"] == "[Acme Shop] Investigating: Checkout returns 502"
    assert draft["body"] == ("We are investigating a problem with Acme Shop: Checkout returns 502.\n\n"
                             "Customers cannot pay.\n\nWe will send the next update within 30 minutes.")
    r = api(personas.responder).post(updates_url(incident), {"status": "investigating"})
    assert r.json()["body"] == draft["body"]


def test_a_services_own_template_is_used_and_typed_text_cannot_reach_attributes(personas, api, incident):
    api(personas.responder).put(f"/api/v1/services/{personas.service.pk}/communications", {
        "templates": {"monitoring": "Fixed $title on $service; watching. {{ incident.team.api_tokens }} $nope"}})
    body = api(personas.viewer).get(f"{updates_url(incident)}/draft", status="monitoring").json()["body"]
    assert body == "Fixed Checkout returns 502 on Acme Shop; watching. {{ incident.team.api_tokens }} $nope"


def test_stakeholders_of_affected_services_hear_too_each_address_once(personas, api, incident, smtp):
    search = Service.objects.create(team=personas.team, name="Acme Search", slug="acme-search")
    Stakeholder.objects.create(service=personas.service, name="Bea", address="bea@client.test")
    Stakeholder.objects.create(service=search, name="Bea (search)", address="BEA@client.test")
    Stakeholder.objects.create(service=search, name="Sam Search", address="sam@client.test")
    api(personas.responder).patch(f"/api/v1/incidents/{incident.pk}", {"affected_service_ids": [search.pk]})
    api(personas.responder).post(updates_url(incident), {"status": "investigating", "body": "Looking."})
    work()
    assert sorted(to[0] for to, _ in smtp.messages) == ["bea@client.test", "sam@client.test"]


def test_a_failing_channel_is_retried_and_then_said_on_the_timeline(personas, api, incident, settings):
    settings.SMTP_URL = ""  # email disabled: every attempt fails
    Stakeholder.objects.create(service=personas.service, name="Bea", address="bea@client.test")
    api(personas.responder).post(updates_url(incident), {"status": "investigating", "body": "Looking."})
    for minutes in range(0, 40, 5):
        with time_machine.travel(timezone.now() + timedelta(minutes=minutes)):
            work()
    message = Message.objects.get()
    assert message.state == "failed" and message.attempts == 5
    assert incident.timeline.filter(kind="delivery", body__startswith="Could not deliver the update to Bea").count() == 1


def test_bad_updates_are_refused_and_nothing_is_sent(personas, api, incident, stakeholders):
    client = api(personas.responder)
    assert client.post(updates_url(incident), {"status": "panicking", "body": "x"}).status_code == 422
    r = client.post(updates_url(incident), {"status": "identified", "body": "   "})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body"
    assert api(personas.viewer).post(updates_url(incident), {"status": "identified", "body": "x"}).status_code == 403
    assert api(personas.outsider).post(updates_url(incident), {"status": "identified", "body": "x"}).status_code == 404
    assert api(personas.outsider).get(updates_url(incident)).status_code == 404
    assert not StakeholderUpdate.objects.exists() and not Message.objects.exists()


def test_the_incident_page_shows_updates_escaped(personas, client, incident, stakeholders):
    from vigil.comms.actions import do_post_update

    do_post_update(incident, actor=personas.responder, status="investigating", body=EVIL)
    client.force_login(personas.viewer)
    html = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_title_with_a_line_break_still_makes_a_good_subject(personas, api, smtp):
    incident = actions.do_create_incident(personas.service, actor=personas.responder, title="Checkout\r\nBcc: x@evil.test",
                                          severity="sev2")
    Stakeholder.objects.create(service=personas.service, name="Bea", address="bea@client.test")
    api(personas.responder).post(updates_url(incident), {"status": "investigating", "body": "Looking."})
    work()
    [(to, email)] = smtp.messages
    assert to == ["bea@client.test"]
    assert email["Subject"] == "[Acme Shop] Investigating: Checkout Bcc: x@evil.test" and email["Bcc"] is None
