"""The rules of status pages: what a component shows, public updates, maintenances, subscribers.

Component status, unless set by hand, follows the open (non-drill) incidents of the component's
service, by severity (the worst wins):

    sev1 → major_outage, sev2 → partial_outage, sev3 and sev4 → degraded_performance

and, with no incident open, `under_maintenance` while a maintenance that names the component is
in progress or verifying. Every change of status is a ComponentStatusChange row (the 90-day bars).
"""

from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from vigil.accounts import audit
from vigil.alerts.models import MaintenanceWindow
from vigil.incidents.models import OPEN_STATUSES, Incident
from vigil.incidents.signals import incident_changed
from vigil.worker import wake

from .models import (
    MAINTENANCE_RUNNING,
    UNRESOLVED,
    Component,
    ComponentStatus,
    ComponentStatusChange,
    Impact,
    IncidentStatus,
    MaintenanceStatus,
    PublicIncident,
    PublicUpdate,
    StatusPage,
    Subscriber,
    SubscriberMessage,
    worst,
)

SEVERITY_STATUS = {
    "sev1": ComponentStatus.MAJOR,
    "sev2": ComponentStatus.PARTIAL,
    "sev3": ComponentStatus.DEGRADED,
    "sev4": ComponentStatus.DEGRADED,
}
SEVERITY_IMPACT = {"sev1": Impact.CRITICAL, "sev2": Impact.MAJOR, "sev3": Impact.MINOR, "sev4": Impact.MINOR}

# What a responder starts from when they leave the text empty ({components}: the affected ones).
TEMPLATES = {
    IncidentStatus.INVESTIGATING: "We are investigating reports of problems with {components}. More news soon.",
    IncidentStatus.IDENTIFIED: "We have found the cause of the problems with {components} and are working on a fix.",
    IncidentStatus.MONITORING: "A fix is in place for {components}. We are watching to make sure it holds.",
    IncidentStatus.RESOLVED: "The problems with {components} are resolved. Thank you for your patience.",
    IncidentStatus.POSTMORTEM: "We have published a post-incident review of the problems with {components}.",
    MaintenanceStatus.SCHEDULED: "Maintenance of {components} is scheduled.",
    MaintenanceStatus.IN_PROGRESS: "Scheduled maintenance of {components} is in progress.",
    MaintenanceStatus.VERIFYING: "Maintenance of {components} is done; we are verifying that all is well.",
    MaintenanceStatus.COMPLETED: "Scheduled maintenance of {components} is complete.",
}


class NotAllowed(Exception):
    """The request does not fit the incident's or maintenance's current state (answered as 409)."""


# -- component status ----------------------------------------------------------------------------------

def derived_statuses(components, now=None):
    """{component id: status} by the rule in this module's docstring (overrides applied)."""
    now = now or timezone.now()
    components = [c for c in components if not c.is_group]
    services = {c.service_id for c in components if c.service_id}
    by_service = {}
    for service_id, severity in (Incident.objects.filter(service_id__in=services, status__in=OPEN_STATUSES, is_drill=False)
                                 .values_list("service_id", "severity")):
        by_service.setdefault(service_id, []).append(SEVERITY_STATUS[severity])
    in_maintenance = set(
        PublicIncident.components.through.objects.filter(
            component__in=components, publicincident__scheduled_for__isnull=False,
            publicincident__status__in=MAINTENANCE_RUNNING,
        ).values_list("component_id", flat=True))
    result = {}
    for c in components:
        if c.status_override:
            result[c.pk] = c.status_override
        elif by_service.get(c.service_id):
            result[c.pk] = worst(by_service[c.service_id])
        elif c.pk in in_maintenance:
            result[c.pk] = ComponentStatus.MAINTENANCE
        else:
            result[c.pk] = ComponentStatus.OPERATIONAL
    return result


def refresh_components(components, now=None):
    """Bring the stored status of these components up to date; record and announce each change."""
    now = now or timezone.now()
    components = list(components)
    touched = set()
    for component_id, status in derived_statuses(components, now).items():
        component = next(c for c in components if c.pk == component_id)
        if component.status != status:
            component.status, component.updated_at = status, now
            Component.objects.filter(pk=component.pk).update(status=status, updated_at=now)
            ComponentStatusChange.objects.create(component=component, status=status, at=now)
            touched.add(component.page_id)
    for page in StatusPage.objects.filter(pk__in=touched):
        page.touch()
    return touched


@receiver(incident_changed, dispatch_uid="statuspage-follow-incidents")
def follow_incident(sender, incident, **kwargs):
    """An incident opened, moved or changed severity: its service's components follow, in its transaction."""
    components = Component.objects.filter(service_id=incident.service_id, is_group=False)
    if components.exists():
        refresh_components(components)


def set_override(component, status, *, actor=None):
    """Set a component's status by hand ("" hands it back to the incidents)."""
    with transaction.atomic():
        component.status_override = status
        component.save(update_fields=["status_override"])
        refresh_components([component])
        component.page.touch()


