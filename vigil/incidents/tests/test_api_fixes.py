"""The containment and fixes log: structured, append-only timeline entries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from vigil.incidents import actions
from vigil.incidents.models import TimelineEntry


@pytest.fixture
def incident(personas):
    return actions.do_create_incident(personas.service, actor=personas.responder, title="Checkout returns 502", severity="sev1")


def fixes_url(incident):
    return f"/api/v1/incidents/{incident.pk}/fixes"


ROLLBACK = {"action": "rollback", "change": "deploy 4521", "target": "checkout-api", "from": "v1.4.2", "to": "v1.4.1",
            "command": "kubectl rollout undo deploy/checkout-api", "link": "https://ci.example.com/pipelines/4521",
            "outcome": "succeeded", "note": "502s stopped within a minute"}


def test_a_rollback_names_the_change_and_versions_and_who_did_it(personas, api, incident):
    r = api(personas.responder).post(fixes_url(incident), ROLLBACK)
    assert r.status_code == 201, r.content
    entry = r.json()
    assert entry["kind"] == "fix" and entry["actor_id"] == personas.responder.pk
    assert entry["body"] == ("Rolled back deploy 4521 on checkout-api from v1.4.2 to v1.4.1. "
                             "Outcome: worked (502s stopped within a minute).")
    data = entry["data"]
    assert {k: data[k] for k in ROLLBACK} == ROLLBACK
    assert data["performed_by"] == personas.responder.pk
    listed = api(personas.viewer).get(fixes_url(incident)).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == entry["id"]


@pytest.mark.parametrize("fix, sentence", [
    ({"action": "isolate", "target": "payments worker pool", "outcome": "partial"},
     "Isolated payments worker pool. Outcome: helped partly."),
    ({"action": "redirect_traffic", "from": "eu-west-1", "to": "eu-central-1", "outcome": "succeeded"},
     "Redirected traffic from eu-west-1 to eu-central-1. Outcome: worked."),
    ({"action": "restart", "target": "redis-cache", "command": "systemctl restart redis", "outcome": "failed"},
     "Restarted redis-cache. Outcome: did not work."),
    ({"action": "patch", "summary": "raise the connection pool to 50", "target": "checkout-api", "outcome": "pending"},
     "Applied a patch to checkout-api: raise the connection pool to 50. Outcome: too early to tell."),
    ({"action": "workaround", "summary": "feature flag new-cart off", "outcome": "succeeded"},
     "Applied a workaround: feature flag new-cart off. Outcome: worked."),
])
def test_each_quick_action_logs_its_own_sentence(personas, api, incident, fix, sentence):
    r = api(personas.responder).post(fixes_url(incident), fix)
    assert r.status_code == 201, r.content
    assert r.json()["body"] == sentence
    assert r.json()["data"]["action"] == fix["action"]


@pytest.mark.parametrize("fix, field", [
    ({"action": "rollback", "change": "deploy 1", "from": "v2", "outcome": "succeeded"}, "to"),
    ({"action": "rollback", "from": "v2", "to": "v1", "outcome": "succeeded"}, "change"),
    ({"action": "isolate", "target": "  ", "outcome": "succeeded"}, "target"),
    ({"action": "redirect_traffic", "to": "b", "outcome": "succeeded"}, "from"),
    ({"action": "patch", "outcome": "succeeded"}, "summary"),
    ({"action": "restart", "target": "db", "outcome": "maybe"}, "outcome"),
    ({"action": "reboot the world", "target": "db", "outcome": "succeeded"}, "action"),
    ({"action": "restart", "target": "db", "outcome": "succeeded", "link": "javascript:alert(1)"}, "link"),
    ({"action": "restart", "target": "db", "outcome": "succeeded", "performed_by_id": 987654}, "performed_by_id"),
    ({"action": "restart", "target": "db", "outcome": "succeeded", "corrects_id": 987654}, "corrects_id"),
    ({"action": "restart", "target": "db", "outcome": "succeeded", "at": "2999-01-01T00:00:00Z"}, "at"),
    ({"action": "restart", "target": "db", "outcome": "succeeded", "colour": "red"}, "colour"),
])
def test_bad_input_names_the_field_and_logs_nothing(personas, api, incident, fix, field):
    r = api(personas.responder).post(fixes_url(incident), fix)
    assert r.status_code == 422, r.content
    assert r.json()["detail"][0]["field"] == field
    assert not incident.timeline.filter(kind="fix").exists()


def test_a_fix_done_earlier_by_someone_else_is_placed_at_its_time(personas, api, incident):
    earlier = timezone.now() - timedelta(minutes=20)
    r = api(personas.responder).post(fixes_url(incident), {
        "action": "restart", "target": "redis-cache", "outcome": "succeeded",
        "at": earlier.isoformat(), "performed_by_id": personas.admin.pk})
    assert r.status_code == 201
    entry = TimelineEntry.objects.get(pk=r.json()["id"])
    assert entry.at == earlier.replace(microsecond=entry.at.microsecond)
    assert entry.body.startswith("Ada Admin: Restarted redis-cache")
    assert entry.data["performed_by"] == personas.admin.pk and entry.actor == personas.responder
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds == ["fix", "created"]


def test_a_correction_is_a_new_entry_and_the_original_stays(personas, api, incident):
    original = api(personas.responder).post(fixes_url(incident), {**ROLLBACK, "outcome": "pending", "note": ""}).json()
    r = api(personas.responder).post(fixes_url(incident), {**ROLLBACK, "outcome": "failed", "note": "errors came back",
                                                           "corrects_id": original["id"]})
    assert r.status_code == 201
    assert r.json()["data"]["corrects"] == original["id"]
    assert r.json()["body"].startswith("Correction of the entry of ")
    items = api(personas.responder).get(fixes_url(incident)).json()["items"]
    assert [i["data"]["outcome"] for i in items] == ["pending", "failed"]
    assert TimelineEntry.objects.get(pk=original["id"]).data["outcome"] == "pending"
    with pytest.raises(TypeError):
        TimelineEntry.objects.filter(pk=original["id"]).update(body="rewritten")


def test_viewers_and_outsiders_cannot_log_fixes(personas, api, incident):
    assert api(personas.viewer).post(fixes_url(incident), ROLLBACK).status_code == 403
    assert api(personas.outsider).post(fixes_url(incident), ROLLBACK).status_code == 404
    assert api(personas.outsider).get(fixes_url(incident)).status_code == 404
    assert not incident.timeline.filter(kind="fix").exists()
