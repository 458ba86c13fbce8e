"""The review pages, the Markdown sanitising, and recurrence on the incident page."""

import subprocess

from django.test import Client

from vigil.incidents import actions as incidents
from vigil.reviews import actions
from vigil.reviews.export import markdown, pdf

from .conftest import WHYS

EVIL = "<img src=x onerror=alert(1)> [click](javascript:alert(2)) <script>alert(3)</script>"


def client(user):
    c = Client()
    c.force_login(user)
    return c


def test_markdown_is_rendered_and_no_live_html_reaches_the_page_or_the_pdf(personas, resolved, tmp_path, pdftotext):
    review = actions.do_start_review(resolved, actor=personas.responder)
    review = actions.do_update_review(review, actor=personas.responder, title=EVIL, root_cause=EVIL,
                             sections={"summary": f"**Bold** and\n\n{EVIL}", "lessons": EVIL},
                             whys=[{"id": 1, "why": EVIL, "answer": EVIL}],
                             factors=[{"category": "people", "description": EVIL}])
    actions.do_add_comment(review, actor=personas.responder, body=EVIL)
    page = client(personas.viewer).get(review.get_absolute_url()).content.decode()
    assert "<strong>Bold</strong>" in page
    assert "<img" not in page and "<script>alert" not in page and "onerror=" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript' not in page

    document = pdf(review)
    path = tmp_path / "evil.pdf"
    path.write_bytes(document)
    text = subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "<img src=x onerror=alert(1)>" in text  # shown as text, not made an image
    # The Markdown export keeps what was typed (it is Markdown, for the reader's renderer to sanitise).
    assert EVIL in markdown(review)


