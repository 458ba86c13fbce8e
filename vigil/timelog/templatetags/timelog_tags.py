from django import template
from django.db.models import Sum

from vigil.accounts.models import Role
from vigil.accounts.permissions import has_role
from vigil.timelog.forms import OverrunAnswerForm, TimeEntryForm, TimerForm
from vigil.timelog.models import Kind, hours

register = template.Library()


@register.inclusion_tag("timelog/_incident_time.html", takes_context=True)
def incident_time(context, incident):
    """The incident page's Time section: totals, the entries, my timer, open overrun questions."""
    request = context["request"]
    user = request.user
    entries = list(incident.time_entries.select_related("user")[:50])
    totals = dict(incident.time_entries.filter(running=False).values_list("kind").annotate(m=Sum("minutes")))
    overruns = list(incident.time_overruns.all())
    for overrun in overruns:
        overrun.form = OverrunAnswerForm(auto_id=f"id_overrun{overrun.pk}_%s") if not overrun.answered else None
    return {
        "request": request, "incident": incident, "csrf_token": context.get("csrf_token"),
        "can_respond": has_role(user, incident.team_id, Role.RESPONDER),
        "entries": entries,
        "totals": [(label, hours(totals.get(kind, 0))) for kind, label in Kind.choices],
        "total": hours(sum(totals.values())),
        "my_timer": next((e for e in entries if e.running and e.user_id == user.pk), None),
        "entry_form": TimeEntryForm(auto_id="id_time_%s"), "timer_form": TimerForm(auto_id="id_timer_%s"),
        "overruns": overruns,
    }


@register.filter
def as_hours(minutes):
    return hours(minutes or 0)
