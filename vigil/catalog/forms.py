from django import forms
from django.core.validators import RegexValidator

from vigil.accounts.models import Role, Team, User
from vigil.oncall.models import EscalationPolicy

from .models import HostingProvider, Service

slug_validator = RegexValidator(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "Use lowercase letters, digits and single hyphens.")


class ServiceForm(forms.Form):
    name = forms.CharField(max_length=100)
    slug = forms.CharField(
        max_length=100, required=False, validators=[slug_validator],
        help_text="Used in links. Left empty, it is made from the name.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    hosting_provider = forms.CharField(
        max_length=100, required=False, widget=forms.TextInput(attrs={"list": "providers"}),
        help_text="Where it runs. A new name is added to the provider directory.",
    )
    monthly_approved_hours = forms.DecimalField(
        max_digits=7, decimal_places=2, min_value=0, initial=0,
        help_text="Corrective hours the client has pre-approved each month.",
    )

    def __init__(self, *args, service=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.service = service
        self.providers = HostingProvider.objects.values_list("name", flat=True)

    def team_id(self):
        return self.service.team_id

    def _others(self):
        services = Service.objects.all()
        return services.exclude(pk=self.service.pk) if self.service else services

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if slug in Service.RESERVED_SLUGS:
            raise forms.ValidationError("This slug is reserved; choose another.")
        if slug and self._others().filter(slug=slug).exists():
            raise forms.ValidationError("A service with this slug exists.")
        return slug

    def clean(self):
        data = super().clean()
        team_id = self.team_id()
        if team_id and data.get("name") and self._others().filter(team_id=team_id, name__iexact=data["name"]).exists():
            self.add_error("name", "The team has a service with this name.")
        return data


class NewServiceForm(ServiceForm):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    field_order = ["team", "name", "slug", "description", "hosting_provider", "monthly_approved_hours"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.all()
        if not user.is_superuser:
            teams = teams.filter(memberships__user=user, memberships__role=Role.ADMIN)
        self.fields["team"].queryset = teams

    def team_id(self):
        team = self.cleaned_data.get("team")
        return team.pk if team else None


class EditServiceForm(ServiceForm):
    escalation_policy = forms.ModelChoiceField(
        queryset=EscalationPolicy.objects.none(), required=False, empty_label="None",
        help_text="Who is paged when an incident opens on this service.",
    )
    project_manager = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="None",
        help_text="Told by email when corrective time passes the per-incident allowance or the month's approved hours.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = True
        self.fields["escalation_policy"].queryset = EscalationPolicy.objects.filter(team_id=self.service.team_id)
        self.fields["project_manager"].queryset = User.objects.filter(
            memberships__team_id=self.service.team_id, is_active=True).order_by("name", "email")
