from django import template

from vigil.accounts.models import Role
from vigil.accounts.permissions import has_role

from ..forms import PublicUpdateForm
from ..manage import pages_for_incident
from ..models import PublicIncident

register = template.Library()


@register.inclusion_tag("statuspage/_incident_public.html", takes_context=True)
def incident_public_updates(context, incident):
    """The incident page's "Status pages" section: what customers were told, and a form to tell them more."""
    user = context["request"].user
    pages = pages_for_incident(incident)
    published = list(PublicIncident.objects.filter(incident=incident).select_related("page").prefetch_related("updates"))
    can_post = has_role(user, incident.team_id, Role.RESPONDER) and pages.exists()
    form = None
    if can_post:
        # Preselect the page already in use and the next status in the usual flow.
        current = published[0] if published else None
        next_status = {"investigating": "identified", "identified": "monitoring", "monitoring": "resolved",
                       "resolved": "postmortem"}.get(current.status if current else "", "investigating")
        form = PublicUpdateForm(pages=pages, initial={"page": current.page_id if current else None, "status": next_status})
    return {"incident": incident, "published": published, "form": form, "request": context["request"],
            "csrf_token": context.get("csrf_token"), "has_pages": pages.exists()}


@register.filter
def status_label(value):
    return str(value).replace("_", " ").capitalize()
