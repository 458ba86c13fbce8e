from django.core import signing
from django.shortcuts import render
from django.views.decorators.http import require_GET

from vigil.accounts.models import Role, User
from vigil.accounts.permissions import has_role
from vigil.incidents import actions
from vigil.incidents.models import Incident, TransitionNotAllowed

from . import links


@require_GET
def action_link(request, token):
    """A notification's one-click link: acknowledge, resolve or ask for help (page the next level
    now), as the person it was sent to."""
    try:
        incident_id, action, user_id = links.read(token)
    except signing.SignatureExpired:
        return render(request, "paging/action_link.html", {"error": "This link has expired (links last a day)."}, status=410)
    except signing.BadSignature:
        return render(request, "paging/action_link.html", {"error": "This link is not valid."}, status=400)
    incident = Incident.objects.select_related("service").filter(pk=incident_id).first()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if incident is None or user is None or not has_role(user, incident.team_id, Role.RESPONDER):
        return render(request, "paging/action_link.html", {"error": "This link is no longer valid."}, status=403)
    done = {"acknowledge": actions.do_acknowledge_incident, "resolve": actions.do_resolve_incident,
            "escalate": actions.do_escalate_incident}[action]
    try:
        incident = done(incident, actor=user, reason="from the link in a notification")
    except TransitionNotAllowed:
        incident.refresh_from_db()
        return render(request, "paging/action_link.html", {"incident": incident, "action": action, "already": True})
    return render(request, "paging/action_link.html", {"incident": incident, "action": action})
