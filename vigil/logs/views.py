from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from vigil.accounts.audit import record, snapshot
from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.catalog.models import Service
from vigil.reviews.actions import Invalid

from . import actions
from .forms import ActionItemForm, LinkIncidentForm, RuleForm, SourceForm, StateForm, UploadForm
from .ingest import ingest_lines
from .models import ErrorGroup, LogSource, ServiceLogs
from .ranking import last_deploy, ranked, sparkline

LEVELS = ["FATAL", "ERROR", "WARN", "INFO", "DEBUG"]
SHOWN = 100


@login_required
def group_list(request):
    services = for_user(Service.objects.all(), request.user)
    service = None
    if request.GET.get("service"):
        service = services.filter(slug=request.GET["service"]).first()
    if service is None:
        with_groups = services.filter(error_groups__isnull=False).distinct()
        service = with_groups.first() or services.first()
    state = request.GET.get("state", "open")
    level = request.GET.get("level", "")
    rows, total = [], 0
    if service is not None:
        groups = ErrorGroup.objects.filter(service=service).select_related("incident")
        if state == "open":
            groups = groups.exclude(state__in=[ErrorGroup.State.FIXED, ErrorGroup.State.IGNORED])
        elif state in ErrorGroup.State.values:
            groups = groups.filter(state=state)
        if level in LEVELS:
            groups = groups.filter(level=level)
        total = groups.count()
        logs = ServiceLogs.objects.filter(service=service).first()
        now = timezone.now()
        # Ranking is by score, which moves with time: computed here, over the service's groups
        # (bounded by templates, not lines).
        ordered = ranked(groups, now=now, data_since=logs.data_since if logs else None,
                         deployed_at=last_deploy(service, now))
        for group, points, reasons in ordered[:SHOWN]:
            rows.append({"group": group, "score": points, "reasons": reasons,
                         "sparkline": mark_safe(sparkline(group, now))})  # numbers only, built by us
    return render(request, "logs/list.html", {
        "services": services, "service": service, "rows": rows, "total": total, "state": state, "level": level,
        "states": [("open", "Open (new, acknowledged, regressed)"), *ErrorGroup.State.choices, ("all", "All")],
        "levels": LEVELS, "shown": SHOWN,
    })


def _group(request, pk):
    return get_for_user(ErrorGroup.objects.select_related("service", "incident"), request.user,
                        team_field="service__team", pk=pk)


@login_required
def group_detail(request, pk):
    return _detail(request, _group(request, pk))


def _detail(request, group, item_form=None, status=200):
    logs = ServiceLogs.objects.filter(service=group.service).first()
    now = timezone.now()
    (_, points, reasons), = ranked([group], now=now, data_since=logs.data_since if logs else None,
                                   deployed_at=last_deploy(group.service, now))
    can_change = has_role(request.user, group.service.team_id, Role.RESPONDER)
    return render(request, "logs/detail.html", {
        "group": group, "score": points, "reasons": reasons, "can_change": can_change,
        "sparkline": mark_safe(sparkline(group, now, hours=24 * 7, width=336, height=40)),
        "link_form": LinkIncidentForm(group=group, initial={"incident": group.incident_id}),
        "states": StateForm.base_fields["state"].choices,
        "action_items": group.action_items.select_related("owner"),
        "item_form": item_form or ActionItemForm(group=group, initial={"title": actions.default_title(group)}),
    }, status=status)


@login_required
@require_POST
def group_state(request, pk):
    group = _group(request, pk)
    require_role(request.user, group.service.team_id, Role.RESPONDER)
    form = StateForm(request.POST)
    if form.is_valid():
        actions.set_state(group, form.cleaned_data["state"], actor=request.user)
        messages.success(request, f"Marked as {group.get_state_display().lower()}.")
    else:
        messages.error(request, "Unknown state.")
    return redirect(group)


@login_required
@require_POST
def group_incident(request, pk):
    group = _group(request, pk)
    require_role(request.user, group.service.team_id, Role.RESPONDER)
    form = LinkIncidentForm(request.POST, group=group)
    if form.is_valid():
        actions.link_incident(group, form.cleaned_data["incident"], actor=request.user)
        messages.success(request, "Linked to the incident." if group.incident else "Unlinked from the incident.")
    else:
        messages.error(request, "That incident is not one of this service's.")
    return redirect(group)


@login_required
@require_POST
def group_action_item(request, pk):
    group = _group(request, pk)
    require_role(request.user, group.service.team_id, Role.RESPONDER)
    form = ActionItemForm(request.POST, group=group)
    if form.is_valid():
        try:
            item = actions.turn_into_action_item(group, actor=request.user, **form.cleaned_data)
        except Invalid as e:
            field = e.field.removesuffix("_id")
            form.add_error(field if field in form.fields else None, e.message)
        else:
            messages.success(request, f"Action item “{item.title}” added.")
            return redirect(group)
    return _detail(request, group, item_form=form, status=422)


@login_required
def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        service = form.cleaned_data["service"]
        require_role(request.user, service.team_id, Role.RESPONDER)
        f = form.cleaned_data["file"]
        result = ingest_lines(service, _lines(f), log_format=form.cleaned_data["log_format"])
        text = (f"Imported {result.lines:,} lines of {f.name}: {result.groups} groups, {len(result.new_groups)} new, "
                f"{len(result.regressed)} regressed.")
        target = f"{reverse('log-groups')}?service={service.slug}"
        if request.headers.get("HX-Request") == "true":
            messages.success(request, text)
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        messages.success(request, text)
        return redirect(target)
    status = 422 if request.method == "POST" else 200
    return render(request, "logs/upload.html", {"form": form}, status=status)


def _lines(uploaded):
    """Lines of an uploaded file, gunzipped when it is gzip; read as a stream (Django spools big uploads to disk)."""
    import gzip

    raw = uploaded.open("rb")
    head = raw.read(2)
    raw.seek(0)
    stream = gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw
    return iter(stream.readline, b"")


@login_required
def settings_page(request, slug):
    service = get_for_user(Service.objects.all(), request.user, slug=slug)
    logs, _ = ServiceLogs.objects.get_or_create(service=service)
    can_change = has_role(request.user, service.team_id, Role.ADMIN)
    source_form = SourceForm(prefix="source")
    rule_form = RuleForm(instance=logs, prefix="rule")
    if request.method == "POST":
        require_role(request.user, service.team_id, Role.ADMIN)
        if "source-name" in request.POST:
            source_form = SourceForm(request.POST, prefix="source")
            if source_form.is_valid():
                with transaction.atomic():
                    source = source_form.save(commit=False)
                    source.service = service
                    source.save()
                    record("log_source.create", source, actor=request.user, team=service.team,
                           after=snapshot(source, ["name", "log_format"]))
                messages.success(request, f"Source {source.name} added.")
                return redirect("log-settings", slug=service.slug)
        else:
            rule_form = RuleForm(request.POST, instance=logs, prefix="rule")
            if rule_form.is_valid():
                before = snapshot(logs, ["alert_on_new", "alert_on_burst", "alert_min_level"])
                with transaction.atomic():
                    rule_form.save()
                    record("log_rule.update", logs, actor=request.user, team=service.team, before=before,
                           after=snapshot(logs, ["alert_on_new", "alert_on_burst", "alert_min_level"]))
                messages.success(request, "Alert rule saved.")
                return redirect("log-settings", slug=service.slug)
    return render(request, "logs/settings.html", {
        "service": service, "logs": logs, "sources": LogSource.objects.filter(service=service),
        "source_form": source_form, "rule_form": rule_form, "can_change": can_change,
    })
