"""The demo's review: a published review of the resolved certificate incident, and a draft."""

from datetime import timedelta

from django.utils import timezone

from . import actions


def load(incident, *, author, reviewer, manager):
    team, service = incident.team, incident.service
    team.lead = reviewer
    team.save(update_fields=["lead"])
    service.project_manager = manager
    service.save(update_fields=["project_manager"])
    review = actions.do_start_review(incident, actor=author, title="TLS certificate nearly expired on the Partner API")
    review = actions.do_update_review(
        review, actor=author, root_cause_category="process", root_cause="Certificate renewal was a manual step",
        fix_type="both",
        sections={
            "summary": "The certificate of `api.globex.example` was found **7 days** before it expired. "
                       "It was renewed by hand; renewal is now automated.",
            "went_well": "The expiry check fired a week ahead, as designed.",
            "went_badly": "Nobody knew who renews certificates for this client.",
            "lucky": "The check had been added a month earlier.",
            "lessons": "- Every certificate renews itself, or has an owner and a date in the calendar.",
            "resolution": "Renewed by hand (short-term); cert-manager now renews it (long-term).",
        },
        whys=[
            {"id": 1, "parent": None, "why": "Why was the certificate about to expire?",
             "answer": "Its renewal did not run.", "evidence": ["https://grafana.example/d/tls"]},
            {"id": 2, "parent": 1, "why": "Why did the renewal not run?",
             "answer": "It was a manual step in a runbook nobody owned."},
            {"id": 3, "parent": 2, "why": "Why did nobody own it?",
             "answer": "The client's onboarding checklist has no line for certificates."},
        ],
    )
    today = timezone.localdate()
    actions.do_create_action_item(team, actor=author, review=review, title="Renew certificates with cert-manager",
                                  kind="corrective", owner=author, due_date=today + timedelta(days=5), priority="high",
                                  status="done")
    actions.do_create_action_item(team, actor=author, review=review, title="Add certificates to the onboarding checklist",
                                  kind="process", owner=reviewer, due_date=today - timedelta(days=2))
    actions.do_submit_review(review, actor=author)
    for person in (reviewer, manager):
        actions.do_approve_review(review, actor=person)
    actions.do_publish_review(review, actor=author)
    return review
