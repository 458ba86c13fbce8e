"""Changes to error groups, each audited."""

from django.db import transaction
from django.utils import timezone

from vigil.accounts.audit import record, snapshot

from .models import ErrorGroup

FIELDS = ["state", "incident"]


def set_state(group, state, *, actor, now=None):
    now = now or timezone.now()
    before = snapshot(group, FIELDS)
    with transaction.atomic():
        group.state, group.state_changed_at = state, now
        if state == ErrorGroup.State.FIXED:
            group.fixed_at = now
        group.save(update_fields=["state", "state_changed_at", "fixed_at"])
        record("error_group.state", group, actor=actor, team=group.service.team, before=before,
               after=snapshot(group, FIELDS))
    return group


def link_incident(group, incident, *, actor):
    before = snapshot(group, FIELDS)
    with transaction.atomic():
        group.incident = incident
        group.save(update_fields=["incident"])
        record("error_group.incident", group, actor=actor, team=group.service.team, before=before,
               after=snapshot(group, FIELDS))
    return group


# HOOK(issue 7): "Turn into an action item". Action items live in vigil/reviews (issue 7), not yet
# on main. When it lands: create ActionItem(incident=group.incident, title=f"Fix: {group.template}",
# kind="corrective", ...) here, audited like the two above, and show the button on the group page
# (templates/logs/detail.html, block `action_item`) and in the API (PATCH error-groups/{id}).
