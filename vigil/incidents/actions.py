"""The write path for incidents: one transaction each, timeline and audit rows inside it,
listeners told inside it too (see signals.py)."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vigil.accounts import audit
from vigil.accounts.models import Team

from .models import (FIX_FIELDS, FIX_REQUIRED, SINGLE_HOLDER_ROLES, FixAction, Incident, IncidentRole, RoleAssignment,
                     TimelineEntry, TransitionNotAllowed, describe_fix)
from .signals import incident_changed

AUDITED = ["title", "description", "severity", "status", "commander", "is_drill",
           "acknowledged_at", "mitigated_at", "resolved_at", "reopened_at", "impact", "impact_started_at"]
EDITABLE = ["title", "description", "severity", "is_drill", "impact", "impact_started_at", "affected_components"]


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
    """Change the editable fields given; one timeline entry lists what changed. No change, no entry.

    `commander` goes through the roles (assigned or handed over, or left when None);
    `affected_services` is a list of services of the incident's team."""
    if "commander" in changes:
        commander = changes.pop("commander")
        if commander is not None:
            do_assign_role(incident, commander, IncidentRole.COMMANDER, actor=actor)
        else:
            current = RoleAssignment.objects.filter(incident=incident, role=IncidentRole.COMMANDER, ended_at=None).first()
            if current is not None:
                do_leave_role(current, actor=actor)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    services = changes.pop("affected_services", None)
    before = audit.snapshot(incident, EDITABLE)
    before["affected_services"] = sorted(incident.affected_services.values_list("name", flat=True))
    for field, value in changes.items():
        if field not in EDITABLE:
            raise ValueError(f"{field} cannot be changed here")
        setattr(incident, field, value)
    after = audit.snapshot(incident, EDITABLE)
    after["affected_services"] = sorted(s.name for s in services) if services is not None else before["affected_services"]
    changed = [f for f in after if before[f] != after[f]]
    if not changed:
        return incident
    if services is not None:
        incident.affected_services.set(services)
    incident.save(update_fields=[f for f in changed if f != "affected_services"])
    incident.add_entry(
        TimelineEntry.Kind.UPDATED, actor=actor,
        body="; ".join(_describe_change(f, before[f], after[f]) for f in changed),
        data={"before": {f: before[f] for f in changed}, "after": {f: after[f] for f in changed}},
    )
    audit.record("incident.update", incident, actor=actor, team=incident.team, before=before, after=after)
    _announce(incident, "update", actor, changed=changed)
    return incident


# Shown as "impact edited" on the timeline, not quoted in full.
LONG_TEXT = {"description", "impact"}


def _describe_change(field, before, after):
    name = field.replace("_", " ")
    if field in LONG_TEXT:
        return f"{name} edited"
    if isinstance(after, list):
        return f"{name}: {', '.join(after) or 'none'}"
    return f"{name}: {before or 'not set'} → {after or 'not set'}"


@transaction.atomic
def do_add_note(incident, *, actor, body):
    entry = incident.add_entry(TimelineEntry.Kind.NOTE, actor=actor, body=body)
    audit.record("timeline.note", entry, actor=actor, team=incident.team, after={"incident": incident.pk, "body": body})
    return entry


@transaction.atomic
def do_assign_role(incident, user, role, *, actor):
    """Give `user` the role. A commander or communications lead held by someone else is handed
    over (their assignment ends, on the timeline as one entry). Idempotent: (assignment, created)."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    active = RoleAssignment.objects.filter(incident=incident, role=role, ended_at=None).select_related("user")
    if active.filter(user=user).exists():
        return active.get(user=user), False
    now = timezone.now()
    previous = None
    if role in SINGLE_HOLDER_ROLES:
        current = active.first()
        if current is not None:
            previous = current.user
            RoleAssignment.objects.filter(pk=current.pk).update(ended_at=now, ended_by=actor if getattr(actor, "pk", None) else None)
    assignment = RoleAssignment.start(incident, user, role, actor=actor, at=now, previous=previous)
    if role == IncidentRole.COMMANDER:
        _set_commander(incident, user)
    audit.record("incident.role.assign", assignment, actor=actor, team=incident.team,
                 after={"incident": incident.pk, "role": role, "user": user.pk, "previous": previous.pk if previous else None})
    _announce(incident, "role", actor, role=role, user_id=user.pk)
    return assignment, True


@transaction.atomic
def do_leave_role(assignment, *, actor):
    """End the assignment: the person leaves the role (or is taken off it). Leaving twice is an error."""
    incident = Incident.objects.select_for_update().get(pk=assignment.incident_id)
    assignment = RoleAssignment.objects.select_related("user").get(pk=assignment.pk)
    if assignment.ended_at is not None:
        raise TransitionNotAllowed(f"{assignment.user} no longer holds that role")
    now = timezone.now()
    assignment.ended_at, assignment.ended_by = now, actor if getattr(actor, "pk", None) else None
    assignment.save(update_fields=["ended_at", "ended_by"])
    label = IncidentRole(assignment.role).label.lower()
    who = f"{assignment.user} left the {label} role" if assignment.user == actor else f"{actor or 'Vigil'} took {assignment.user} off the {label} role"
    incident.add_entry(TimelineEntry.Kind.ROLE, actor=actor, at=now, body=who,
                       data={"change": "left", "role": assignment.role, "user": assignment.user_id})
    if assignment.role == IncidentRole.COMMANDER:
        _set_commander(incident, None)
    audit.record("incident.role.leave", assignment, actor=actor, team=incident.team,
                 after={"incident": incident.pk, "role": assignment.role, "user": assignment.user_id})
    _announce(incident, "role", actor, role=assignment.role, user_id=None)
    return assignment


def _set_commander(incident, user):
    """Incident.commander mirrors the active commander assignment (lists and filters read it)."""
    incident.commander = user
    incident.save(update_fields=["commander"])


@transaction.atomic
def do_log_fix(incident, *, actor, action, outcome, performed_by=None, at=None, corrects=None, **fields):
    """Append a containment or fix entry to the timeline. Entries are never edited: a correction is
    a new entry naming the one it corrects (`corrects`, an earlier fix entry of this incident).
    `at` is when it was done (it may be earlier than now); `performed_by` who did it (default: actor)."""
    missing = [f for f in FIX_REQUIRED[action] if not (fields.get(f) or "").strip()]
    if missing:
        raise ValueError(f"{missing[0]}: required to log {FixAction(action).label.lower()}")
    now = timezone.now()
    performed_by = performed_by or (actor if getattr(actor, "pk", None) else None)
    data = {"action": str(action), "outcome": str(outcome), "logged_at": now.isoformat(),
            "performed_by": performed_by.pk if performed_by else None,
            **{f: fields[f].strip() for f in FIX_FIELDS if (fields.get(f) or "").strip()}}
    body = describe_fix(data)
    if performed_by is not None and performed_by != actor:
        body = f"{performed_by}: {body}"
    if corrects is not None:
        data["corrects"] = corrects.pk
        body = f"Correction of the entry of {corrects.at:%Y-%m-%d %H:%M} UTC: {body}"
    entry = incident.add_entry(TimelineEntry.Kind.FIX, actor=actor, body=body, data=data, at=at or now)
    audit.record("timeline.fix", entry, actor=actor, team=incident.team, after={"incident": incident.pk, **data})
    _announce(incident, "fix", actor)
    return entry
