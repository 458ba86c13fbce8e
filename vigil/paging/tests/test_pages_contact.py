"""How to reach me (/account/contact/): contact methods with a test button, the webhook's signing
secret and how to check it, notification rules in minutes."""

import html
import re

from vigil.paging.models import ContactMethod, NotificationRule


def add(client, **fields):
    return client.post("/account/contact/", {"add-method": "1", **fields})


def test_a_user_adds_a_webhook_and_sees_its_signing_secret_once(personas, client, receiver):
    client.force_login(personas.responder)
    page = add(client, kind="webhook", name="pager", address=receiver.url).content.decode()
    method = ContactMethod.objects.get(user=personas.responder)
    assert method.signing_secret in page
    assert "X-Vigil-Signature" in page
    again = client.get("/account/contact/").content.decode()
    assert method.signing_secret not in again
    assert "How a webhook receiver checks the signature" in again


def test_the_test_button_really_sends_and_the_shown_snippet_verifies_it(personas, client, receiver):
    client.force_login(personas.responder)
    page = add(client, kind="webhook", name="pager", address=receiver.url).content.decode()
    method = ContactMethod.objects.get(user=personas.responder)
    r = client.post(f"/account/contact/{method.pk}/test/", follow=True)
    [request] = receiver.requests
    assert request["json"]["event"] == "test"
    assert "Test sent to pager: HTTP 200." in r.content.decode()
    # The snippet on the page, run as a receiver would run it, accepts the request it got.
    snippet = html.unescape(re.search(r'<pre class="verify"><code>(.*?)</code></pre>', page, re.S).group(1))
    scope = {}
    exec(snippet, scope)
    assert scope["verified"](request["headers"], request["body"])
    assert not scope["verified"](request["headers"], request["body"] + b" ")


def test_a_failed_test_says_what_went_wrong(personas, client, receiver):
    receiver.status = 500
    method = ContactMethod.objects.create(user=personas.responder, kind="webhook", name="pager", address=receiver.url)
    client.force_login(personas.responder)
    r = client.post(f"/account/contact/{method.pk}/test/", follow=True)
    assert "Test to pager failed: HTTP 500." in r.content.decode()


def test_a_bad_address_is_a_field_error_and_adds_nothing(personas, client):
    client.force_login(personas.responder)
    for kind, address, error in [("email", "not-an-address", "Not a valid email address"),
                                 ("webhook", "ftp://x.example", "Not a valid http(s) URL"),
                                 ("apprise", "nosuchservice://x", "Not a URL Apprise knows")]:
        r = add(client, kind=kind, address=address)
        assert r.status_code == 200, kind
        assert re.search(r'<ul class="errorlist"[^>]*><li>' + re.escape(error), r.content.decode()), kind
    assert not ContactMethod.objects.exists()


def test_an_apprise_url_is_kept_but_its_tokens_are_never_shown(personas, client):
    client.force_login(personas.responder)
    add(client, kind="apprise", name="", address="tgram://123456:secret-bot-token/987654")
    method = ContactMethod.objects.get()
    assert method.address == "tgram://123456:secret-bot-token/987654"
    page = client.get("/account/contact/").content.decode()
    assert "tgram://…" in page and "secret-bot-token" not in page


def test_nobody_can_test_or_remove_someone_elses_method_or_rule(personas, client, receiver):
    method = ContactMethod.objects.create(user=personas.admin, kind="webhook", address=receiver.url)
    rule = NotificationRule.objects.create(user=personas.admin, contact_method=method, delay_seconds=0)
    client.force_login(personas.responder)
    assert client.post(f"/account/contact/{method.pk}/test/").status_code == 404
    assert client.post(f"/account/contact/{method.pk}/delete/").status_code == 404
    assert client.post(f"/account/rules/{rule.pk}/delete/").status_code == 404
    assert receiver.requests == []
    assert ContactMethod.objects.filter(pk=method.pk).exists() and NotificationRule.objects.filter(pk=rule.pk).exists()
    # Nor use it in a rule of their own.
    ContactMethod.objects.create(user=personas.responder, kind="email", address="r@ops.test")
    r = client.post("/account/contact/", {"add-rule": "1", "contact_method": method.pk, "delay_minutes": 1})
    assert "Select a valid choice." in r.content.decode() and NotificationRule.objects.count() == 1


def test_rules_are_set_in_minutes_and_kept_in_seconds(personas, client):
    method = ContactMethod.objects.create(user=personas.responder, kind="email", name="work mail", address="r@ops.test")
    client.force_login(personas.responder)
    client.post("/account/contact/", {"add-rule": "1", "contact_method": method.pk, "delay_minutes": 2})
    client.post("/account/contact/", {"add-rule": "1", "contact_method": method.pk, "delay_minutes": 0})
    assert sorted(NotificationRule.objects.values_list("delay_seconds", flat=True)) == [0, 120]
    page = client.get("/account/contact/").content.decode()
    assert "After 2 min by <strong>work mail</strong>" in page
    assert "Immediately by <strong>work mail</strong>" in page


def test_the_same_delay_twice_for_one_method_is_a_field_error(personas, client):
    method = ContactMethod.objects.create(user=personas.responder, kind="email", address="r@ops.test")
    NotificationRule.objects.create(user=personas.responder, contact_method=method, delay_seconds=120)
    client.force_login(personas.responder)
    r = client.post("/account/contact/", {"add-rule": "1", "contact_method": method.pk, "delay_minutes": 2})
    assert "This method already has a rule with this delay." in r.content.decode()
    assert NotificationRule.objects.count() == 1


def test_removing_a_method_or_a_rule(personas, client):
    method = ContactMethod.objects.create(user=personas.responder, kind="email", address="r@ops.test")
    other = ContactMethod.objects.create(user=personas.responder, kind="email", address="r2@ops.test")
    rule = NotificationRule.objects.create(user=personas.responder, contact_method=other, delay_seconds=60)
    NotificationRule.objects.create(user=personas.responder, contact_method=method, delay_seconds=0)
    client.force_login(personas.responder)
    assert client.post(f"/account/rules/{rule.pk}/delete/").status_code == 302
    assert client.post(f"/account/contact/{method.pk}/delete/").status_code == 302
    assert list(ContactMethod.objects.all()) == [other]
    assert not NotificationRule.objects.exists()


def test_names_typed_by_the_user_stay_text(personas, client):
    client.force_login(personas.responder)
    r = add(client, kind="email", name="<script>alert(1)</script>", address="r@ops.test")
    page = r.content.decode() + client.get("/account/contact/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_page_needs_a_login_and_is_linked_in_the_nav(personas, client):
    assert client.get("/account/contact/").status_code == 302
    client.force_login(personas.viewer)
    assert 'href="/account/contact/"' in client.get("/").content.decode()
