"""Reviews and action items through the API: the whole course of a review, its rules, its boundaries."""

import subprocess
from datetime import date, timedelta

import pytest

from vigil.accounts.models import AuditEntry
from vigil.reviews.models import Review

from .conftest import WHYS


def start(api, user, incident, title="Checkout 502 on Black Friday"):
    response = api(user).post("/api/v1/reviews", {"incident_id": incident.pk, "title": title})
    assert response.status_code == 201, response.content
    return response.json()


def item(api, user, review_id, owner, title, kind="corrective", days=10):
    response = api(user).post("/api/v1/action-items", {
        "review_id": review_id, "title": title, "kind": kind, "owner_id": owner.pk,
        "due_date": (date.today() + timedelta(days=days)).isoformat(), "priority": "high"})
    assert response.status_code == 201, response.content
    return response.json()


def test_a_review_of_a_resolved_incident_from_draft_to_published(personas, resolved, api):
    p = personas
    review = start(api, p.responder, resolved)
    # The default reviewers: the team lead and the service's project manager.
    assert sorted(r["user_id"] for r in review["reviewers"]) == sorted([p.admin.pk, p.pm.pk])
    assert review["status"] == "draft"
    # Filled in from the incident: its facts and its timeline.
    assert "**Affected services:** Acme Shop" in review["sections"]["impact"]
    assert "Time to detect" in review["sections"]["detection"]
    assert any("Rolled back release 412" in e["text"] for e in review["timeline"])

    rid = review["id"]
    patch = api(p.responder).patch(f"/api/v1/reviews/{rid}", {
        "sections": {"summary": "Checkout failed for **40 minutes**.", "went_well": "Rollback took 3 minutes.",
                     "went_badly": "No alert on pod restarts.", "lucky": "It was 4 a.m.", "lessons": "Load test with real data.",
                     "resolution": "Rolled back release 412."},
        "whys": WHYS, "factors": [{"category": "process", "description": "Load test data is synthetic"}],
        "root_cause_category": "code_change", "root_cause": "An unbounded in-memory cache", "fix_type": "both",
    })
    assert patch.status_code == 200, patch.content
    body = patch.json()
    assert [w["parent"] for w in body["whys"]] == [None, 1, 2]
    assert body["sections"]["impact"].startswith("- **Duration:**")  # untouched sections keep their text

    item(api, p.responder, rid, p.responder, "Bound the BIN cache")
    item(api, p.responder, rid, p.pm, "Alert on pod OOM kills", kind="monitoring")

    assert api(p.responder).post(f"/api/v1/reviews/{rid}/submit").json()["status"] == "in_review"
    assert api(p.admin).post(f"/api/v1/reviews/{rid}/approve").json()["status"] == "in_review"  # one of two
    approved = api(p.pm).post(f"/api/v1/reviews/{rid}/approve").json()
    assert approved["status"] == "approved"
    published = api(p.responder).post(f"/api/v1/reviews/{rid}/publish")
    assert published.status_code == 200, published.content
    assert published.json()["status"] == "published" and published.json()["published_at"]
    assert api(p.responder).patch(f"/api/v1/reviews/{rid}", {"title": "late edit"}).status_code == 409
    assert AuditEntry.objects.filter(action="review.publish", object_id=str(rid)).exists()
    assert resolved.timeline.filter(body__contains=f"Review #{rid} published").exists()

    md = api(p.viewer).get(f"/api/v1/reviews/{rid}/export.md")
    assert md.status_code == 200 and md["Content-Type"].startswith("text/markdown")
    text = md.content.decode()
    for title in ["Summary", "Impact", "Detection", "Root cause analysis", "Resolution", "What went well",
                  "What went badly", "Where we were lucky", "Lessons learned", "Timeline", "Action items"]:
        assert f"\n## {title}\n" in text, title
    assert "Checkout failed for **40 minutes**." in text
    for why in WHYS:
        assert why["why"] in text and why["answer"] in text
    assert "   1. **Why? Why were they OOM-killed?**" in text  # the second level is nested under the first
    assert "Rolled back release 412" in text and "acknowledged" in text  # the incident's timeline
    assert "Bound the BIN cache" in text and "Alert on pod OOM kills" in text
    assert "**Root cause category:** Code change / deploy" in text