def test_the_edit_form_saves_a_five_whys_chain_with_a_branch(personas, resolved):
    review = actions.do_start_review(resolved, actor=personas.responder)
    c = client(personas.responder)
    page = c.get(f"/reviews/{review.pk}/edit/")
    assert page.status_code == 200
    form = {"title": "Checkout 502", "technique": "five_whys", "root_cause_category": "code_change",
            "root_cause": "cache", "fix_type": "long_term", "reviewers": [personas.admin.pk],
            "whys-TOTAL_FORMS": "3", "whys-INITIAL_FORMS": "3", "factors-TOTAL_FORMS": "0", "factors-INITIAL_FORMS": "0",
            "timeline-TOTAL_FORMS": "1", "timeline-INITIAL_FORMS": "0",
            "timeline-0-at": "2030-01-01 10:00:00+00:00", "timeline-0-text": "Curated entry"}
    for key, _t, _p, text in review.section_list():
        form[f"section_{key}"] = text
    for n, (parent, why) in enumerate([("", "Why 502?"), ("1", "Why OOM?"), ("1", "Why no alert?")]):
        form.update({f"whys-{n}-node_id": str(n + 1), f"whys-{n}-parent": parent, f"whys-{n}-why": why,
                     f"whys-{n}-answer": "because", f"whys-{n}-evidence": "https://grafana.example/d/1\n"})
    response = c.post(f"/reviews/{review.pk}/edit/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    review.refresh_from_db()
    assert [(w["id"], w["parent"]) for w in review.whys] == [(1, None), (2, 1), (3, 1)]
    assert review.timeline == [{"at": "2030-01-01T10:00:00+00:00", "text": "Curated entry"}]
    assert [r.user for r in review.reviewer_rows.all()] == [personas.admin]
    # A why that follows a why not written is refused, naming it, and nothing is saved.
    form["whys-0-parent"] = "3"
    response = c.post(f"/reviews/{review.pk}/edit/", form)
    assert response.status_code == 200 and "whys.0.parent" in response.content.decode()
    review.refresh_from_db()
    assert review.whys[0]["parent"] is None


def test_pages_work_through_the_whole_course(personas, resolved):
    p = personas
    c = client(p.responder)
    response = c.post(f"/incidents/{resolved.pk}/review/")
    assert response.status_code == 302
    review = resolved.reviews.get()
    actions.do_update_review(review, actor=p.responder, whys=WHYS)
    item = c.post(f"/reviews/{review.pk}/action-items/", {
        "item-title": "Bound the cache", "item-kind": "corrective", "item-owner": p.responder.pk,
        "item-due_date": "2031-01-01", "item-priority": "high", "item-status": "open"})
    assert item.status_code == 302 and review.action_items.count() == 1
    c.post(f"/reviews/{review.pk}/submit/")
    client(p.admin).post(f"/reviews/{review.pk}/approve/")
    client(p.pm).post(f"/reviews/{review.pk}/approve/")
    c.post(f"/reviews/{review.pk}/publish/")
    review.refresh_from_db()
    assert review.status == "published"
    page = c.get(review.get_absolute_url()).content.decode()
    assert "Why did that ship?" in page and 'id="why-3"' in page
    assert c.get(f"/reviews/{review.pk}/export.pdf")["Content-Type"] == "application/pdf"
    assert c.get("/reviews/").status_code == 200 and c.get("/action-items/").status_code == 200
    assert client(p.outsider).get(review.get_absolute_url()).status_code == 404
    assert client(p.viewer).post(f"/reviews/{review.pk}/edit/", {}).status_code == 403
    assert c.get(f"/teams/{p.team.slug}/review-settings/").status_code == 200


def test_a_new_incident_with_the_same_alert_group_links_the_earlier_review(personas):
    first = incidents.do_create_incident(personas.service, actor=None, title="5xx on web", severity="sev2",
                                         group_key="alertname=High5xx")
    incidents.do_resolve_incident(first, actor=None)
    review = actions.do_start_review(first, actor=personas.responder)
    actions.do_update_review(review, actor=personas.responder, root_cause_category="capacity")
    other = incidents.do_create_incident(personas.service, actor=None, title="Disk full", severity="sev3")
    again = incidents.do_create_incident(personas.service, actor=None, title="5xx on web again", severity="sev2",
                                         group_key="alertname=High5xx")
    note = again.timeline.get(kind="note")
    assert note.body.startswith(f"This happened before: review #{review.pk} of incident #{first.number}")
    page = client(personas.viewer).get(again.get_absolute_url()).content.decode()
    assert 'id="recurrence"' in page and f"/reviews/{review.pk}/" in page
    assert not other.timeline.filter(kind="note").exists()
    # Once the new incident's review names the same root cause category, the earlier one is linked too.
    actions.do_update_review(actions.do_start_review(other, actor=personas.responder), actor=personas.responder,
                             root_cause_category="capacity")
    page = client(personas.viewer).get(other.get_absolute_url()).content.decode()
    assert 'id="same-cause"' in page and f"review #{review.pk}</a>" in page


def test_the_demo_includes_a_published_review(db):
    from django.core.management import call_command

    from vigil.reviews.models import Review

    call_command("demo", stdout=open("/dev/null", "w"))
    review = Review.objects.get()
    assert review.status == "published" and len(review.whys) == 3 and review.action_items.count() == 2


def test_an_action_item_straight_from_the_incident_page(personas, resolved):
    c = client(personas.responder)
    assert 'action="/incidents/%d/action-items/"' % resolved.pk in c.get(resolved.get_absolute_url()).content.decode()
    response = c.post(f"/incidents/{resolved.pk}/action-items/", {
        "item-title": "Write the runbook", "item-kind": "process", "item-owner": personas.admin.pk,
        "item-due_date": "2031-02-01", "item-priority": "low", "item-status": "open"})
    assert response.status_code == 302
    item = resolved.action_items.get()
    assert item.review is None and item.owner == personas.admin and item.reminders.count() == 3
    # A bad date is refused, named, and adds nothing.
    response = c.post(f"/incidents/{resolved.pk}/action-items/", {
        "item-title": "x", "item-kind": "process", "item-owner": personas.admin.pk, "item-due_date": "soon",
        "item-priority": "low", "item-status": "open"}, follow=True)
    assert "Not added: Due date" in response.content.decode() and resolved.action_items.count() == 1
    assert client(personas.viewer).post(f"/incidents/{resolved.pk}/action-items/", {}).status_code == 403
