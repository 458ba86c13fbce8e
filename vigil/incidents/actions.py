"""The write path for incidents: one transaction each, timeline and audit rows inside it,
listeners told inside it too (see signals.py)."""

from django.db import transaction
from django.db.models import F

from vigil.accounts import audit
from vigil.accounts.models import Team

from .models import Incident, TimelineEntry, TransitionNotAllowed
from .signals import incident_changed

AUDITED = ["title", "description", "severity", "status", "commander", "is_drill",
           "acknowledged_at", "mitigated_at", "resolved_at", "reopened_at"]
EDITABLE = ["title", "description", "severity", "commander", "is_drill"]


def _announce(incident, action, actor, **extra):
    incident_changed.send(Incident, incident=incident, action=action, actor=actor, **extra)


@transaction.atomic
def do_create_incident(service, *, actor, title, severity, description="", is_drill=False, group_key=""):
    # The UPDATE takes the team row's lock, so concurrent incidents get distinct numbers.
    Team.objects.filter(pk=service.team_id).update(last_incident_number=F("last_incident_number") + 1)
    number = Team.objects.values_list("last_incident_number", flat=True).get(pk=service.team_id)
    incident = Incident.objects.create(
        team_id=service.team_id, service=service, number=number, title=title, severity=severity,
        description=description, is_drill=is_drill, group_key=group_key, created_by=actor if getattr(actor, "pk", None) else None,
    )
    incident.add_entry(
        TimelineEntry.Kind.CREATED, actor=actor, at=incident.created_at,
        body=f"Incident opened on {service.name}", data={"severity": severity, "is_drill": is_drill},
    )
    audit.record("incident.create", incident, actor=actor, team=service.team, after=audit.snapshot(incident, AUDITED))
    _announce(incident, "create", actor)
    return incident


def _do_transition(incident, action, actor, reason):
    with transaction.atomic():
        before = audit.snapshot(incident, AUDITED)
        getattr(incident, action)(actor=actor, reason=reason)
        audit.record(f"incident.{action}", incident, actor=actor, team=incident.team,
                     before=before, after=audit.snapshot(incident, AUDITED))
        _announce(incident, action, actor)
    return incident


def do_acknowledge_incident(incident, *, actor, reason=""):
    return _do_transition(incident, "acknowledge", actor, reason)


def do_mitigate_incident(incident, *, actor, reason=""):
    return _do_transition(incident, "mitigate", actor, reason)


def do_resolve_incident(incident, *, actor, reason=""):
    return _do_transition(incident, "resolve", actor, reason)


def do_reopen_incident(incident, *, actor, reason=""):
    return _do_transition(incident, "reopen", actor, reason)


@transaction.atomic
def do_escalate_incident(incident, *, actor, reason="", users=(), team=None):
    """Ask for help now: the next level of the escalation policy, or these users, or this team.
    Records the request; the paging engine, listening, pages them."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if not incident.is_open:
        raise TransitionNotAllowed("cannot escalate an incident that is resolved")
    asked = [str(u) for u in users] + ([f"team {team}"] if team else [])
    incident.add_entry(TimelineEntry.Kind.ESCALATED, actor=actor, body=reason,
                       data={"asked": asked} if asked else {})
    audit.record("incident.escalate", incident, actor=actor, team=incident.team,
                 after={"reason": reason, "users": [u.pk for u in users], "team": team.pk if team else None})
    _announce(incident, "escalate", actor, user_ids=[u.pk for u in users], team_id=team.pk if team else None)
    return incident


@transaction.atomic
def do_update_incident(incident, *, actor, **changes):
    """Change the editable fields given; one timeline entry lists what changed. No change, no entry."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    before = audit.snapshot(incident, EDITABLE)
    for field, value in changes.items():
        if field not in EDITABLE:
            raise ValueError(f"{field} cannot be changed here")
        setattr(incident, field, value)
    after = audit.snapshot(incident, EDITABLE)
    changed = [f for f in EDITABLE if before[f] != after[f]]
    if not changed:
        return incident
    incident.save(update_fields=changed)
    incident.add_entry(
        TimelineEntry.Kind.UPDATED, actor=actor,
        body="; ".join(f"{f.replace('_', ' ')}: {before[f]} → {after[f]}" for f in changed if f != "description")
        or "description edited",
        data={"before": {f: before[f] for f in changed}, "after": {f: after[f] for f in changed}},
    )
    audit.record("incident.update", incident, actor=actor, team=incident.team, before=before, after=after)
    _announce(incident, "update", actor)
    return incident


@transaction.atomic
def do_add_note(incident, *, actor, body):
    entry = incident.add_entry(TimelineEntry.Kind.NOTE, actor=actor, body=body)
    audit.record("timeline.note", entry, actor=actor, team=incident.team, after={"incident": incident.pk, "body": body})
    return entry
