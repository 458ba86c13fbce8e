from django import template
from django.utils import timezone

from vigil.sla.clocks import describe
from vigil.sla.models import SEVERITIES, SlaPolicy

register = template.Library()

LABELS = {"ack": "Time to acknowledge", "resolve": "Time to resolve"}


@register.inclusion_tag("sla/_clocks.html")
def sla_clocks(incident):
    """The incident's SLA clocks: elapsed against target, for the part of the page htmx refreshes."""
    now = timezone.now()
    clocks = []
    for clock in incident.sla_clocks.all():
        elapsed = clock.elapsed_seconds(now)
        breached = clock.breached or elapsed >= clock.target_seconds
        clocks.append({
            "kind": clock.kind, "label": LABELS[clock.kind], "elapsed": describe(elapsed),
            "target": describe(clock.target_seconds), "business_hours": clock.business_hours_only,
            "value": min(elapsed, clock.target_seconds), "max": clock.target_seconds,
            "state": "breached" if breached else ("stopped" if clock.stopped_at else "running"),
            "escalated": clock.escalated_at is not None,
            "percent": round(clock.escalate_fraction * 100),
        })
    clocks.sort(key=lambda c: c["kind"])
    return {"clocks": clocks}


@register.inclusion_tag("sla/_service_sla.html", takes_context=True)
def service_sla(context, service):
    policy = SlaPolicy.objects.filter(service=service).first()
    rows = []
    if policy:
        for severity in SEVERITIES:
            ack, resolve = policy.target(severity, "ack"), policy.target(severity, "resolve")
            if ack or resolve:
                rows.append({"severity": severity, "ack": describe(ack) if ack else "–",
                             "resolve": describe(resolve) if resolve else "–"})
    return {"service": service, "policy": policy, "rows": rows, "can_edit": context.get("can_edit")}
