from django import forms

from vigil.accounts.models import Role
from vigil.accounts.permissions import for_user
from vigil.catalog.models import Service

from .models import Severity, Status

OPEN = "open"


class FilterForm(forms.Form):
    """The filters above the incident list. Invalid values are ignored, not reported."""

    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), (OPEN, "Open (not resolved)"), *Status.choices]
    )
    service = forms.ModelChoiceField(queryset=Service.objects.none(), required=False, empty_label="Any service")
    severity = forms.ChoiceField(required=False, choices=[("", "Any severity"), *Severity.choices])

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = for_user(Service.objects.all(), user)


def services_where_responder(user):
    services = Service.objects.select_related("team").order_by("team__name", "name")
    if user.is_superuser:
        return services
    teams = user.memberships.filter(role__in=[Role.ADMIN, Role.RESPONDER]).values("team_id")
    return services.filter(team_id__in=teams)


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, service):
        return f"{service.name} ({service.team.name})"


class IncidentForm(forms.Form):
    service = ServiceChoiceField(queryset=Service.objects.none(), empty_label=None)
    title = forms.CharField(max_length=255, help_text="What users see going wrong, e.g. “Checkout returns 502”.")
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.SEV3)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))
    is_drill = forms.BooleanField(required=False, label="This is a drill")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services_where_responder(user)


class NoteForm(forms.Form):
    body = forms.CharField(label="Note", max_length=20000, widget=forms.Textarea(attrs={"rows": 3}))


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices)
