from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user, get_for_user, has_role, require_role
from vigil.catalog.models import Service

from . import actions
from .forms import SlaForm
from .models import SlaPolicy


@login_required
def service_sla(request, slug):
    service = get_for_user(for_user(Service.objects.select_related("team"), request.user), request.user, slug=slug)
    can_edit = has_role(request.user, service.team_id, Role.ADMIN)
    policy = SlaPolicy.objects.filter(service=service).first() or SlaPolicy(service=service)
    form = SlaForm(request.POST or None, initial=SlaForm.initial_from(policy))
    if request.method == "POST":
        require_role(request.user, service.team_id, Role.ADMIN)
        if form.is_valid():
            actions.do_set_sla_policy(service, actor=request.user, **form.policy_values())
            messages.success(request, "SLA saved. New incidents get these targets; a severity change applies them too.")
            return redirect("service-detail", service.slug)
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "sla/service_sla.html", {"service": service, "form": form, "can_edit": can_edit})
