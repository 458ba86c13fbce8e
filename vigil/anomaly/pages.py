"""The metrics pages: the series a team pushes and the rules that watch them, each with its chart."""

from datetime import UTC, datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.catalog.models import Service

from . import actions
from .chart import chart
from .forms import RuleForm
from .models import Rule, Series


WHY = [("observed", "Observed"), ("observed_at", "At"), ("baseline", "Usual (median)"),
       ("deviation", "One deviation (1.4826 × MAD)"), ("band", "Usual range"), ("deviations", "Deviations away"),
       ("deviations_needed", "Deviations to fire"), ("baseline_samples", "Baseline samples"), ("threshold", "Threshold"),
       ("away_since", "Away since"), ("window_minutes", "Window (minutes)"), ("evaluated_at", "Evaluated"),
       ("reason", "Why")]


def _shown(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return " to ".join(_shown(v) for v in value)
    if isinstance(value, str):
        try:
            return f"{datetime.fromisoformat(value).astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
        except ValueError:
            return value
    return value


def why_rows(why):
    """The rule's `why` as (label, value) rows, in a reading order, numbers to 4 digits."""
    return [(label, _shown(why[key])) for key, label in WHY if key in why]


def _services(user, team_id):
    return for_user(Service.objects.filter(team_id=team_id), user)


@login_required
def rule_list(request):
    rules = for_user(Rule.objects.select_related("service", "series"), request.user, "service__team")
    series = for_user(Series.objects.select_related("service"), request.user)
    return render(request, "anomaly/list.html", {"rules": rules, "series_list": series})


@login_required
def series_detail(request, pk):
    series = get_for_user(Series.objects.select_related("service", "team"), request.user, pk=pk)
    can_edit = has_role(request.user, series.team_id, Role.RESPONDER)
    services = _services(request.user, series.team_id)
    form = RuleForm(request.POST or None, services=services,
                    initial={"service": series.service_id, "name": f"{series.name} unusual"})
    if request.method == "POST":
        require_role(request.user, series.team_id, Role.RESPONDER)
        if form.is_valid():
            rule = actions.do_create_rule(form.cleaned_data["service"], actor=request.user, series=series,
                                          kind=form.cleaned_data["kind"], **form.rule_fields())
            messages.success(request, "Rule added; it is evaluated every minute.")
            return redirect(rule)
    ctx = {"series": series, "chart": chart(series, timezone.now()), "form": form, "can_edit": can_edit,
           "rules": series.rules.select_related("service")}
    return render(request, "anomaly/series.html", ctx)


def _rule(request, pk, role=Role.VIEWER):
    rule = get_for_user(Rule.objects.select_related("service__team", "series"), request.user, "service__team", pk=pk)
    require_role(request.user, rule.service.team_id, role)
    return rule


@login_required
def rule_detail(request, pk):
    rule = _rule(request, pk)
    can_edit = has_role(request.user, rule.service.team_id, Role.RESPONDER)
    form = RuleForm.for_rule(rule, request.POST if request.method == "POST" else None,
                             services=_services(request.user, rule.service.team_id))
    if request.method == "POST":
        require_role(request.user, rule.service.team_id, Role.RESPONDER)
        if form.is_valid():
            actions.do_update_rule(rule, actor=request.user, **form.rule_fields())
            messages.success(request, "Rule saved; it is evaluated again now.")
            return redirect(rule)
    try:
        hours = min(24 * 14, max(1, int(request.GET.get("hours", 24))))
    except ValueError:
        hours = 24
    ctx = {"rule": rule, "series": rule.series, "chart": chart(rule.series, timezone.now(), hours, rule),
           "form": form, "can_edit": can_edit, "hours": hours, "why": why_rows(rule.why)}
    return render(request, "anomaly/rule.html", ctx)


@login_required
@require_POST
def rule_delete(request, pk):
    rule = _rule(request, pk, Role.RESPONDER)
    series = rule.series
    actions.do_delete_rule(rule, actor=request.user)
    messages.success(request, f"Rule “{rule.name}” deleted.")
    return redirect(series)
