from django.db import transaction

from vigil.accounts import audit
from vigil.accounts.actions import unique_slug

from .models import HostingProvider, Service

FIELDS = ["name", "slug", "description", "hosting_provider", "escalation_policy", "monthly_approved_hours", "project_manager"]


def _provider(name):
    """The directory entry of that name (any case), added to the directory when new."""
    if not name:
        return None
    provider = HostingProvider.objects.filter(name__iexact=name.strip()).first()
    return provider or HostingProvider.objects.create(name=name.strip())


@transaction.atomic
def do_create_service(team, *, actor, name, slug=None, description="", hosting_provider=None,
                      escalation_policy_id=None, monthly_approved_hours=0, project_manager_id=None):
    service = Service.objects.create(
        team=team, name=name, slug=slug or unique_slug(Service, name, reserved=Service.RESERVED_SLUGS), description=description,
        hosting_provider=_provider(hosting_provider), escalation_policy_id=escalation_policy_id,
        monthly_approved_hours=monthly_approved_hours, project_manager_id=project_manager_id,
    )
    audit.record("service.create", service, actor=actor, team=team, after=audit.snapshot(service, FIELDS))
    return service


@transaction.atomic
def do_update_service(service, *, actor, **changes):
    before = audit.snapshot(service, FIELDS)
    if "hosting_provider" in changes:
        changes["hosting_provider"] = _provider(changes["hosting_provider"])
    for field, value in changes.items():
        setattr(service, field, value)
    service.save(update_fields=list(changes))
    audit.record("service.update", service, actor=actor, team=service.team, before=before,
                 after=audit.snapshot(service, FIELDS))
    return service


@transaction.atomic
def do_delete_service(service, *, actor):
    """Raises ProtectedError (and changes nothing) when the service has incidents."""
    audit.record("service.delete", service, actor=actor, team=service.team, before=audit.snapshot(service, FIELDS))
    service.delete()
