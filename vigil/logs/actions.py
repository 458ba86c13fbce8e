"""Changes to error groups, each audited."""

from django.db import transaction
from django.utils import timezone

from vigil.accounts.audit import record, snapshot
from vigil.reviews.actions import do_create_action_item

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


def default_title(group):
    return f"Fix: {group.template}"[:255]


def turn_into_action_item(group, *, actor, **data):
    """A new action item of the group's team (on its incident, if linked), linked back to the group.
    Its rules are the reviews app's; `reviews.actions.Invalid` names a bad field."""
    with transaction.atomic():
        item = do_create_action_item(group.service.team, actor=actor, incident=group.incident, **data)
        group.action_items.add(item)
        record("error_group.action_item", group, actor=actor, team=group.service.team,
               after={"action_item": item.pk})
    return item
