"""A service's stakeholders and its communication settings, through the API."""

import pytest

from vigil.comms.models import DEFAULT_TEMPLATES, Stakeholder


def url(personas):
    return f"/api/v1/services/{personas.service.pk}/stakeholders"


def test_a_responder_adds_lists_changes_and_removes_stakeholders(personas, api):
    client = api(personas.responder)
    r = client.post(url(personas), {"name": "Bea Business", "group": "business", "address": "bea@client.test"})
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["kind"] == "email" and created["group"] == "business" and created["service_id"] == personas.service.pk
    r = client.post(url(personas), {"name": "Client Slack", "kind": "apprise",
                                    "address": "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"})
    assert r.status_code == 201
    assert r.json()["address"] == "slack://…"
    listed = api(personas.viewer).get(url(personas)).json()
    assert listed["count"] == 2
    r = client.patch(f"/api/v1/stakeholders/{created['id']}", {"name": "Bea B.", "group": "client"})
    assert r.status_code == 200 and r.json()["name"] == "Bea B." and r.json()["group"] == "client"
    assert client.delete(f"/api/v1/stakeholders/{created['id']}").status_code == 204
    assert list(Stakeholder.objects.values_list("name", flat=True)) == ["Client Slack"]


@pytest.mark.parametrize("body, field", [
    ({"name": "X", "address": "not-an-email"}, "address"),
    ({"name": "X", "kind": "apprise", "address": "nonsense://what"}, "address"),
    ({"name": "", "address": "x@client.test"}, "name"),
    ({"name": "X", "kind": "pigeon", "address": "x@client.test"}, "kind"),
    ({"name": "X", "address": "x@client.test", "group": "royalty"}, "group"),
    ({"name": "X", "address": "x@client.test", "phone": "1"}, "phone"),
])
def test_bad_stakeholders_are_refused_naming_the_field(personas, api, body, field):
    r = api(personas.responder).post(url(personas), body)
    assert r.status_code == 422, r.content
    assert r.json()["detail"][0]["field"] == field
    assert not Stakeholder.objects.exists()


def test_the_same_address_twice_is_refused(personas, api):
    client = api(personas.responder)
    client.post(url(personas), {"name": "Bea", "address": "bea@client.test"})
    r = client.post(url(personas), {"name": "Bea again", "address": "bea@client.test"})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "address"


def test_viewers_read_and_outsiders_do_not_see_stakeholders(personas, api):
    stakeholder = Stakeholder.objects.create(service=personas.service, name="Bea", address="bea@client.test")
    assert api(personas.viewer).post(url(personas), {"name": "V", "address": "v@client.test"}).status_code == 403
    assert api(personas.viewer).delete(f"/api/v1/stakeholders/{stakeholder.pk}").status_code == 403
    assert api(personas.outsider).get(url(personas)).status_code == 404
    assert api(personas.outsider).get(f"/api/v1/stakeholders/{stakeholder.pk}").status_code == 404
    assert api(personas.outsider).delete(f"/api/v1/stakeholders/{stakeholder.pk}").status_code == 404
    assert Stakeholder.objects.count() == 1


def test_communication_settings_start_from_the_defaults_and_can_be_changed(personas, api):
    client = api(personas.responder)
    comms_url = f"/api/v1/services/{personas.service.pk}/communications"
    body = client.get(comms_url).json()
    assert body["reminder_minutes"] == {"sev1": 30, "sev2": 60, "sev3": 120, "sev4": 0}
    assert body["templates"]["investigating"] == DEFAULT_TEMPLATES["investigating"]
    r = client.put(comms_url, {"reminder_minutes": {"sev1": 15}, "templates": {"identified": "Found it: $title."}})
    assert r.status_code == 200
    assert r.json()["reminder_minutes"]["sev1"] == 15 and r.json()["reminder_minutes"]["sev2"] == 60
    assert r.json()["templates"]["identified"] == "Found it: $title."
    r = client.put(comms_url, {"templates": {"identified": ""}})
    assert r.json()["templates"]["identified"] == DEFAULT_TEMPLATES["identified"]
    assert r.json()["reminder_minutes"]["sev1"] == 15


@pytest.mark.parametrize("body, field", [
    ({"reminder_minutes": {"sev1": -1}}, "reminder_minutes.sev1"),
    ({"reminder_minutes": {"sev9": 10}}, "reminder_minutes.sev9.[key]"),
    ({"templates": {"panicking": "x"}}, "templates.panicking.[key]"),
])
def test_bad_settings_are_refused(personas, api, body, field):
    r = api(personas.responder).put(f"/api/v1/services/{personas.service.pk}/communications", body)
    assert r.status_code == 422, r.content
    assert r.json()["detail"][0]["field"] == field
