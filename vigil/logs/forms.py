from django import forms

from logtriage import UserFormat
from vigil.accounts.permissions import for_user
from vigil.catalog.models import Service
from vigil.incidents.models import Incident
from vigil.reviews.forms import team_people
from vigil.reviews.models import ActionItem

from .models import ErrorGroup, LogSource, ServiceLogs


class UploadForm(forms.Form):
    service = forms.ModelChoiceField(queryset=Service.objects.none())
    file = forms.FileField(help_text="A log file; .gz is read as gzip.")
    log_format = forms.CharField(required=False, max_length=300, label="Header format (optional)",
                                 help_text="Only when Vigil does not know the header, e.g. <Date> <Time> <Level> <Component>: <Content>")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = for_user(Service.objects.all(), user)

    def clean_log_format(self):
        value = self.cleaned_data["log_format"].strip()
        if value:
            try:
                UserFormat(value)
            except ValueError as exc:
                raise forms.ValidationError(str(exc))
        return value


class SourceForm(forms.ModelForm):
    class Meta:
        model = LogSource
        fields = ["name", "log_format"]

    def clean_log_format(self):
        value = self.cleaned_data["log_format"].strip()
        if value:
            try:
                UserFormat(value)
            except ValueError as exc:
                raise forms.ValidationError(str(exc))
        return value


class RuleForm(forms.ModelForm):
    class Meta:
        model = ServiceLogs
        fields = ["alert_on_new", "alert_on_burst", "alert_min_level"]


class StateForm(forms.Form):
    state = forms.ChoiceField(choices=[(s, s) for s in (ErrorGroup.State.ACKNOWLEDGED, ErrorGroup.State.FIXED,
                                                          ErrorGroup.State.IGNORED, ErrorGroup.State.NEW)])


class LinkIncidentForm(forms.Form):
    incident = forms.ModelChoiceField(queryset=Incident.objects.none(), required=False,
                                      empty_label="— no incident —")

    def __init__(self, *args, group, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["incident"].queryset = Incident.objects.filter(service=group.service).order_by("-created_at")
        self.fields["incident"].label_from_instance = lambda i: f"#{i.number} {i.title} ({i.get_status_display()})"


class ActionItemForm(forms.ModelForm):
    """Turn a group into an action item: its fields; the rules are reviews.actions.do_create_action_item's."""

    class Meta:
        model = ActionItem
        fields = ["title", "owner", "due_date", "kind", "priority"]
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, group, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = team_people(group.service.team)
        self.fields["kind"].choices = [(k.value, k.label) for k in (ActionItem.Kind.CORRECTIVE, ActionItem.Kind.PREVENTIVE)]