def test_the_pdf_export_renders(personas, resolved, api, tmp_path, pdftotext):
    review = start(api, personas.responder, resolved)
    response = api(personas.responder).get(f"/api/v1/reviews/{review['id']}/export.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    pdf = tmp_path / "review.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Checkout 502 on Black Friday" in text and "Root cause analysis" in text and "Timeline" in text


def test_publishing_needs_an_action_item_or_a_reviewers_no_action_needed(personas, resolved, api):
    p = personas
    rid = start(api, p.responder, resolved)["id"]
    api(p.responder).post(f"/api/v1/reviews/{rid}/submit")
    api(p.admin).post(f"/api/v1/reviews/{rid}/approve")
    api(p.pm).post(f"/api/v1/reviews/{rid}/approve")
    refused = api(p.responder).post(f"/api/v1/reviews/{rid}/publish")
    assert refused.status_code == 409 and "action item" in refused.json()["detail"]
    assert Review.objects.get(pk=rid).status == "approved"
    # Only a reviewer may say so, and with a reason.
    assert api(p.responder).post(f"/api/v1/reviews/{rid}/no-action-needed", {"reason": "nothing"}).status_code == 403
    assert api(p.admin).post(f"/api/v1/reviews/{rid}/no-action-needed", {}).status_code == 422
    marked = api(p.admin).post(f"/api/v1/reviews/{rid}/no-action-needed", {"reason": "The provider's outage; nothing of ours to change."})
    assert marked.status_code == 200 and marked.json()["no_action_by_id"] == p.admin.pk
    assert api(p.responder).post(f"/api/v1/reviews/{rid}/publish").json()["status"] == "published"
    assert "No action needed: The provider's outage" in api(p.responder).get(f"/api/v1/reviews/{rid}/export.md").content.decode()


def test_only_reviewers_approve_and_an_edit_in_review_withdraws_approvals(personas, resolved, api):
    p = personas
    rid = start(api, p.responder, resolved)["id"]
    assert api(p.admin).post(f"/api/v1/reviews/{rid}/approve").status_code == 409  # still a draft
    api(p.responder).post(f"/api/v1/reviews/{rid}/submit")
    assert api(p.responder).post(f"/api/v1/reviews/{rid}/approve").status_code == 403
    api(p.admin).post(f"/api/v1/reviews/{rid}/approve")
    api(p.responder).patch(f"/api/v1/reviews/{rid}", {"root_cause": "changed after approval"})
    reviewers = api(p.admin).get(f"/api/v1/reviews/{rid}").json()["reviewers"]
    assert all(r["approved_at"] is None for r in reviewers)
    back = api(p.pm).post(f"/api/v1/reviews/{rid}/request-changes", {"reason": "Add the customer count"})
    assert back.json()["status"] == "draft"
    assert "Add the customer count" in api(p.pm).get(f"/api/v1/reviews/{rid}/comments").json()["items"][0]["body"]


@pytest.mark.parametrize("change, field", [
    ({"whys": [{"id": 1, "parent": 7, "why": "Why?"}]}, "whys.0.parent"),
    ({"whys": WHYS + [{"id": 3, "parent": 1, "why": "Again?"}]}, "whys.3.id"),
    ({"whys": [{"id": 1, "why": "Why?", "evidence": ["javascript:alert(1)"]}]}, "whys.0.evidence.0"),
    ({"sections": {"nonsense": "x"}}, "sections.nonsense"),
    ({"factors": [{"category": "weather", "description": "rain"}]}, "factors.0.category"),
    ({"timeline": [{"at": "yesterday", "text": "x"}]}, "timeline.0.at"),
    ({"root_cause_category": "gremlins"}, "root_cause_category"),
    ({"title": None}, "title"),
    ({"title": "ok", "reviewer_ids": [999999]}, "reviewer_ids"),
])
def test_bad_input_names_the_field_and_changes_nothing(personas, resolved, api, change, field):
    rid = start(api, personas.responder, resolved)["id"]
    before = api(personas.responder).get(f"/api/v1/reviews/{rid}").json()
    response = api(personas.responder).patch(f"/api/v1/reviews/{rid}", change)
    assert response.status_code == 422, response.content
    assert [d["field"] for d in response.json()["detail"]] == [field]
    after = api(personas.responder).get(f"/api/v1/reviews/{rid}").json()
    assert after == before


def test_team_boundaries(personas, resolved, api):
    p = personas
    rid = start(api, p.responder, resolved)["id"]
    assert api(p.outsider).get(f"/api/v1/reviews/{rid}").status_code == 404
    assert api(p.outsider).get("/api/v1/reviews").json()["count"] == 0
    assert api(p.outsider).post("/api/v1/reviews", {"incident_id": resolved.pk}).status_code == 422
    assert api(p.viewer).get(f"/api/v1/reviews/{rid}").status_code == 200
    assert api(p.viewer).patch(f"/api/v1/reviews/{rid}", {"title": "x"}).status_code == 403
    assert api(p.viewer).post("/api/v1/reviews", {"incident_id": resolved.pk}).status_code == 403
    assert api().get("/api/v1/reviews").status_code == 401
    # An action item's owner must be in the team.
    response = api(p.responder).post("/api/v1/action-items", {
        "review_id": rid, "title": "x", "owner_id": p.outsider.pk, "due_date": "2030-01-01"})
    assert response.status_code == 422 and response.json()["detail"][0]["field"] == "owner_id"


def test_action_items_status_overdue_list_and_wont_do_reason(personas, resolved, api):
    p = personas
    rid = start(api, p.responder, resolved)["id"]
    late = item(api, p.responder, rid, p.responder, "Late one", days=-2)
    fine = item(api, p.responder, rid, p.responder, "Fine one", days=5)
    assert late["overdue"] and not fine["overdue"]
    overdue = api(p.viewer).get("/api/v1/action-items", overdue="true", team_id=p.team.pk).json()
    assert [i["id"] for i in overdue["items"]] == [late["id"]]
    refused = api(p.responder).patch(f"/api/v1/action-items/{late['id']}", {"status": "wont_do"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "wont_do_reason"
    done = api(p.responder).patch(f"/api/v1/action-items/{late['id']}", {"status": "wont_do", "wont_do_reason": "Service retired"})
    assert done.json()["status"] == "wont_do" and done.json()["closed_at"] and not done.json()["overdue"]
    # An item straight from an incident, without a review.
    direct = api(p.responder).post("/api/v1/action-items", {
        "incident_id": resolved.pk, "title": "Add a runbook", "kind": "process", "owner_id": p.admin.pk,
        "due_date": "2031-01-01"})
    assert direct.status_code == 201 and direct.json()["review_id"] is None
    assert api(p.outsider).get(f"/api/v1/action-items/{fine['id']}").status_code == 404


def test_a_team_sets_its_reviewers_and_template(personas, resolved, api):
    p = personas
    settings_url = f"/api/v1/review-settings/{p.team.pk}"
    assert api(p.responder).patch(settings_url, {"reviewer_ids": [p.viewer.pk]}).status_code == 403
    sections = [{"key": "summary", "title": "Summary", "prompt": "Short"}, {"key": "client", "title": "For the client"}]
    response = api(p.admin).patch(settings_url, {"reviewer_ids": [p.viewer.pk], "sections": sections, "lead_id": p.responder.pk})
    assert response.status_code == 200, response.content
    assert response.json()["reviewer_ids"] == [p.viewer.pk] and response.json()["lead_id"] == p.responder.pk
    assert api(p.admin).get(f"/api/v1/teams/{p.team.pk}").json()["lead_id"] == p.responder.pk
    review = start(api, p.responder, resolved)
    assert [r["user_id"] for r in review["reviewers"]] == [p.viewer.pk]
    assert [s["key"] for s in review["template"]] == ["summary", "client"]
    bad = api(p.admin).patch(settings_url, {"sections": [{"key": "a b", "title": "x"}]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "sections.0.key"


def test_impact_names_the_incidents_sla_breaches(personas, resolved, api):
    from vigil.sla.models import SlaClock

    assert "**SLA breaches:** none" in start(api, personas.responder, resolved)["sections"]["impact"]
    at = resolved.created_at
    SlaClock.objects.update_or_create(incident=resolved, kind="ack", defaults=dict(
        severity="sev1", target_seconds=900, started_at=at, breach_at=at + timedelta(minutes=15),
        breached_at=at + timedelta(minutes=15)))
    impact = start(api, personas.responder, resolved)["sections"]["impact"]
    assert f"time to acknowledge (target 15 min) breached at {at + timedelta(minutes=15):%Y-%m-%d %H:%M} UTC" in impact


def test_publishing_can_post_the_public_postmortem_to_the_status_page(personas, resolved, api):
    from vigil.statuspage.models import PublicUpdate, StatusPage
    from vigil.statuspage.services import post_public_update

    p = personas
    rid = start(api, p.responder, resolved)["id"]
    item(api, p.responder, rid, p.responder, "Bound the BIN cache")
    api(p.responder).post(f"/api/v1/reviews/{rid}/submit")
    api(p.admin).post(f"/api/v1/reviews/{rid}/approve")
    api(p.pm).post(f"/api/v1/reviews/{rid}/approve")
    text = "A release used too much memory; we rolled it back and now test with production-sized data."
    # Customers were never told of this incident: nothing to post to, and nothing is published.
    refused = api(p.responder).post(f"/api/v1/reviews/{rid}/publish", {"postmortem": text})
    assert refused.status_code == 409 and "status page" in refused.json()["detail"]
    assert Review.objects.get(pk=rid).status == "approved"

    page = StatusPage.objects.create(team=p.team, slug="acme", name="Acme status")
    post_public_update(resolved, page=page, status="investigating", deliver=False)
    post_public_update(resolved, page=page, status="resolved", deliver=False)
    published = api(p.responder).post(f"/api/v1/reviews/{rid}/publish", {"postmortem": text})
    assert published.status_code == 200 and published.json()["status"] == "published"
    update = PublicUpdate.objects.get(status="postmortem")
    assert update.body == text and update.public_incident.page == page
