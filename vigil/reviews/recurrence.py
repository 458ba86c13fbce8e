"""Recurrence: "this happened before". When an incident opens, the earlier incidents of its service
with the same alert group are found, and their reviews named on its timeline; its page lists them,
and, once its own review names a root cause category, the service's other reviews with that category."""

from django.dispatch import receiver

from vigil.accounts.models import Role
from vigil.accounts.permissions import has_role
from vigil.incidents.models import Incident, TimelineEntry
from vigil.incidents.signals import incident_changed

from .forms import ActionItemForm
from .models import ActionItem, Review

LIMIT = 10


def same_group(incident):
    if not incident.group_key:
        return Incident.objects.none()
    return (Incident.objects.filter(service_id=incident.service_id, group_key=incident.group_key)
            .exclude(pk=incident.pk).filter(created_at__lte=incident.created_at).order_by("-created_at"))


@receiver(incident_changed)
def on_incident_changed(sender, incident, action, actor=None, **extra):
    if action != "create":
        return
    if not incident.group_key:
        return
    # Every incident opening asks this, mostly to hear "no": one plain query, no model instances.
    reviews = list(Review.objects.filter(incident__service_id=incident.service_id, incident__group_key=incident.group_key,
                                         incident__created_at__lte=incident.created_at)
                   .exclude(incident_id=incident.pk).order_by("-created_at")
                   .values_list("pk", "incident__number", "title")[:LIMIT])
    if reviews:
        incident.add_entry(
            TimelineEntry.Kind.NOTE, actor=None,
            body="This happened before: " + "; ".join(f"review #{pk} of incident #{number} ({title})"
                                                       for pk, number, title in reviews) + ".",
            data={"recurrence": [pk for pk, _, _ in reviews]},
        )


def incident_context(incident, user):
    can_review = has_role(user, incident.team_id, Role.RESPONDER)
    reviews = list(incident.reviews.order_by("-created_at"))
    earlier = list(same_group(incident).prefetch_related("reviews")[:LIMIT])
    categories = {r.root_cause_category for r in reviews if r.root_cause_category}
    same_cause = list(Review.objects.filter(incident__service_id=incident.service_id, root_cause_category__in=categories)
                      .exclude(incident=incident).select_related("incident").order_by("-created_at")[:LIMIT])
    return {
        "incident": incident,
        "reviews": reviews,
        "action_items": list(ActionItem.objects.filter(incident=incident).select_related("owner")),
        "earlier": earlier,
        "same_cause": same_cause,
        "can_review": can_review,
        "item_form": ActionItemForm(team=incident.team, prefix="item") if can_review else None,
    }
