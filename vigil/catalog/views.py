from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect, render

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, has_role, is_any_team_admin, require_role

from . import actions
from .forms import EditServiceForm, NewServiceForm
from .models import Service

# catalog sits above incidents in the layering, so it reads incident state by value, without importing it.
RESOLVED = "resolved"


def _services(user):
    return for_user(Service.objects.select_related("team", "hosting_provider"), user)


@login_required
def service_list(request):
    services = _services(request.user).annotate(
        open_incidents=Count("incidents", filter=~Q(incidents__status=RESOLVED))
    ).order_by("team__name", "name")
    ctx = {"services": services, "can_create": is_any_team_admin(request.user)}
    return render(request, "catalog/list.html", ctx)


@login_required
def service_detail(request, slug):
    service = get_for_user(_services(request.user), request.user, slug=slug)
    incidents = service.incidents.select_related("commander")
    ctx = {
        "service": service,
        "open_incidents": incidents.exclude(status=RESOLVED)[:50],
        "recent_incidents": incidents.filter(status=RESOLVED).order_by("-resolved_at")[:10],
        "can_edit": has_role(request.user, service.team_id, Role.ADMIN),
        "can_open": has_role(request.user, service.team_id, Role.RESPONDER),
    }
    return render(request, "catalog/detail.html", ctx)


@login_required
def service_new(request):
    if not is_any_team_admin(request.user):
        raise PermissionDenied("only team admins can add services")
    form = NewServiceForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        team = data.pop("team")
        require_role(request.user, team.pk, Role.ADMIN)
        data["slug"] = data["slug"] or None
        service = actions.do_create_service(team, actor=request.user, **data)
        messages.success(request, f"Service {service.name} added.")
        return redirect("service-detail", service.slug)
    return render(request, "catalog/form.html", {"form": form})


@login_required
def service_edit(request, slug):
    service = get_for_user(_services(request.user), request.user, slug=slug)
    require_role(request.user, service.team_id, Role.ADMIN)
    initial = {
        "name": service.name, "slug": service.slug, "description": service.description,
        "hosting_provider": service.hosting_provider.name if service.hosting_provider else "",
        "monthly_approved_hours": service.monthly_approved_hours,
        "escalation_policy": service.escalation_policy_id,
        "project_manager": service.project_manager_id,
    }
    form = EditServiceForm(request.POST or None, initial=initial, service=service)
    if request.method == "POST" and form.is_valid():
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        if changes:
            actions.do_update_service(service, actor=request.user, **changes)
            messages.success(request, "Service saved.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("service-detail", service.slug)
    return render(request, "catalog/form.html", {"form": form, "service": service})
