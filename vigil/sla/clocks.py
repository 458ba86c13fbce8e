"""The SLA clocks of incidents: started when an incident opens, stopped by acknowledging
(the ack clock) and resolving (both), recomputed when the severity changes, run again when the
incident is reopened. The incidents' actions tell us of every change through `incident_changed`,
inside their transaction, so a change and its clocks commit together. The worker (jobs.py) claims
the clocks whose escalation or breach is due.
"""

from django.dispatch import receiver
from django.utils import timezone

from vigil.incidents.models import Status
from vigil.incidents.signals import incident_changed

from .models import SlaClock, SlaPolicy

KINDS = [SlaClock.Kind.ACK, SlaClock.Kind.RESOLVE]
BREACH = "sla_breached"


@receiver(incident_changed)
def on_incident_changed(sender, incident, action, **extra):
    if action == "create":
        start(incident, incident.created_at)
    elif action == "reopen":
        start(incident, incident.reopened_at)
    elif action in ("acknowledge", "mitigate"):
        stop(incident, [SlaClock.Kind.ACK])
    elif action == "resolve":
        stop(incident, KINDS)
    elif action == "update":
        recompute(incident)


def _copy_policy(clock, policy):
    clock.escalate_fraction = policy.escalate_fraction
    clock.business_hours_only = policy.business_hours_only
    clock.time_zone, clock.weekdays = policy.time_zone, policy.weekdays
    clock.day_start, clock.day_end = policy.day_start, policy.day_end
    clock.holidays_of, clock.closed_days = policy.holidays_of, policy.closed_days


def start(incident, at):
    """Start (or, on reopening, restart from `at`) the clocks the service's policy sets for the
    incident's severity. Without a policy, or a target for that severity, there is no clock."""
    policy = SlaPolicy.objects.filter(service_id=incident.service_id).first()
    SlaClock.objects.filter(incident=incident).delete()
    if policy is None:
        return
    for kind in KINDS:
        target = policy.target(incident.severity, kind)
        if target is None:
            continue
        clock = SlaClock(incident=incident, kind=kind, severity=incident.severity, target_seconds=target, started_at=at)
        _copy_policy(clock, policy)
        clock.schedule()
        clock.save()


def stop(incident, kinds, now=None):
    """Stop these clocks at the incident's time for it; a target already passed is a breach,
    recorded now if the worker had not come to it yet. Idempotent."""
    now = now or timezone.now()
    for clock in SlaClock.objects.select_for_update().filter(incident=incident, kind__in=kinds, stopped_at=None):
        clock.stopped_at = stop_time(incident, clock.kind) or now
        if clock.breached_at is None and clock.stopped_at >= clock.breach_at:
            record_breach(clock, incident, clock.breach_at)
        clock.set_next_due()
        clock.save(update_fields=["stopped_at", "breached_at", "next_due_at"])


def stop_time(incident, kind):
    """When the incident stopped this clock, or None while it runs. Mitigating or resolving
    without acknowledging also answers the page, so it stops the ack clock too."""
    if kind == SlaClock.Kind.ACK:
        return incident.acknowledged_at or incident.mitigated_at or incident.resolved_at
    return incident.resolved_at


def recompute(incident, now=None):
    """The severity changed: the targets become the policy's for the new severity. An escalation
    or breach that the new target puts back in the future is undone (and done again if reached)."""
    now = now or timezone.now()
    # The update's own timeline entry, written just before in this transaction, says what changed:
    # editing the title of an incident opened before the service had an SLA must not start clocks.
    update = incident.timeline.filter(kind="updated").order_by("-id").first()
    if update is None or "severity" not in update.data.get("after", {}):
        return
    clocks = {c.kind: c for c in SlaClock.objects.select_for_update().filter(incident=incident)}
    policy = SlaPolicy.objects.filter(service_id=incident.service_id).first()
    if policy is None:
        return
    changed = []
    for kind in KINDS:
        clock, target = clocks.get(kind), policy.target(incident.severity, kind)
        if target is None:
            if clock is not None:
                clock.delete()
                changed.append(f"no {kind} target")
            continue
        if clock is None:
            clock = SlaClock(incident=incident, kind=kind, started_at=incident.reopened_at or incident.created_at,
                             stopped_at=stop_time(incident, kind))
            _copy_policy(clock, policy)
        elif clock.severity == incident.severity:
            continue
        clock.severity, clock.target_seconds = incident.severity, target
        clock.schedule()
        end = min(clock.stopped_at or now, now)
        if clock.escalated_at and clock.escalate_at and clock.escalate_at > end:
            clock.escalated_at = None
        if clock.breached_at and clock.breach_at > end:
            clock.breached_at = None
        elif clock.breached_at is None and clock.stopped_at is not None and clock.breach_at <= clock.stopped_at:
            record_breach(clock, incident, now)
        clock.set_next_due()
        clock.save()
        changed.append(f"{kind} {describe(target)}")
    if changed:
        incident.add_entry("sla", actor=None, at=now,
                           body=f"SLA targets for {incident.severity.upper()}: {', '.join(changed)}.")


def record_breach(clock, incident, at):
    clock.breached_at = at
    incident.add_entry(BREACH, actor=None, at=at,
                       body=f"{clock.label} SLA breached: the target was {describe(clock.target_seconds)}"
                            f"{' of business hours' if clock.business_hours_only else ''}.",
                       data={"clock": clock.kind, "target_seconds": clock.target_seconds})


def describe(seconds):
    """900 -> "15 min", 14400 -> "4 h", 5400 -> "1 h 30 min"."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return f"{minutes} min"
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


def summary(incident, now=None):
    """The incident's clocks as the API gives them, or None when its service has no SLA."""
    now = now or timezone.now()
    clocks = {c.kind: c for c in incident.sla_clocks.all()}
    if not clocks:
        return None
    out = {}
    for kind in KINDS:
        clock = clocks.get(kind)
        elapsed = clock.elapsed_seconds(now) if clock else None
        out[f"{kind}_target_seconds"] = clock.target_seconds if clock else None
        out[f"{kind}_elapsed_seconds"] = elapsed
        # Past the target counts as breached even in the moment before the worker records it.
        out[f"{kind}_breached"] = bool(clock and (clock.breached_at or elapsed >= clock.target_seconds))
    return out


def fire(clock, now):
    """Do what is due on one clock (the caller holds its row lock and the incident's):
    ask for help at the escalation fraction, record the breach at the target."""
    from vigil.incidents.actions import do_escalate_incident

    incident = clock.incident
    if clock.stopped_at is not None or incident.status == Status.RESOLVED:
        clock.next_due_at = None
        clock.save(update_fields=["next_due_at"])
        return
    if clock.escalate_at and clock.escalated_at is None and clock.escalate_at <= now:
        clock.escalated_at = now
        percent = round(clock.escalate_fraction * 100)
        do_escalate_incident(incident, actor=None, reason=f"{percent}% of the {clock.label} SLA used")
    if clock.breached_at is None and clock.breach_at <= now:
        record_breach(clock, incident, now)
    clock.set_next_due()
    clock.save(update_fields=["escalated_at", "breached_at", "next_due_at"])
