from django import forms

from .models import Kind, Overrun


class TimeEntryForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=7 * 24 * 60, widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.CORRECTIVE)
    note = forms.CharField(max_length=2000, required=False)


class TimerForm(forms.Form):
    kind = forms.ChoiceField(choices=Kind.choices, initial=Kind.CORRECTIVE, label="Timer for")


class OverrunAnswerForm(forms.Form):
    reason = forms.ChoiceField(choices=Overrun.Reason.choices, widget=forms.RadioSelect)
    text = forms.CharField(max_length=2000, required=False, label="Other reason")

    def clean(self):
        data = super().clean()
        data["text"] = data.get("text", "").strip()
        if data.get("reason") == Overrun.Reason.OTHER and not data["text"]:
            self.add_error("text", "Say what the other reason is.")
        return data


class AllowanceForm(forms.Form):
    incident_hours = forms.DecimalField(min_value=0.25, max_value=168, decimal_places=2, label="Per-incident allowance (hours)",
                                        help_text="Corrective time on one incident past which a reason is asked.")
