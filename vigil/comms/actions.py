"""The write path of stakeholder communication: one transaction each, audit row inside it,
messages put in the outbox inside it, the worker woken after commit."""

from django.db import transaction
from django.utils import timezone

from vigil import worker
from vigil.accounts import audit
from vigil.incidents.models import TimelineEntry

from . import reminders
from .models import CommsSettings, Message, Stakeholder, StakeholderUpdate

STAKEHOLDER_FIELDS = ["name", "group", "kind", "address"]


@transaction.atomic
def do_create_stakeholder(service, *, actor, name, address, kind=Stakeholder.Kind.EMAIL, group=Stakeholder.Group.CLIENT):
    stakeholder = Stakeholder.objects.create(service=service, name=name, address=address, kind=kind, group=group)
    audit.record("stakeholder.create", stakeholder, actor=actor, team=service.team,
                 after={"service": service.pk, "name": name, "group": group, "kind": kind})
    return stakeholder


@transaction.atomic
def do_update_stakeholder(stakeholder, *, actor, **changes):
    before = audit.snapshot(stakeholder, ["name", "group", "kind"])
    for field, value in changes.items():
        if field not in STAKEHOLDER_FIELDS:
            raise ValueError(f"{field} cannot be changed here")
        setattr(stakeholder, field, value)
    stakeholder.save(update_fields=list(changes) or None)
    audit.record("stakeholder.update", stakeholder, actor=actor, team=stakeholder.service.team,
                 before=before, after=audit.snapshot(stakeholder, ["name", "group", "kind"]))
    return stakeholder


@transaction.atomic
def do_delete_stakeholder(stakeholder, *, actor):
    audit.record("stakeholder.delete", stakeholder, actor=actor, team=stakeholder.service.team,
                 before={"service": stakeholder.service_id, "name": stakeholder.name})
    stakeholder.delete()


@transaction.atomic
def do_save_comms_settings(service, *, actor, reminder_minutes=None, templates=None):
    """Change the reminder periods and/or the update wording; open incidents' reminders follow at once.
    A template equal to the default (or empty) is not stored, so later default changes reach it."""
    from .models import DEFAULT_TEMPLATES

    comms = CommsSettings.of(service)
    before = {"reminder_minutes": comms.all_minutes(), "templates": comms.all_templates()}
    if reminder_minutes is not None:
        comms.reminder_minutes = {**comms.reminder_minutes, **reminder_minutes}
    if templates is not None:
        merged = {**comms.templates, **templates}
        comms.templates = {s: t for s, t in merged.items() if t.strip() and t.strip() != DEFAULT_TEMPLATES[s]}
    comms.save()
    audit.record("comms_settings.update", comms, actor=actor, team=service.team, before=before,
                 after={"reminder_minutes": comms.all_minutes(), "templates": comms.all_templates()})
    for incident in service.incidents.exclude(status="resolved"):
        reminders.schedule(incident)
    return comms


@transaction.atomic
def do_post_update(incident, *, actor, status, body):
    """Post an update: on the timeline, and one message per stakeholder of the incident's service
    and affected services (an address once) in the outbox. The quiet-period timer starts again."""
    now = timezone.now()
    update = StakeholderUpdate.objects.create(incident=incident, status=status, body=body,
                                              posted_by=actor if getattr(actor, "pk", None) else None, posted_at=now)
    stakeholders = recipients(incident)
    subject = update.subject()
    text = f"{body}\n\n-- \nIncident #{incident.number} on {incident.service.name}, {incident.severity.upper()}. " \
           f"Sent by Vigil for {incident.team.name}{f' by {actor}' if getattr(actor, 'pk', None) else ''}."
    Message.objects.bulk_create([
        Message(incident=incident, update=update, stakeholder=s, recipient=s.name, kind=s.kind, address=s.address,
                subject=subject, text=text, idempotency_key=f"upd{update.pk}:s{s.pk}", due_at=now, created_at=now)
        for s in stakeholders
    ])
    sent_to = ", ".join(s.name for s in stakeholders) or "nobody: the service has no stakeholders yet"
    incident.add_entry(TimelineEntry.Kind.STAKEHOLDER_UPDATE, actor=actor, at=now, body=f"{update.get_status_display()}: {body}",
                       data={"update": update.pk, "status": status, "recipients": [s.pk for s in stakeholders],
                             "sent_to": sent_to})
    audit.record("stakeholder_update.post", update, actor=actor, team=incident.team,
                 after={"incident": incident.pk, "status": status, "recipients": len(stakeholders)})
    reminders.schedule(incident)
    transaction.on_commit(worker.wake)
    return update


def recipients(incident):
    """The stakeholders of the incident's service and of the services it affects, each address once."""
    services = {incident.service_id, *incident.affected_services.values_list("pk", flat=True)}
    seen, out = set(), []
    for stakeholder in Stakeholder.objects.filter(service_id__in=services).order_by("service_id", "group", "name", "id"):
        if (stakeholder.kind, stakeholder.address.lower()) not in seen:
            seen.add((stakeholder.kind, stakeholder.address.lower()))
            out.append(stakeholder)
    return out
