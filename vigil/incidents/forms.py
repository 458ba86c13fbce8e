from django import forms
from django.db.models import Q
from django.utils import timezone

from vigil.accounts.models import Role, User
from vigil.accounts.permissions import for_user, has_role
from vigil.catalog.models import Service

from .models import FIX_REQUIRED, FixAction, FixOutcome, IncidentRole, Severity, Status

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


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=IncidentRole.choices)
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Person", empty_label=None)

    def __init__(self, *args, incident, user, **kwargs):
        super().__init__(*args, **kwargs)
        people = Q(memberships__team_id=incident.team_id, memberships__role__in=[Role.ADMIN, Role.RESPONDER])
        if has_role(user, incident.team_id, Role.RESPONDER):
            people |= Q(pk=user.pk)  # a site admin is a responder everywhere without being a member
        self.fields["user"].queryset = User.objects.filter(people, is_active=True).distinct().order_by("name", "email")


class FixForm(forms.Form):
    """One quick action (`action` fixed by the button), its fields named as in the API."""

    target = forms.CharField(required=False, max_length=500, label="Component or service")
    change = forms.CharField(required=False, max_length=500, label="Change rolled back",
                             help_text="The deploy, commit or pull request.")
    from_ = forms.CharField(required=False, max_length=500, label="From")
    to = forms.CharField(required=False, max_length=500, label="To")
    summary = forms.CharField(required=False, max_length=2000, label="What was done")
    command = forms.CharField(required=False, max_length=5000, label="Command")
    link = forms.URLField(required=False, max_length=2000, label="Link", assume_scheme="https",
                          help_text="Pull request, pipeline run or runbook.")
    outcome = forms.ChoiceField(choices=FixOutcome.choices)
    note = forms.CharField(required=False, max_length=5000, label="Outcome note")

    # Which fields each action shows, and the labels of from/to for it.
    SHOWN = {
        FixAction.ISOLATE: ["target", "summary"],
        FixAction.REDIRECT_TRAFFIC: ["target", "from_", "to"],
        FixAction.ROLLBACK: ["change", "target", "from_", "to"],
        FixAction.RESTART: ["target"],
        FixAction.PATCH: ["summary", "target"],
        FixAction.WORKAROUND: ["summary", "target"],
    }
    FROM_TO = {FixAction.ROLLBACK: ("From version", "To version"),
               FixAction.REDIRECT_TRAFFIC: ("Traffic went to", "Traffic goes now to")}

    def __init__(self, *args, action, **kwargs):
        super().__init__(*args, prefix=action, **kwargs)
        self.action = action
        self.label = FixAction(action).label
        shown = self.SHOWN[action] + ["command", "link", "outcome", "note"]
        for name in list(self.fields):
            if name not in shown:
                del self.fields[name]
        self.order_fields(shown)
        if action in self.FROM_TO:
            self.fields["from_"].label, self.fields["to"].label = self.FROM_TO[action]
        for name in FIX_REQUIRED[action]:
            self.fields["from_" if name == "from" else name].required = True

    def fix_fields(self):
        """cleaned_data with the API's names (`from`), for do_log_fix."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "outcome"}
        if "from_" in data:
            data["from"] = data.pop("from_")
        return data


class ImpactForm(forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices)
    impact = forms.CharField(required=False, max_length=20000, label="Customer impact",
                             widget=forms.Textarea(attrs={"rows": 3}), help_text="What customers notice, in their words.")
    impact_started_at = forms.DateTimeField(
        required=False, label="Impact started", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In your time zone. It may be before the first alert.")
    affected_services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.none(), required=False, widget=forms.CheckboxSelectMultiple)
    affected_components = forms.CharField(required=False, max_length=5000, label="Affected components",
                                          help_text="Separated by commas, e.g. checkout API, payments worker.")

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["affected_services"].queryset = Service.objects.filter(team_id=incident.team_id).order_by("name")

    def clean_impact_started_at(self):
        started = self.cleaned_data["impact_started_at"]
        if started is not None and started > timezone.now():
            raise forms.ValidationError("Impact cannot start in the future.")
        return started

    def clean_affected_components(self):
        names = [n.strip()[:200] for n in self.cleaned_data["affected_components"].split(",")]
        return list(dict.fromkeys(n for n in names if n))

