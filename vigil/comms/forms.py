from django import forms

from .models import DEFAULT_REMINDER_MINUTES, DEFAULT_TEMPLATES, Stakeholder, UpdateStatus, address_problem


class StakeholderForm(forms.ModelForm):
    class Meta:
        model = Stakeholder
        fields = ["name", "group", "kind", "address"]
        labels = {"kind": "Send by"}

    def __init__(self, *args, service, **kwargs):
        super().__init__(*args, **kwargs)
        self.service = service

    def clean(self):
        data = super().clean()
        kind, address = data.get("kind"), data.get("address")
        if kind and address:
            problem = address_problem(kind, address)
            if problem:
                self.add_error("address", problem[0].upper() + problem[1:] + ".")
            elif Stakeholder.objects.filter(service=self.service, kind=kind, address=address).exists():
                self.add_error("address", "Already a stakeholder of this service.")
        return data


class UpdateForm(forms.Form):
    status = forms.ChoiceField(choices=UpdateStatus.choices)
    body = forms.CharField(max_length=20000, label="Update", widget=forms.Textarea(attrs={"rows": 6}))


class SettingsForm(forms.Form):
    """Reminder minutes per severity and the wording per status."""

    def __init__(self, *args, comms, **kwargs):
        super().__init__(*args, **kwargs)
        for severity in DEFAULT_REMINDER_MINUTES:
            self.fields[f"minutes_{severity}"] = forms.IntegerField(
                min_value=0, max_value=7 * 24 * 60, initial=comms.minutes_for(severity),
                label=f"{severity.upper()}: remind after (minutes, 0 = never)")
        for status in UpdateStatus:
            self.fields[f"template_{status.value}"] = forms.CharField(
                required=False, max_length=20000, initial=comms.template_for(status.value), label=f"{status.label} template",
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text="Empty: the default." if status.value != "investigating" else
                "Placeholders: $title $service $severity $impact $components $impact_started $impact_summary $next_update. Empty: the default.")

    def settings(self):
        data = self.cleaned_data
        return ({sev: data[f"minutes_{sev}"] for sev in DEFAULT_REMINDER_MINUTES},
                # Browsers send CRLF: normalised, an untouched default compares equal and is not stored.
                {status: data[f"template_{status}"].replace("\r\n", "\n") or DEFAULT_TEMPLATES[status]
                 for status in UpdateStatus.values})