def indicator(components, open_incidents):
    """Statuspage's roll-up: the worst unresolved incident impact, raised to at least `minor` for a
    degraded component or partial outage and to `major` for a major outage. (indicator, description)"""
    order = ["none", "minor", "major", "critical"]
    level = max((order.index(i.impact) for i in open_incidents if i.impact in order), default=0)
    statuses = {c.status for c in components}
    if statuses & {ComponentStatus.DEGRADED, ComponentStatus.PARTIAL}:
        level = max(level, 1)
    if ComponentStatus.MAJOR in statuses:
        level = max(level, 2)
    name = order[level]
    if name == "none" and ComponentStatus.MAINTENANCE in statuses:
        return name, "Service Under Maintenance"
    return name, {"none": "All Systems Operational", "minor": "Minor Service Outage",
                  "major": "Partial System Outage", "critical": "Major Service Outage"}[name]


# -- public incidents ----------------------------------------------------------------------------------

def _components_text(components):
    names = [c.name for c in components]
    if not names:
        return "our services"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def template_text(status, components):
    return TEMPLATES[status].format(components=_components_text(components))


def _affected(public_incident, components):
    previous = public_incident.updates.order_by("-display_at", "-id").first()
    before = {a["code"]: a["new_status"] for a in (previous.affected_components if previous else [])}
    return [{"code": c.code, "name": c.name, "old_status": before.get(c.code, ComponentStatus.OPERATIONAL),
             "new_status": c.status} for c in components]


@transaction.atomic
def post_public_update(incident, *, page, status, body="", actor=None, name=None, deliver=True, now=None):
    """Tell customers on `page` how `incident` stands: opens its public incident on the first call
    (named `name` or the incident's title, on the page's components of the incident's service),
    then adds an update. An empty body takes the status's template text. Returns the PublicUpdate.

    Other apps call this too (a published review posts `postmortem`). Permission checks are the caller's.
    """
    now = now or timezone.now()
    if status not in IncidentStatus.values:
        raise ValueError(f"status must be one of {', '.join(IncidentStatus.values)}")
    public = PublicIncident.objects.select_for_update().filter(page=page, incident=incident).first()
    if public is None:
        if status == IncidentStatus.POSTMORTEM:
            raise NotAllowed("a postmortem follows a published, resolved incident")
        public = PublicIncident.objects.create(
            page=page, incident=incident, name=(name or incident.title)[:255], status=status,
            impact=SEVERITY_IMPACT[incident.severity], created_at=now, updated_at=now, started_at=incident.created_at)
        public.components.set(page.components.filter(service_id=incident.service_id, is_group=False))
    elif status == IncidentStatus.POSTMORTEM and public.status not in (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM):
        raise NotAllowed("resolve the public incident before publishing its postmortem")
    if name:
        public.name = name[:255]
    if status in UNRESOLVED:
        public.impact = SEVERITY_IMPACT[incident.severity]
        public.resolved_at = None
    if status == IncidentStatus.MONITORING and public.monitoring_at is None:
        public.monitoring_at = now
    if status == IncidentStatus.RESOLVED and public.resolved_at is None:
        public.resolved_at = now
    public.status, public.updated_at = status, now
    public.save()
    update = _add_update(public, status, body, actor, deliver, now)
    audit.record("statuspage.public_update", update, actor=actor, team=page.team,
                 after={"page": page.slug, "incident": incident.pk, "status": status, "body": update.body})
    return update


def _add_update(public, status, body, actor, deliver, now):
    components = list(public.components.all())
    update = PublicUpdate.objects.create(
        public_incident=public, status=status, body=body.strip() or template_text(status, components), author=actor,
        affected_components=_affected(public, components), deliver_notifications=deliver, created_at=now, display_at=now)
    public.page.touch()
    if deliver:
        queue_update(update)
    return update


# -- scheduled maintenance -----------------------------------------------------------------------------

@transaction.atomic
def schedule_maintenance(page, *, name, components, scheduled_for, scheduled_until, body="", actor=None, now=None):
    """Plan a maintenance: a public 'scheduled' notice, and an alerts MaintenanceWindow for each
    service behind its components, so their alerts page no one during the window."""
    now = now or timezone.now()
    if scheduled_until <= scheduled_for:
        raise ValueError("the maintenance must end after it starts")
    components = [c for c in components if not c.is_group]
    public = PublicIncident.objects.create(
        page=page, name=name[:255], status=MaintenanceStatus.SCHEDULED, impact=Impact.MAINTENANCE, created_at=now,
        updated_at=now, started_at=scheduled_for, scheduled_for=scheduled_for, scheduled_until=scheduled_until)
    public.components.set(components)
    for service in {c.service for c in components if c.service_id}:
        public.windows.add(MaintenanceWindow.objects.create(
            service=service, starts_at=scheduled_for, ends_at=scheduled_until, created_by=actor,
            reason=f"Status page maintenance: {name}"[:2000]))
    _add_update(public, MaintenanceStatus.SCHEDULED, body, actor, True, now)
    if scheduled_for <= now:
        post_maintenance_update(public, status=MaintenanceStatus.IN_PROGRESS, actor=actor, now=now)
    return public


@transaction.atomic
def post_maintenance_update(maintenance, *, status, body="", actor=None, now=None):
    now = now or timezone.now()
    if status not in MaintenanceStatus.values:
        raise ValueError(f"status must be one of {', '.join(MaintenanceStatus.values)}")
    maintenance = PublicIncident.objects.select_for_update().get(pk=maintenance.pk)
    if maintenance.status == MaintenanceStatus.COMPLETED:
        raise NotAllowed("the maintenance is completed")
    maintenance.status, maintenance.updated_at = status, now
    if status == MaintenanceStatus.COMPLETED:
        maintenance.resolved_at = now
        # Done early: alerts page again from now on.
        for window in maintenance.windows.filter(ends_at__gt=now):
            window.ends_at = max(now, window.starts_at)
            window.save(update_fields=["ends_at"])
    maintenance.save()
    update = _add_update(maintenance, status, body, actor, True, now)
    refresh_components(maintenance.components.all(), now)
    return update


def advance_maintenances(now=None):
    """Start the maintenances whose time has come and complete those whose window is over. True if any moved."""
    now = now or timezone.now()
    to_start = PublicIncident.objects.filter(scheduled_for__isnull=False, status=MaintenanceStatus.SCHEDULED,
                                             scheduled_for__lte=now)
    to_end = PublicIncident.objects.filter(scheduled_for__isnull=False, status__in=MAINTENANCE_RUNNING,
                                           scheduled_until__lte=now)
    if not (to_start.exists() or to_end.exists()):
        return False
    with transaction.atomic():
        due = to_start.select_for_update(skip_locked=True).first()
        if due is not None:
            post_maintenance_update(due, status=MaintenanceStatus.IN_PROGRESS, now=now)
            return True
        over = to_end.select_for_update(skip_locked=True).first()
        if over is not None:
            post_maintenance_update(over, status=MaintenanceStatus.COMPLETED, now=now)
            return True
    return False


# -- subscribers ---------------------------------------------------------------------------------------

CONFIRM_SALT, UNSUBSCRIBE_SALT = "vigil.statuspage.confirm", "vigil.statuspage.unsubscribe"
CONFIRM_MAX_AGE = timedelta(days=7)


def confirm_token(subscriber):
    return signing.dumps(subscriber.pk, salt=CONFIRM_SALT)


def unsubscribe_token(subscriber):
    return signing.dumps(subscriber.pk, salt=UNSUBSCRIBE_SALT)


@transaction.atomic
def subscribe(page, *, kind, address, components=(), confirmed=False, now=None):
    """Add (or refresh) a subscription. Email asks for confirmation first (double opt-in) unless
    `confirmed` (a team member adding it). Returns (subscriber, created)."""
    now = now or timezone.now()
    subscriber, created = Subscriber.objects.get_or_create(page=page, kind=kind, address=address)
    # A stranger typing a confirmed subscriber's address into the public form changes nothing.
    if created or confirmed or kind == Subscriber.Kind.WEBHOOK or subscriber.confirmed_at is None:
        subscriber.components.set([c for c in components if c.page_id == page.pk])
    if confirmed or kind == Subscriber.Kind.WEBHOOK:
        if subscriber.confirmed_at is None:
            subscriber.confirmed_at = now
            subscriber.save(update_fields=["confirmed_at"])
    elif subscriber.confirmed_at is None:
        # At most one confirmation mail every 10 minutes, however often the form is sent.
        recent = subscriber.messages.filter(update=None, created_at__gt=now - timedelta(minutes=10)).exists()
        if not recent:
            SubscriberMessage.objects.create(subscriber=subscriber, idempotency_key=f"confirm-{subscriber.pk}-{now.timestamp()}",
                                             due_at=now, created_at=now)
            transaction.on_commit(wake)
    return subscriber, created


def _from_token(token, salt, max_age=None):
    try:
        pk = signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature:
        return None
    return Subscriber.objects.select_related("page").filter(pk=pk).first()


def confirm(token, now=None):
    subscriber = _from_token(token, CONFIRM_SALT, CONFIRM_MAX_AGE)
    if subscriber is not None and subscriber.confirmed_at is None:
        subscriber.confirmed_at = now or timezone.now()
        subscriber.save(update_fields=["confirmed_at"])
    return subscriber


def unsubscribe(token):
    """Delete the subscription the token names. Returns its page, or None for a bad token or one already used."""
    subscriber = _from_token(token, UNSUBSCRIBE_SALT)
    if subscriber is None:
        return None
    page = subscriber.page
    subscriber.delete()
    return page


def queue_update(update):
    """Put the update in the outbox of every confirmed subscriber of its components (in the update's transaction)."""
    public = update.public_incident
    component_ids = set(public.components.values_list("pk", flat=True))
    subscribers = Subscriber.objects.filter(page_id=public.page_id, confirmed_at__isnull=False).prefetch_related("components")
    rows = [
        SubscriberMessage(subscriber=s, update=update, idempotency_key=f"update-{update.pk}-to-{s.pk}",
                          due_at=update.created_at, created_at=update.created_at)
        for s in subscribers
        if not s.components.all() or component_ids & {c.pk for c in s.components.all()}
    ]
    SubscriberMessage.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        transaction.on_commit(wake)
